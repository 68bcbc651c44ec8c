import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings, settingDefinitions } from '../../src/config/settings.js';

describe('settings', () => {
  it('every setting is documented in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = settingDefinitions.filter((d) => !readme.includes(`\`${d.env}\``)).map((d) => d.env);
    expect(missing).toEqual([]);
  });

  it('has laptop defaults', () => {
    const s = loadSettings({}, '/srv/shoebox');
    expect(s.port).toBe(3000);
    expect(s.host).toBe('0.0.0.0');
    expect(s.dataDir).toBe('/srv/shoebox/data');
    expect(s.baseUrl).toBe('http://localhost:3000');
    expect(s.databaseUrl).toBe('sqlite:/srv/shoebox/data/shoebox.sqlite');
    expect(s.maxUploadBytes).toBe(100_000_000);
    expect(s.maxPixels).toBe(100_000_000);
    expect(s.storage).toBe('local');
  });

  it('keeps a base URL path and refuses nonsense with the setting named', () => {
    expect(loadSettings({ SHOEBOX_BASE_URL: 'https://example.com/pics/' }).baseUrl).toBe('https://example.com/pics');
    expect(() => loadSettings({ SHOEBOX_MAX_UPLOAD_SIZE: 'lots' })).toThrow(/SHOEBOX_MAX_UPLOAD_SIZE/);
    expect(() => loadSettings({ SHOEBOX_STORAGE: 'ftp' })).toThrow(/SHOEBOX_STORAGE/);
    expect(loadSettings({ SHOEBOX_ACCEL_REDIRECT: '/_shoebox_files/' }).accelRedirect).toBe('/_shoebox_files');
    expect(() => loadSettings({ SHOEBOX_ACCEL_REDIRECT: 'files' })).toThrow(/SHOEBOX_ACCEL_REDIRECT/);
    expect(() => loadSettings({ SHOEBOX_ACCEL_REDIRECT: '/_files', SHOEBOX_STORAGE: 's3' })).toThrow(/SHOEBOX_ACCEL_REDIRECT/);
  });
});
