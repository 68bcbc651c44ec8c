import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const read = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));

describe('the Node version Shoebox states', () => {
  it('is one every installed package supports, so `npm install` prints no EBADENGINE warning on it', () => {
    const pkg = read('package.json');
    const lock = read('package-lock.json');
    const minimum = semver.minVersion(pkg.engines.node)!.version;
    const refusing = Object.entries(lock.packages as Record<string, { version?: string; engines?: { node?: string } | string[] }>)
      .filter(([, info]) => !Array.isArray(info.engines) && typeof info.engines?.node === 'string')
      .filter(([, info]) => !semver.satisfies(minimum, (info.engines as { node: string }).node))
      .map(([name, info]) => `${name.replace(/^.*node_modules\//, '')}@${info.version} wants node ${(info.engines as { node: string }).node}`);
    // Pin a Node-20-compatible version in package.json `overrides`, or raise `engines` (and the README) honestly.
    expect(refusing).toEqual([]);
    expect(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).toContain(`Node.js ${minimum.replace(/\.0$/, '')} or newer`);
  });
});
