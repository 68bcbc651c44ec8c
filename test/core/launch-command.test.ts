import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** The Node flags a launch command gives before the script it runs. */
function flagsBefore(script: RegExp, words: string[]): string[] {
  const entry = words.findIndex((word) => script.test(word));
  expect(entry, `no ${script} in ${words.join(' ')}`).toBeGreaterThan(0);
  return words.slice(1, entry).filter((word) => word.startsWith('--'));
}

describe('every way of starting the server gives Node the same flags (docs/PERFORMANCE.md)', () => {
  const npmStart = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
  const expected = flagsBefore(/^dist\/cli\/main\.js$/, npmStart);

  it('npm start sets the V8 old-generation size, and node accepts the flags', () => {
    expect(expected).toContain('--initial-old-space-size=128');
    // A mistyped flag makes node refuse to start ("bad option"), which would break npm start.
    expect(execFileSync(process.execPath, [...expected, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' })).toBe('ok');
  });

  it('the Dockerfile, the systemd unit and the shoebox command match npm start', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(flagsBefore(/dist\/cli\/main\.js$/, JSON.parse(cmd!) as string[])).toEqual(expected);

    const execStart = /^ExecStart=(.*)$/m.exec(read('deploy/systemd/shoebox.service'))?.[1];
    expect(flagsBefore(/dist\/cli\/main\.js$/, execStart!.split(/\s+/))).toEqual(expected);

    const shebang = read('bin/shoebox.js').split('\n')[0];
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(shebang.split(/\s+/).slice(3)).toEqual(expected);
  });
});
