import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/core/text.js';
import { formatInZone, howLongAgo } from '../../src/core/dates.js';
import { durationTime, escapeHtml, rawUrlEncode, truncateForDisplay } from '../../src/core/text.js';
import { parseExpiration } from '../../src/ingest/expiration.js';
import { storedNameFor, titleFromFilename, cleanOriginalFilename } from '../../src/ingest/naming.js';
import { parseTags } from '../../src/ingest/ingest-upload.js';

describe('Chevereto value formats', () => {
  it('size_formatted uses decimal units', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(3011299)).toBe('3 MB');
    expect(formatBytes(21212)).toBe('21.2 KB');
    expect(formatBytes(10_000_000)).toBe('10 MB');
    expect(formatBytes(1_500_000_000)).toBe('1.5 GB');
  });

  it('duration_time is MM:SS, empty for 0', () => {
    expect(durationTime(73)).toBe('01:13');
    expect(durationTime(0)).toBe('');
    expect(durationTime(3600)).toBe('60:00');
  });

  it('title_truncated keeps 25 characters and adds ...', () => {
    expect(truncateForDisplay('Badgers animated music video MrWeebl')).toBe('Badgers animated music vi...');
    expect(truncateForDisplay('short')).toBe('short');
    expect(truncateForDisplay(null)).toBe('');
  });

  it('escapes HTML and URL-encodes tags as PHP does', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    expect(rawUrlEncode("rock n' roll (live)*")).toBe('rock%20n%27%20roll%20%28live%29%2A');
  });

  it('dates in the site zone and how_long_ago', () => {
    const d = new Date('2024-10-10T19:58:00Z');
    expect(formatInZone(d, 'America/Sao_Paulo')).toBe('2024-10-10 16:58:00');
    expect(formatInZone(d, 'UTC')).toBe('2024-10-10 19:58:00');
    expect(howLongAgo(d, d)).toBe('moments ago');
    expect(howLongAgo(d, new Date('2024-10-10T19:58:05Z'))).toBe('5 seconds ago');
    expect(howLongAgo(d, new Date('2024-10-10T20:58:00Z'))).toBe('1 hour ago');
    expect(howLongAgo(d, new Date('2024-10-25T19:58:00Z'))).toBe('2 weeks ago');
    expect(howLongAgo(d, new Date('2026-01-01T00:00:00Z'))).toBe('1 year ago');
  });
});

describe('expiration', () => {
  const now = new Date('2024-01-31T12:00:00Z');
  it('takes ISO-8601 durations and seconds', () => {
    expect(parseExpiration('PT5M', now, 0).toISOString()).toBe('2024-01-31T12:05:00.000Z');
    expect(parseExpiration('P3D', now, 0).toISOString()).toBe('2024-02-03T12:00:00.000Z');
    expect(parseExpiration('P1Y2M', now, 0).toISOString()).toBe('2025-03-31T12:00:00.000Z');
    expect(parseExpiration('P2W', now, 0).toISOString()).toBe('2024-02-14T12:00:00.000Z');
    expect(parseExpiration('PT1H30M', now, 0).toISOString()).toBe('2024-01-31T13:30:00.000Z');
    expect(parseExpiration('600', now, 0).toISOString()).toBe('2024-01-31T12:10:00.000Z');
  });
  it('refuses what does not parse, zero, and more than the site allows', () => {
    for (const bad of ['P', 'PT', '5 minutes', '-5', 'P1DT', '0', 'PT0S']) expect(() => parseExpiration(bad, now, 0), bad).toThrow(/expiration/);
    expect(() => parseExpiration('P2D', now, 86400)).toThrow(/expiration/);
  });
});

describe('names and titles from filenames', () => {
  it('follows the example response', () => {
    expect(storedNameFor('Badgers _ animated music video _ MrWeebl.mp4')).toBe('Badgers-animated-music-video');
    expect(titleFromFilename('Badgers _ animated music video _ MrWeebl.mp4')).toBe('Badgers animated music video MrWeebl');
  });
  it('cleans accents, paths and unusable names', () => {
    expect(storedNameFor('Crème brûlée.jpg')).toBe('Creme-brulee');
    expect(cleanOriginalFilename('C:\\fakepath\\photo.png')).toBe('photo.png');
    expect(storedNameFor('스크린샷.png')).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(storedNameFor(cleanOriginalFilename('../../etc/passwd'))).toBe('passwd');
    expect(storedNameFor('averyveryverylongwordthatgoesonandon.png')).toHaveLength(28);
  });
  it('parses comma separated tags, trimmed and without duplicates', () => {
    expect(parseTags(' a, b ,A,,c  d ')).toEqual(['a', 'b', 'c d']);
    expect(parseTags(undefined)).toEqual([]);
  });
});
