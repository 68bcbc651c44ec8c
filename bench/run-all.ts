/**
 * Runs every benchmark and writes docs/PERFORMANCE.md (method, machine, figures, ratios,
 * targets met or missed). `npm run bench`; `npm run bench:smoke` runs each in a tiny mode
 * for seconds (CI uses it so the scripts do not rot; it never gates on figures and writes no
 * docs). Flags: --smoke, --only=ingest,serving, --no-build, --keep.
 *
 * The big listing run: `npm run bench -- --rows=10000000` runs the listing benchmark alone on a
 * table of that size (seeding 10 million rows takes most of its half hour) and writes its own
 * section of docs/PERFORMANCE.md, between `<!-- big-listing:start` and `<!-- big-listing:end -->`;
 * the default run (1,000,000 rows) keeps that section as it is, as it keeps bench/load.ts's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as bigUpload from './big-upload.js';
import * as blocklist from './blocklist.js';
import * as ingest from './ingest.js';
import * as listing from './listing.js';
import { describeMachine } from './lib/machine.js';
import { cleanUp, makeOptions, parseFlags, REPO_ROOT, type BenchOptions } from './lib/options.js';
import { renderSection, verdict, type BenchResult, type TargetCheck } from './lib/report.js';
import { ensureBuilt } from './lib/shoebox.js';
import { FINDINGS } from './findings.js';
import * as pages from './pages.js';
import * as serving from './serving.js';
import * as start from './start.js';

interface Bench {
  id: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

// Start-up first (it is the most sensitive to leftovers of earlier runs), the heavy ones last.
const BENCHES: Bench[] = [
  { id: 'start', run: start.run },
  { id: 'listing', run: listing.run },
  { id: 'blocklist', run: blocklist.run },
  { id: 'pages', run: pages.run },
  { id: 'serving', run: serving.run },
  { id: 'ingest', run: ingest.run },
  { id: 'big-upload', run: bigUpload.run },
];

const flags = parseFlags(process.argv.slice(2));
/** `--rows=N` (not a smoke run): only the listing benchmark, written to its own kept section. */
const bigListing = flags.rows !== null && !flags.smoke;
if (bigListing && flags.only.some((id) => id !== 'listing')) throw new Error('--rows=N runs the listing benchmark alone; drop --only');
const selected = bigListing ? BENCHES.filter((b) => b.id === 'listing') : flags.only.length > 0 ? BENCHES.filter((b) => flags.only.includes(b.id)) : BENCHES;
if (selected.length === 0) throw new Error(`--only matched nothing; benchmarks: ${BENCHES.map((b) => b.id).join(', ')}`);

const startedAt = new Date();
const started = performance.now();
const say = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0)}s] ${m}`);
await ensureBuilt(say, !flags.skipBuild);
const machine = await describeMachine();

const results: BenchResult[] = [];
const failures: { id: string; error: string }[] = [];
for (const bench of selected) {
  say(`${bench.id}${flags.smoke ? ' (smoke)' : ''}`);
  const options = await makeOptions(flags, bench.id);
  try {
    results.push(await bench.run(options));
  } catch (error) {
    failures.push({ id: bench.id, error: (error as Error).stack ?? String(error) });
    say(`${bench.id} failed: ${(error as Error).message}`);
  } finally {
    await cleanUp(options);
  }
}
const totalSeconds = (performance.now() - started) / 1000;

/** The table of every target, and a row for each benchmark that could not run. */
function summaryTable(checks: TargetCheck[]): string[] {
  return [
    '| target | measured | wanted | result |',
    '| --- | --- | --- | --- |',
    ...checks.map((c) => `| ${c.what} | ${c.measured} | ${c.target} | ${verdict(c)} |`),
    ...failures.map((f) => `| ${f.id} | failed to run | | **not measured** |`),
  ];
}

const checks = results.flatMap((r) => r.checks);
const met = checks.filter((c) => c.met === true).length;
const markdown = [
  '# Performance',
  '',
  `Written by \`npm run bench\` (bench/run-all.ts) on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${(totalSeconds / 60).toFixed(1)} minutes${flags.only.length > 0 ? ` (only: ${flags.only.join(', ')})` : ''}. Do not edit by hand: run it again.`,
  '',
  'Every speed figure is a ratio against a reference measured in the same run, on the same files, on the',
  'same machine, alternating with Shoebox, so a noisy or slower machine moves both sides together. Absolute',
  'numbers are shown for scale only. Each benchmark also runs alone: `npx tsx bench/<name>.ts [--smoke]`.',
  '',
  `## Summary: ${met} of ${checks.length} targets met`,
  '',
  ...summaryTable(checks),
  '',
  '## Machine',
  '',
  ...machine.map((m) => `- ${m}`),
  '',
  ...results.map(renderSection),
  ...(failures.length > 0 ? ['## Benchmarks that failed to run', '', ...failures.map((f) => `### ${f.id}\n\n\`\`\`\n${f.error}\n\`\`\`\n`)] : []),
  FINDINGS,
].join('\n');

const KEPT_SECTIONS = [/<!-- big-listing:start[\s\S]*?<!-- big-listing:end -->/, /<!-- load:start[\s\S]*?<!-- load:end -->/];
const reportFile = path.join(REPO_ROOT, 'docs', 'PERFORMANCE.md');

if (bigListing) {
  // Its own section, with its own summary of targets; the rest of the report stays as the last full run wrote it.
  const section = [
    `<!-- big-listing:start (npm run bench -- --rows=N writes this section; the default run keeps it) -->`,
    `## A growing site: ${(flags.rows! / 1e6).toLocaleString('en-US')} million rows`,
    '',
    `Written by \`npm run bench -- --rows=${flags.rows}\` on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${(totalSeconds / 60).toFixed(1)} minutes (commit ${machine.find((m) => m.startsWith('Shoebox: commit'))?.slice('Shoebox: commit '.length) ?? 'unknown'}): the listing benchmark alone, the same method as its section above, on a bigger table. ${met} of ${checks.length} targets met.`,
    '',
    ...summaryTable(checks),
    '',
    ...results.map((r) => renderSection({ ...r, title: `${r.title} (${flags.rows!.toLocaleString('en-US')} rows)` }).replace(/^## /gm, '### ')),
    ...failures.map((f) => `\`\`\`\n${f.error}\n\`\`\`\n`),
    '<!-- big-listing:end -->',
  ].join('\n');
  const previous = await readFile(reportFile, 'utf8').catch(() => '');
  const at = /<!-- big-listing:start[\s\S]*?<!-- big-listing:end -->/.exec(previous);
  const loadAt = previous.indexOf('<!-- load:start');
  const next = at
    ? `${previous.slice(0, at.index)}${section}${previous.slice(at.index + at[0].length)}`
    : loadAt >= 0
      ? `${previous.slice(0, loadAt)}${section}\n\n${previous.slice(loadAt)}`
      : `${previous.trimEnd()}\n\n${section}\n`;
  await writeFile(reportFile, next);
  say(`wrote the big-listing section of docs/PERFORMANCE.md: ${met} of ${checks.length} targets met, ${(totalSeconds / 60).toFixed(1)} min`);
} else if (flags.smoke) {
  // Smoke figures mean nothing; keep the docs as the last full run wrote them.
  const file = path.join(tmpdir(), 'shoebox-bench-smoke.md');
  await writeFile(file, markdown);
  say(`smoke run done in ${totalSeconds.toFixed(0)} s: ${results.length} ran, ${failures.length} failed (report: ${file})`);
} else {
  // The big-listing section (--rows=N) and the Load section (bench/load.ts, npm run load) are
  // written by runs of their own: keep them.
  const previous = await readFile(reportFile, 'utf8').catch(() => '');
  const kept = KEPT_SECTIONS.map((re) => re.exec(previous)?.[0]).filter((k): k is string => k !== undefined);
  await writeFile(reportFile, [markdown.trimEnd(), ...kept].join('\n\n') + '\n');
  say(`wrote docs/PERFORMANCE.md: ${met} of ${checks.length} targets met, ${failures.length} benchmark(s) failed, ${(totalSeconds / 60).toFixed(1)} min`);
  if (totalSeconds > 600) say('warning: the run took longer than the 10 minutes it is meant to fit in');
}
for (const c of checks) console.log(`${c.met === null ? '?' : c.met ? 'met   ' : 'MISSED'}  ${c.what}: ${c.measured} (${c.target})`);
// Figures never fail the run; a benchmark that cannot run at all does (that is what the smoke run catches).
process.exitCode = failures.length > 0 ? 1 : 0;
