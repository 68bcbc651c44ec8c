import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_ENTRY = path.join(PROJECT_ROOT, 'src/cli/main.ts');
const BUILT_CLI_ENTRY = path.join(PROJECT_ROOT, 'dist/cli/main.js');

/** Node with tsx, to run the TypeScript sources as the `shoebox` command does from dist/. */
export function nodeWithTsx(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', ...args] };
}

let builtIsCurrent: boolean | undefined;
/** Whether dist/ was compiled after the last change under src/ (always so after `npm ci`). */
function builtCliIsCurrent(): boolean {
  if (builtIsCurrent !== undefined) return builtIsCurrent;
  if (!existsSync(BUILT_CLI_ENTRY)) return (builtIsCurrent = false);
  const builtAt = statSync(BUILT_CLI_ENTRY).mtimeMs;
  const src = path.join(PROJECT_ROOT, 'src');
  builtIsCurrent = readdirSync(src, { recursive: true, encoding: 'utf8' }).every(
    (name) => !name.endsWith('.ts') || statSync(path.join(src, name)).mtimeMs <= builtAt,
  );
  return builtIsCurrent;
}

/**
 * The `shoebox` command with ARGS as a child process: the compiled dist/cli/main.js (what
 * `npx shoebox` runs) when dist/ is current, otherwise the sources through tsx. Starting tsx
 * costs a second or more of CPU per command, which adds up to minutes over the CLI suites.
 */
export function shoeboxCommand(args: string[]): { command: string; args: string[] } {
  return builtCliIsCurrent() ? { command: process.execPath, args: [BUILT_CLI_ENTRY, ...args] } : nodeWithTsx([CLI_ENTRY, ...args]);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `shoebox ARGS` in a child process with exactly the given settings (plus PATH and HOME). */
export function runShoebox(args: string[], env: Record<string, string>): Promise<CliResult> {
  const { command, args: fullArgs } = shoeboxCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, fullArgs, {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SHOEBOX_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `shoeboxCommand` as the (file, args) pair `execFile` takes. */
export function shoeboxExecArgs(args: string[]): [string, string[]] {
  const { command, args: fullArgs } = shoeboxCommand(args);
  return [command, fullArgs];
}
