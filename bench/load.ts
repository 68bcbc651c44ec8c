/**
 * Load (issue 13): 50 uploaders posting photos through the API without pause for 60 s, mixed
 * with readers of viewer pages, listings and files, against `npm start` on 127.0.0.1: once on
 * SQLite with local storage, once on PostgreSQL with S3 (a throwaway radosgw). Every answer must
 * be a success; afterwards `shoebox doctor` must find every row with its files and every file
 * with its row. The figures go into docs/PERFORMANCE.md (section "Load"); it ends by itself.
 *
 *   npm run load -- [--seconds 60] [--uploaders 50] [--readers 20] [--only sqlite|postgres-s3] [--no-build]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { REPO_ROOT } from './lib/options.js';
import { memoryOf } from './lib/processes.js';
import { cli, createUserWithKey, ensureBuilt, startShoebox, type RunningShoebox } from './lib/shoebox.js';
import { createPostgresDatabase, postgresSkipReason } from '../test/support/databases.js';
import { s3TestSkipReason, startS3ForTests } from '../test/support/s3.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    uploaders: { type: 'string', default: '50' },
    readers: { type: 'string', default: '20' },
    only: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const UPLOADERS = Number(values.uploaders);
const READERS = Number(values.readers);
const say = (m: string) => console.log(`[load] ${m}`);

interface Kind {
  count: number;
  errors: string[];
  ms: number[];
  bytes: number;
}

const newKind = (): Kind => ({ count: 0, errors: [], ms: [], bytes: 0 });

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Photo-like JPEGs (noise compresses like a photo does), 0.2–0.6 MB. */
async function photos(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < 8; i++) {
    const width = 1200 + i * 100;
    const height = 900;
    const noise = Buffer.alloc(width * height * 3);
    for (let j = 0; j < noise.length; j++) noise[j] = (j * 2654435761 + i * 97) & 0xff;
    out.push(await sharp(noise, { raw: { width, height, channels: 3 } }).blur(1.2).jpeg({ quality: 80 }).toBuffer());
  }
  return out;
}

interface SetupResult {
  name: string;
  seconds: number;
  uploads: Kind;
  pages: Kind;
  files: Kind;
  rssPeakMb: number;
  doctor: string;
}

async function timed(kind: Kind, run: () => Promise<Response>): Promise<void> {
  const started = performance.now();
  try {
    const res = await run();
    const body = await res.arrayBuffer();
    kind.count++;
    kind.bytes += body.byteLength;
    kind.ms.push(performance.now() - started);
    if (res.status !== 200) kind.errors.push(`${res.status} ${new TextDecoder().decode(body).slice(0, 200)}`);
  } catch (error) {
    kind.count++;
    kind.errors.push(String(error));
  }
}

async function drive(server: RunningShoebox, key: string, name: string): Promise<SetupResult> {
  const files = await photos();
  // Something to read from the first second on.
  const viewers: string[] = [];
  const fileUrls: string[] = [];
  const remember = (json: { image?: { url_viewer: string; url: string; thumb: { url: string } } }) => {
    if (!json.image) return;
    viewers.push(new URL(json.image.url_viewer).pathname);
    fileUrls.push(new URL(json.image.url).pathname, new URL(json.image.thumb.url).pathname);
  };
  for (let i = 0; i < 10; i++) {
    const form = new FormData();
    form.append('tags', 'load');
    form.append('source', new Blob([new Uint8Array(files[i % files.length])]), `seed-${i}.jpg`);
    remember(await (await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: form, headers: { 'X-API-Key': key } })).json());
  }

  const uploads = newKind();
  const pages = newKind();
  const fileReads = newKind();
  const deadline = Date.now() + SECONDS * 1000;
  let rssPeak = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, memoryOf(server.child.pid).rss)), 250);
  const started = Date.now();

  const uploader = async (n: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const form = new FormData();
      form.append('title', `Load ${n}-${i}`);
      form.append('tags', `load,uploader${n}`);
      form.append('source', new Blob([new Uint8Array(files[(n + i) % files.length])]), `load-${n}-${i}.jpg`);
      const before = uploads.errors.length;
      await timed(uploads, async () => {
        const res = await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: form, headers: { 'X-API-Key': key } });
        if (res.status === 200) {
          const text = await res.clone().text();
          remember(JSON.parse(text));
        }
        return res;
      });
      if (uploads.errors.length > before) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const pageReader = async (n: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const pick = (i + n) % 5;
      const target = pick === 0 ? '/' : pick === 1 ? '/explore' : pick === 2 ? '/tag/load' : viewers[(i * 7 + n) % viewers.length];
      await timed(pages, () => fetch(`${server.url}${target}`, { headers: { 'Accept-Language': n % 2 ? 'ko' : 'en' } }));
    }
  };
  const fileReader = async (n: number) => {
    for (let i = 0; Date.now() < deadline; i++) await timed(fileReads, () => fetch(`${server.url}${fileUrls[(i * 13 + n) % fileUrls.length]}`));
  };
  await Promise.all([
    ...Array.from({ length: UPLOADERS }, (_, n) => uploader(n)),
    ...Array.from({ length: Math.ceil(READERS / 2) }, (_, n) => pageReader(n)),
    ...Array.from({ length: Math.floor(READERS / 2) }, (_, n) => fileReader(n)),
  ]);
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  const doctor = (await cli(server.env, ['doctor']).catch((error: { stdout?: string; message: string }) => error.stdout ?? error.message)).trim();
  return { name, seconds, uploads, pages, files: fileReads, rssPeakMb: rssPeak / 1e6, doctor };
}

function row(label: string, kind: Kind, seconds: number, unit = 'req/s'): string {
  return `| ${label} | ${kind.count} | ${(kind.count / seconds).toFixed(1)} ${unit} | ${percentile(kind.ms, 50).toFixed(0)} | ${percentile(kind.ms, 95).toFixed(0)} | ${percentile(kind.ms, 99).toFixed(0)} | ${kind.errors.length} |`;
}

function section(results: SetupResult[], load: number[]): string {
  const lines = [
    '<!-- load:start (bench/load.ts writes this section; run-all keeps it) -->',
    '## Load: 50 uploaders with readers (bench/load.ts)',
    '',
    `${UPLOADERS} clients upload photo-like JPEGs (0.2–0.6 MB, 1200–1900 × 900) through the API back to back for ${SECONDS} s, while ${Math.ceil(READERS / 2)} clients read viewer pages, the home page, explore and a tag page and ${Math.floor(READERS / 2)} read originals and thumbs; all on 127.0.0.1 against \`npm start\`. Latencies in ms. Afterwards \`shoebox doctor\` checks every row against its files.`,
    '',
    `**Taken on a shared machine** (${cpus().length} cores, load average ${load.map((l) => l.toFixed(1)).join(' / ')} at the start) while other work ran on it: the figures are a floor, not what the code does on a quiet machine. What they do show: no errors, and no file or row left over.`,
    '',
  ];
  for (const r of results) {
    lines.push(`### ${r.name}`, '', '| traffic | requests | rate | p50 | p95 | p99 | errors |', '| --- | --- | --- | --- | --- | --- | --- |');
    lines.push(row('uploads', r.uploads, r.seconds, 'uploads/s'), row('pages', r.pages, r.seconds), row('files', r.files, r.seconds));
    lines.push('', `Server memory (RSS) peaked at ${r.rssPeakMb.toFixed(0)} MB. \`shoebox doctor\`: ${r.doctor.split('\n').pop()}.`, '');
    const errors = [...r.uploads.errors, ...r.pages.errors, ...r.files.errors];
    if (errors.length > 0) lines.push('Errors (first 5):', '', ...errors.slice(0, 5).map((e) => `- \`${e.replace(/`/g, "'")}\``), '');
  }
  lines.push('<!-- load:end -->');
  return lines.join('\n');
}

async function main(): Promise<number> {
  await ensureBuilt(say, !values['no-build']);
  const load = loadavg();
  const results: SetupResult[] = [];
  const common = { SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_MAX_CONNECTIONS_PER_IP: '0', SHOEBOX_LOG_LEVEL: 'warn', SHOEBOX_SWEEP_INTERVAL: '10' };
  const work = await mkdtemp(path.join(tmpdir(), 'shoebox-load-'));
  try {
    if (!values.only || values.only === 'sqlite') {
      const dataDir = path.join(work, 'sqlite');
      const server = await startShoebox({ dataDir, logFile: path.join(work, 'sqlite.log'), env: common });
      try {
        const key = await createUserWithKey(server.env, 'loader');
        say(`SQLite + local storage at ${server.url}: ${SECONDS} s`);
        results.push(await drive(server, key, 'SQLite, local storage'));
      } finally {
        await server.stop();
      }
    }
    if (!values.only || values.only === 'postgres-s3') {
      const skip = s3TestSkipReason() ?? (await postgresSkipReason());
      if (skip) say(`PostgreSQL + S3 skipped: ${skip}`);
      else {
        const s3 = await startS3ForTests();
        const database = await createPostgresDatabase();
        try {
          const bucket = `shoebox-load-${Date.now().toString(36)}`;
          const { ensureBucket } = await import('../src/storage/s3.js');
          await ensureBucket({ bucket, prefix: '', region: 'us-east-1', endpoint: s3!.endpoint, forcePathStyle: true, accessKeyId: s3!.accessKeyId, secretAccessKey: s3!.secretAccessKey, multipartThreshold: 16e6 });
          const env = {
            ...common,
            SHOEBOX_DATABASE_URL: database.url,
            SHOEBOX_STORAGE: 's3',
            SHOEBOX_S3_BUCKET: bucket,
            SHOEBOX_S3_ENDPOINT: s3!.endpoint,
            SHOEBOX_S3_ACCESS_KEY_ID: s3!.accessKeyId,
            SHOEBOX_S3_SECRET_ACCESS_KEY: s3!.secretAccessKey,
          };
          const server = await startShoebox({ dataDir: path.join(work, 'pg'), logFile: path.join(work, 'pg.log'), env });
          try {
            const key = await createUserWithKey(server.env, 'loader');
            say(`PostgreSQL + S3 at ${server.url}: ${SECONDS} s`);
            results.push(await drive(server, key, 'PostgreSQL, S3 (radosgw)'));
          } finally {
            await server.stop();
          }
        } finally {
          await database.drop();
          await s3?.stop();
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const markdown = section(results, load);
  console.log(markdown);
  if (!values['no-docs'] && SECONDS >= 60) {
    const file = path.join(REPO_ROOT, 'docs', 'PERFORMANCE.md');
    const current = await readFile(file, 'utf8');
    const start = current.indexOf('<!-- load:start');
    const end = current.indexOf('<!-- load:end -->');
    const next = start >= 0 && end > start ? `${current.slice(0, start)}${markdown}${current.slice(end + '<!-- load:end -->'.length)}` : `${current.trimEnd()}\n\n${markdown}\n`;
    await writeFile(file, next);
    say('wrote the Load section of docs/PERFORMANCE.md');
  }
  const failed = results.some((r) => r.uploads.errors.length + r.pages.errors.length + r.files.errors.length > 0 || !/everything is in order/.test(r.doctor));
  say(failed ? 'FAILED: errors or leftovers (see above)' : 'no errors, nothing left over');
  return failed ? 1 : 0;
}

process.exit(await main());
