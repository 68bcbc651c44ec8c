import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_ENTRY = path.join(PROJECT_ROOT, 'src/cli/main.ts');

/** Node with tsx, to run the TypeScript sources as the `shoebox` command does from dist/. */
export function nodeWithTsx(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', ...args] };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `shoebox ARGS` in a child process with exactly the given settings (plus PATH and HOME). */
export function runShoebox(args: string[], env: Record<string, string>): Promise<CliResult> {
  const { command, args: fullArgs } = nodeWithTsx([CLI_ENTRY, ...args]);
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
