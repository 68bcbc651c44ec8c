import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How a benchmark runs. `smoke` shrinks every size and duration so the whole suite takes
 * seconds (CI runs it only to keep the scripts from rotting; its figures mean nothing).
 */
export interface BenchOptions {
  smoke: boolean;
  /** A scratch folder of this run; removed afterwards unless `keep`. */
  workDir: string;
  keep: boolean;
  /** `--rows=N`: the listing benchmark's table size instead of its default (1,000,000; 20,000 in a smoke run). */
  rows: number | null;
  log(message: string): void;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function parseFlags(argv: string[]): { smoke: boolean; keep: boolean; only: string[]; skipBuild: boolean; rows: number | null } {
  const flags = { smoke: false, keep: false, only: [] as string[], skipBuild: false, rows: null as number | null };
  for (const arg of argv) {
    if (arg === '--smoke') flags.smoke = true;
    else if (arg === '--keep') flags.keep = true;
    else if (arg === '--no-build') flags.skipBuild = true;
    else if (arg.startsWith('--only=')) flags.only.push(...arg.slice(7).split(',').filter(Boolean));
    else if (/^--rows=\d+$/.test(arg)) flags.rows = Number(arg.slice(7));
    else throw new Error(`unknown flag ${arg} (known: --smoke, --keep, --no-build, --only=a,b, --rows=N)`);
  }
  return flags;
}

export async function makeOptions(flags: { smoke: boolean; keep: boolean; rows?: number | null }, label: string): Promise<BenchOptions> {
  const workDir = await mkdtemp(path.join(tmpdir(), `shoebox-bench-${label}-`));
  const started = Date.now();
  return {
    smoke: flags.smoke,
    keep: flags.keep,
    rows: flags.rows ?? null,
    workDir,
    log: (message) => console.error(`[${label} +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`),
  };
}

export async function cleanUp(options: BenchOptions): Promise<void> {
  if (options.keep) options.log(`kept ${options.workDir}`);
  else await rm(options.workDir, { recursive: true, force: true });
}

/** True when `moduleUrl` is the script node was started with (`npx tsx bench/ingest.ts`). */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && path.resolve(entry) === fileURLToPath(moduleUrl);
}
