import { cleanUp, isMainModule, makeOptions, parseFlags, type BenchOptions } from './options.js';
import { renderSection, type BenchResult } from './report.js';
import { ensureBuilt } from './shoebox.js';

/**
 * Lets a benchmark script also run on its own (`npx tsx bench/<name>.ts [--smoke] [--keep]`):
 * when `moduleUrl` is the script node started, runs it and prints its report section.
 */
export async function runWhenMain(moduleUrl: string, label: string, run: (options: BenchOptions) => Promise<BenchResult>): Promise<void> {
  if (!isMainModule(moduleUrl)) return;
  const options = await makeOptions(parseFlags(process.argv.slice(2)), label);
  try {
    await ensureBuilt(options.log, false);
    console.log(renderSection(await run(options)));
  } finally {
    await cleanUp(options);
  }
}

/** Seconds since `started` (a performance.now() reading): how long a benchmark took. */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
