/**
 * Listing: p50/p99 of a user's newest-first page (`images WHERE user_id = ? ORDER BY id DESC`,
 * keyset `id < cursor`) at page 1 and at page 5,000, with 1,000,000 images in SQLite (and the same
 * rows in PostgreSQL) seeded by a bulk insert straight into the database; the web site's search by
 * title (trigram FTS5 index / pg_trgm, 0004_search_privacy) with no hits and with hits; explore's
 * popular tab (keyset on (views, id), 0017_browse_keysets) at page 1 and page 5,000; and the /tags
 * page's read (the 200 most used tags: running counts kept by triggers, 0019_tag_use_counts, checked
 * against the full aggregate over the tag links they replaced). Target: p99
 * < 15 ms for a page, < 1 s for the tag aggregate; each SQLite query plan must walk an index
 * (checked with EXPLAIN), and each statement of PostgreSQL's title search is explained as sent
 * (captured from a traced Kysely): a bounded walk down an index, then a GIN bitmap, never a
 * walk of images_pkey. Without --smoke it seeds 1,000,000 rows: do not run it on a loaded machine.
 *
 *   npx tsx bench/listing.ts [--smoke] [--keep] [--rows=10000000]
 *
 * `--rows=N` seeds N rows instead of 1,000,000 (the 10-million-row run: seeding grows with the
 * table, about 50 s per million rows on the 2-core bench machine, so roughly 10 minutes and 4 GB of
 * disk for 10M; docs/PERFORMANCE.md). The default run stays short.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { REPO_ROOT, type BenchOptions } from './lib/options.js';
import { runWhenMain, secondsSince } from './lib/run-alone.js';
import { fmt, percentile, valueBelow, type BenchResult, type TargetCheck } from './lib/report.js';

/** Seconds of timed calls per database at most (see measure), and the calls per query made whatever the time. */
const TIMING_BUDGET_S = 60;
const MIN_CALLS = 200;
/** The web site's page size (src/web/pagination.ts PAGE_SIZE). */
const PAGE_SIZE = 24;
const USERS = 100;
/** Share of all rows that belong to the measured user, spread through the table. */
const MEASURED_USER_SHARE = 0.3;

type AnyDb = Kysely<any>;
interface DatabaseHandle {
  db: AnyDb;
  dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;
}
/** Search texts: [label, text]. */
const SEARCHES: [string, string][] = [['no hits', 'sunset over the sea'], ['with hits', 'photo 12'], ['one old hit, common trigrams', 'photo 123456']];
type ListImages = (db: AnyDb, listing: unknown, page: { before?: number | null; limit: number }) => Promise<{ items: unknown[] }>;
type PopularCursor = { views: number; id: number };
type ListPopular = (db: AnyDb, request: { before?: PopularCursor | null; limit: number }, type?: 'image' | 'video') => Promise<{ items: unknown[]; olderCursor: PopularCursor | null }>;
type MostUsedTags = (db: AnyDb, limit: number) => Promise<{ name: string; uses: number }[]>;
/** Tags in the seed: every third image carries one, chosen by a skewed rule so a few are common. */
const TAG_COUNT = 500;
/** The /tags page's size (src/web/routes/browse-routes.ts TAGS_SHOWN). */
const TAGS_SHOWN = 200;
/** The /tags page's query (mostUsedTags): the first entries of tags_uses_name (0019_tag_use_counts). */
const TAGS_QUERY = `SELECT name, uses FROM tags WHERE uses > 0 ORDER BY uses DESC, name LIMIT ${TAGS_SHOWN}`;
/** What it answered before 0019, the aggregate over every tag link (without its expiry test): each tag's count must equal it. */
const TAGS_RECOUNT = `SELECT tags.name, count(*) AS uses FROM image_tags CROSS JOIN images INNER JOIN tags ON tags.id = image_tags.tag_id WHERE images.id = image_tags.image_id AND images.listed = 1 GROUP BY image_tags.tag_id, tags.name ORDER BY uses DESC, tags.name LIMIT ${TAGS_SHOWN}`;
/** Seeding the tag links: how many, and the time they took (each one also counting its tag). */
export interface TagLinkSeed {
  links: number;
  seconds: number;
  cpuSeconds: number;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** The running counts must be what the full aggregate finds, tag for tag. */
function checkTagCounts(label: string, counted: { name: string; uses: unknown }[], recounted: { name: string; uses: unknown }[]): void {
  const a = counted.map((r) => `${r.name}:${Number(r.uses)}`).join(',');
  const b = recounted.map((r) => `${r.name}:${Number(r.uses)}`).join(',');
  if (a !== b) throw new Error(`${label}: the tags' running counts differ from the aggregate over their links`);
}

async function loadDist() {
  const dist = (p: string) => pathToFileURL(path.join(REPO_ROOT, 'dist', p)).href;
  const database = (await import(dist('db/database.js'))) as { openDatabase(url: string): DatabaseHandle };
  const migrate = (await import(dist('db/migrate.js'))) as { migrateToLatest(handle: DatabaseHandle): Promise<void> };
  let listImages: ListImages | null = null;
  let browse: { listPopular: ListPopular; mostUsedTags: MostUsedTags } | null = null;
  try {
    listImages = ((await import(dist('db/repositories/listings.js'))) as { listImages?: ListImages }).listImages ?? null;
    const module = (await import(dist('db/repositories/browse.js'))) as { listPopular?: ListPopular; mostUsedTags?: MostUsedTags };
    // The keyset popular (an object request) of 0017; an older build's takes a page number.
    if (module.listPopular && module.mostUsedTags && module.listPopular.length >= 2) browse = { listPopular: module.listPopular, mostUsedTags: module.mostUsedTags };
  } catch {
    // not built yet: only the plain query is measured
  }
  return { openDatabase: database.openDatabase, migrateToLatest: migrate.migrateToLatest, listImages, browse };
}

/** A small deterministic generator, so every run seeds the same table. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the seed writes in every NOT NULL column without a default (and a title), for row `i` of user `user`. */
const COLUMN_VALUES: Record<string, (i: number, user: number) => unknown> = {
  user_id: (_i, user) => user,
  folder: () => '2025/01/01',
  name: (i) => `n${i.toString(36)}`,
  extension: () => 'jpg',
  mime: () => 'image/jpeg',
  type: () => 'image',
  size: (i) => 50_000 + (i % 5_000_000),
  width: () => 4000,
  height: () => 3000,
  md5: (i) => i.toString(16).padStart(32, '0'),
  title: (i) => `Photo ${i}`,
  original_filename: (i) => `IMG_${i}.jpg`,
  chain: () => 7,
  derivative_extension: () => 'jpg',
  uploader_ip: () => '127.0.0.1',
  date_gmt: (i) => new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString().slice(0, 19).replace('T', ' '),
  delete_hash: (i) => i.toString(16).padStart(64, '0'),
  // Views spread 0..9,999 (a multiplicative hash of the row number): popular's order is not id order.
  views: (i) => (Math.imul(i + 1, 2654435761) >>> 0) % 10_000,
};

/** The owner of each row in turn: the measured user (the first) for MEASURED_USER_SHARE of them, the same sequence on both databases. */
function ownerSequence(userIds: number[]): () => number {
  const random = mulberry32(7);
  return () => (random() < MEASURED_USER_SHARE ? userIds[0] : userIds[1 + Math.floor(random() * (USERS - 1))]);
}

function checkColumns(missing: string[]): void {
  if (missing.length > 0) throw new Error(`the seed does not fill images.${missing.join(', ')}: add it to COLUMN_VALUES in bench/listing.ts`);
}

const now = () => new Date().toISOString().slice(0, 19).replace('T', ' ');

/**
 * Bulk insert through one prepared statement in large transactions, with every index of the
 * real schema in place (so the indexes are built the way a site grows them).
 */
export function seedSqlite(file: string, rows: number, log: (m: string) => void): { measuredUser: number; userRows: number; tagLinks: TagLinkSeed } {
  const sqlite = new SqliteDatabase(file);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = OFF');
    const insertUser = sqlite.prepare('INSERT INTO users (username, email, password_hash, is_admin, created_at) VALUES (?, ?, ?, 0, ?)');
    const userIds: number[] = [];
    sqlite.transaction(() => {
      for (let u = 0; u < USERS; u++) userIds.push(Number(insertUser.run(`user${u}`, `user${u}@example.test`, 'not-a-real-hash', now()).lastInsertRowid));
    })();
    const columns = (sqlite.prepare('PRAGMA table_info(images)').all() as { name: string; notnull: number; dflt_value: unknown; pk: number }[]);
    checkColumns(columns.filter((c) => c.notnull && c.dflt_value === null && !c.pk && !(c.name in COLUMN_VALUES)).map((c) => c.name));
    const names = Object.keys(COLUMN_VALUES);
    const insert = sqlite.prepare(`INSERT INTO images (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
    const ownerOf = ownerSequence(userIds);
    const measuredUser = userIds[0];
    let userRows = 0;
    const batch = 50_000;
    for (let start = 0; start < rows; start += batch) {
      sqlite.transaction(() => {
        for (let i = start; i < Math.min(rows, start + batch); i++) {
          const user = ownerOf();
          if (user === measuredUser) userRows++;
          insert.run(...names.map((n) => COLUMN_VALUES[n](i, user)));
        }
      })();
      if ((start / batch) % 5 === 4) log(`sqlite: seeded ${fmt((start + batch) / 1e3, 0)}k rows`);
    }
    // Tags: every third image carries one; tag k is used about 1/(k+1) as often as tag 0 (a long tail, as on a real site).
    const random = mulberry32(11);
    const insertTag = sqlite.prepare('INSERT INTO tags (name) VALUES (?)');
    const tagIds: number[] = [];
    sqlite.transaction(() => {
      for (let k = 0; k < TAG_COUNT; k++) tagIds.push(Number(insertTag.run(`tag${k}`).lastInsertRowid));
    })();
    const imageIds = sqlite.prepare('SELECT id FROM images ORDER BY id').pluck().all() as number[];
    const insertImageTag = sqlite.prepare('INSERT INTO image_tags (image_id, tag_id) VALUES (?, ?)');
    // Each link also counts its tag (0019_tag_use_counts: a trigger on image_tags): timed on its own.
    const linksStarted = performance.now();
    const linksCpu = process.cpuUsage();
    let links = 0;
    for (let start = 0; start < imageIds.length; start += batch) {
      sqlite.transaction(() => {
        for (let j = start; j < Math.min(imageIds.length, start + batch); j++) {
          if (j % 3 !== 0) continue;
          const k = Math.min(TAG_COUNT - 1, Math.floor(1 / (random() + 1 / TAG_COUNT)) - 1);
          insertImageTag.run(imageIds[j], tagIds[Math.max(0, k)]);
          links++;
        }
      })();
    }
    const tagLinks = { links, seconds: (performance.now() - linksStarted) / 1000, cpuSeconds: cpuSecondsSince(linksCpu) };
    log(`sqlite: ${fmt(links, 0)} tag links in ${fmt(tagLinks.seconds, 1)} s (${fmt(links / tagLinks.cpuSeconds / 1e3, 0)}k rows per CPU-second of this process)`);
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    return { measuredUser, userRows, tagLinks };
  } finally {
    sqlite.close();
  }
}

/** CPU seconds a local PostgreSQL backend has used (/proc/<pid>/stat utime + stime), or null when it cannot be read. */
function backendCpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** PostgreSQL array types of the column types the seed fills. */
const PG_ARRAY_TYPE: Record<string, string> = { integer: 'int4[]', bigint: 'int8[]', text: 'text[]' };

/**
 * The same rows into PostgreSQL (the real schema, all migrations, every index in place): batches of
 * 20,000 rows as one `INSERT … SELECT FROM unnest(<one array per column>)`, then ANALYZE (what
 * autovacuum does on a live site) so the planner knows the table. Past a million rows the title's
 * trigram index is dropped for the load and made again after it; the title grams (0020) are always
 * made after it.
 */
export async function seedPostgres(url: string, rows: number, log: (m: string) => void): Promise<{ measuredUser: number; userRows: number; tagLinks: TagLinkSeed }> {
  // The fill of title_grams as its migration does it (a build before 0020 has none).
  const fillTitleGrams = await import(pathToFileURL(path.join(REPO_ROOT, 'dist', 'db/migrations/0020_title_grams.js')).href)
    .then((m: { FILL_TITLE_GRAMS?: string }) => m.FILL_TITLE_GRAMS ?? null, () => null);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const userIds: number[] = [];
    for (let u = 0; u < USERS; u++) {
      const res = await client.query('INSERT INTO users (username, email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, 0, $4) RETURNING id', [`user${u}`, `user${u}@example.test`, 'not-a-real-hash', now()]);
      userIds.push(Number(res.rows[0].id));
    }
    const columns = (await client.query("SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_name = 'images' AND table_schema = current_schema()")).rows as { column_name: string; data_type: string; is_nullable: string; column_default: string | null }[];
    checkColumns(columns.filter((c) => c.is_nullable === 'NO' && c.column_default === null && c.column_name !== 'id' && !(c.column_name in COLUMN_VALUES)).map((c) => c.column_name));
    const names = Object.keys(COLUMN_VALUES);
    const types = names.map((n) => PG_ARRAY_TYPE[columns.find((c) => c.column_name === n)!.data_type] ?? 'text[]');
    const insert = `INSERT INTO images (${names.join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}`).join(', ')})`;
    const ownerOf = ownerSequence(userIds);
    const measuredUser = userIds[0];
    let userRows = 0;
    // Past a million rows the title's trigram index is made after the load (its definition as the
    // migrations leave it, read back from pg_indexes): GIN updated row by row, without a pending
    // list (0018), would add about 90 µs per row, a quarter of an hour at 10 million.
    const titleIndex = rows > 1_000_000
      ? ((await client.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'images_title_trgm' AND schemaname = current_schema()")).rows[0] as { indexdef: string } | undefined)?.indexdef
      : undefined;
    if (titleIndex) await client.query('DROP INDEX images_title_trgm');
    // The title grams (0020_title_grams) are made after the load too, its trigger off meanwhile:
    // one sorted build instead of eleven inserts into two B-trees per row.
    const titleGrams = fillTitleGrams !== null && (await client.query("SELECT to_regclass('title_grams') IS NOT NULL AS present")).rows[0].present === true;
    if (titleGrams) {
      await client.query('ALTER TABLE images DISABLE TRIGGER title_grams_sync');
      await client.query('ALTER TABLE title_grams DROP CONSTRAINT title_grams_pkey');
      await client.query('DROP INDEX title_grams_image');
    }
    const batch = 20_000;
    for (let start = 0; start < rows; start += batch) {
      const arrays: unknown[][] = names.map(() => []);
      for (let i = start; i < Math.min(rows, start + batch); i++) {
        const user = ownerOf();
        if (user === measuredUser) userRows++;
        for (let c = 0; c < names.length; c++) arrays[c].push(COLUMN_VALUES[names[c]](i, user));
      }
      await client.query(insert, arrays);
      if ((start / batch) % 25 === 24) log(`postgres: seeded ${fmt((start + batch) / 1e3, 0)}k rows`);
    }
    // The same tags on the same images as on SQLite, 20,000 links per statement (the count trigger runs once per statement).
    const random = mulberry32(11);
    const tagIds = (await client.query(`INSERT INTO tags (name) SELECT 'tag' || k FROM generate_series(0, ${TAG_COUNT - 1}) k ORDER BY k RETURNING id`)).rows.map((r: { id: string }) => Number(r.id)).sort((a, b) => a - b);
    const imageIds = (await client.query({ text: 'SELECT id FROM images ORDER BY id', rowMode: 'array' })).rows.map((r: string[]) => Number(r[0]));
    const backend = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const backendCpu = () => backendCpuSeconds(backend);
    const linksStarted = performance.now();
    const cpuBefore = backendCpu();
    let links = 0;
    for (let start = 0; start < imageIds.length; start += batch) {
      const images: number[] = [];
      const tags: number[] = [];
      for (let j = start; j < Math.min(imageIds.length, start + batch); j++) {
        if (j % 3 !== 0) continue;
        const k = Math.min(TAG_COUNT - 1, Math.floor(1 / (random() + 1 / TAG_COUNT)) - 1);
        images.push(imageIds[j]);
        tags.push(tagIds[Math.max(0, k)]);
      }
      await client.query('INSERT INTO image_tags (image_id, tag_id) SELECT * FROM unnest($1::int8[], $2::int8[])', [images, tags]);
      links += images.length;
    }
    const cpuAfter = backendCpu();
    const tagLinks = { links, seconds: (performance.now() - linksStarted) / 1000, cpuSeconds: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : Number.NaN };
    log(`postgres: ${fmt(links, 0)} tag links in ${fmt(tagLinks.seconds, 1)} s (${fmt(links / tagLinks.cpuSeconds / 1e3, 0)}k rows per CPU-second of the server's backend)`);
    if (titleIndex) {
      log('postgres: making the title trigram index');
      await client.query("SET maintenance_work_mem = '512MB'");
      await client.query(titleIndex);
    }
    if (titleGrams) {
      log('postgres: making the title grams');
      const started = performance.now();
      await client.query("SET maintenance_work_mem = '512MB'");
      await client.query(fillTitleGrams!);
      await client.query('ALTER TABLE title_grams ADD PRIMARY KEY (gram, image_id)');
      await client.query('CREATE INDEX title_grams_image ON title_grams (image_id)');
      await client.query('ALTER TABLE images ENABLE TRIGGER title_grams_sync');
      await client.query('VACUUM ANALYZE title_grams');
      log(`postgres: title grams made in ${fmt((performance.now() - started) / 1000, 1)} s`);
    }
    await client.query('ANALYZE images');
    await client.query('ANALYZE image_tags');
    await client.query('ANALYZE tags');
    return { measuredUser, userRows, tagLinks };
  } finally {
    await client.end();
  }
}

/** A fresh database on the PostgreSQL server of `adminUrl` for this run, and how to drop it; null when the server cannot be reached. */
async function freshPostgresDatabase(adminUrl: string, log: (m: string) => void): Promise<{ url: string; drop(): Promise<void> } | null> {
  const name = `shoebox_bench_listing_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    log(`PostgreSQL at ${adminUrl} is not there (${(error as Error).message}): SQLite only`);
    await admin.end().catch(() => {});
    return null;
  }
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = new pg.Client({ connectionString: adminUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name}`);
      await again.end();
    },
  };
}

/** One EXPLAIN's lines on one line. */
function planText(rows: Record<string, string>[]): string {
  return rows.map((r) => r['QUERY PLAN'].trim()).join('; ');
}

function timeQuery(samples: number[], run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  return run().then(() => {
    samples.push(performance.now() - started);
  });
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const { smoke, workDir, log } = options;
  const rows = options.rows ?? (smoke ? 20_000 : 1_000_000);
  // Page 5,000 needs 120,000 rows of the measured user (30% of the table): smaller tables go less deep.
  const deepPage = Math.min(smoke ? 100 : 5_000, Math.floor((rows * MEASURED_USER_SHARE * 0.9) / PAGE_SIZE));
  const iterations = smoke ? 100 : 3_000;
  const { openDatabase, migrateToLatest, listImages, browse } = await loadDist();
  const samples: Record<string, number[]> = {};
  const plans: string[] = [];
  const seeded: string[] = [];
  const callsMade: string[] = [];
  const planChecks: TargetCheck[] = [];
  const tagSamples: number[] = [];
  const pgTagSamples: number[] = [];
  /** The full aggregate the /tags page ran before 0019, timed once per database: [database, ms]. */
  const oldAggregateMs: [string, number][] = [];
  const tagLinkSeeds: [string, TagLinkSeed][] = [];
  const popularCursors: PopularCursor[] = [];

  /** Times every query on `db` (labels prefixed with `prefix`), interleaved. */
  async function measure(prefix: string, db: AnyDb, measuredUser: number, userRows: number): Promise<number> {
    const depth = deepPage * PAGE_SIZE;
    if (userRows <= depth) throw new Error(`the measured user has only ${userRows} images, fewer than page ${deepPage} needs`);
    // Page N's cursor is the id of the last row of page N-1; found once with OFFSET (setup, not timed).
    const cursorRow = await db.selectFrom('images').select('id').where('user_id', '=', measuredUser).orderBy('id', 'desc').offset(depth - 1).limit(1).executeTakeFirstOrThrow();
    const cursor = Number(cursorRow.id);

    const plain = (before: number | null) => {
      let q = db.selectFrom('images').selectAll().where('user_id', '=', measuredUser);
      if (before !== null) q = q.where('id', '<', before);
      return q.orderBy('id', 'desc').limit(PAGE_SIZE + 1).execute();
    };
    const cases: [string, () => Promise<unknown>][] = [
      [`${prefix}plain query, page 1`, () => plain(null)],
      [`${prefix}plain query, page ${fmt(deepPage, 0)}`, () => plain(cursor)],
    ];
    if (listImages) {
      for (const includeUnlisted of [true, false]) {
        const who = includeUnlisted ? 'owner' : 'visitor';
        cases.push([`${prefix}listImages (${who}), page 1`, () => listImages(db, { kind: 'user', userId: measuredUser, includeUnlisted }, { before: null, limit: PAGE_SIZE })]);
        cases.push([`${prefix}listImages (${who}), page ${fmt(deepPage, 0)}`, () => listImages(db, { kind: 'user', userId: measuredUser, includeUnlisted }, { before: cursor, limit: PAGE_SIZE })]);
      }
      // Titles are "Photo <n>": "photo 12" is in many of them (a full page, newest first), "sunset..." in none,
      // and "photo 123456" in one row only (on 1M rows; none in the smoke run) while each of its trigrams is in many: the index's hard case.
      for (const [label, text] of SEARCHES) cases.push([`${prefix}search by title (${label}), page 1`, () => listImages(db, { kind: 'search', text }, { before: null, limit: PAGE_SIZE })]);
      const hits = await listImages(db, { kind: 'search', text: SEARCHES[1][1] }, { before: null, limit: PAGE_SIZE });
      const none = await listImages(db, { kind: 'search', text: SEARCHES[0][1] }, { before: null, limit: PAGE_SIZE });
      if (hits.items.length !== PAGE_SIZE || none.items.length !== 0) throw new Error(`${prefix}the search queries returned the wrong rows`);
    }
    if (browse) {
      const popularFirst = await browse.listPopular(db, { limit: PAGE_SIZE });
      if (popularFirst.items.length !== PAGE_SIZE) throw new Error(`${prefix}the popular tab returned the wrong rows`);
      // Page N of popular: its cursor is row N*24 of the (views, id) order, found once with OFFSET (setup, not timed).
      const deep = await db.selectFrom('images').select(['views', 'id']).where('listed', '=', 1).orderBy('views', 'desc').orderBy('id', 'desc').offset(depth - 1).limit(1).executeTakeFirstOrThrow();
      const popularCursor = { views: Number(deep.views), id: Number(deep.id) };
      popularCursors.push(popularCursor);
      cases.push([`${prefix}popular tab, page 1`, () => browse.listPopular(db, { limit: PAGE_SIZE })]);
      cases.push([`${prefix}popular tab, page ${fmt(deepPage, 0)}`, () => browse.listPopular(db, { before: popularCursor, limit: PAGE_SIZE })]);
      const deepPageRows = await browse.listPopular(db, { before: popularCursor, limit: PAGE_SIZE });
      if (deepPageRows.items.length !== PAGE_SIZE) throw new Error(`${prefix}the deep popular page returned the wrong rows`);
    }
    // Each case must return a full page from the right place before it is timed.
    const first = (await plain(cursor)) as { id: number }[];
    if (first.length !== PAGE_SIZE + 1 || Number(first[0].id) >= cursor) throw new Error('the deep page query returned the wrong rows');
    for (const [, c] of cases) {
      const warmStarted = performance.now();
      for (let i = 0; i < Math.min(200, iterations) && performance.now() - warmStarted < 5000; i++) await c();
    }
    log(`${prefix || 'SQLite: '}timing ${cases.length} queries × ${fmt(iterations, 0)}, interleaved (at most ${fmt(TIMING_BUDGET_S, 0)} s)`);
    // A slow query (a search that walks much of the table) stops the rounds at the time budget, so
    // one database cannot take the whole benchmark's time; the p99 then comes from fewer calls.
    const timingStarted = performance.now();
    let done = 0;
    while (done < iterations && (done < MIN_CALLS || performance.now() - timingStarted < TIMING_BUDGET_S * 1000)) {
      for (const [name, c] of cases) await timeQuery((samples[name] ??= []), c);
      done++;
    }
    callsMade.push(`${prefix ? prefix.replace(/: $/, '') : 'SQLite'} ${fmt(done, 0)}`);
    return cursor;
  }

  // SQLite.
  const file = path.join(workDir, 'listing.sqlite');
  const migrated = openDatabase(`sqlite:${file}`);
  await migrateToLatest(migrated);
  await migrated.close();
  log(`sqlite: seeding ${fmt(rows, 0)} images`);
  let seedStarted = performance.now();
  const sqliteSeed = seedSqlite(file, rows, log);
  tagLinkSeeds.push(['SQLite', sqliteSeed.tagLinks]);
  seeded.push(`SQLite in ${fmt((performance.now() - seedStarted) / 1000, 1)} s`);
  log(`sqlite: seeded (${seeded[0]}); the measured user has ${fmt(sqliteSeed.userRows, 0)} images`);
  // The server's own connection settings (WAL, synchronous NORMAL, ...), through Kysely as the app queries.
  const handle = openDatabase(`sqlite:${file}`);
  try {
    const cursor = await measure('', handle.db, sqliteSeed.measuredUser, sqliteSeed.userRows);
    const sqlitePlans: string[] = [];
    for (const [label, sql] of [
      ['page 1', `SELECT * FROM images WHERE user_id = ${sqliteSeed.measuredUser} ORDER BY id DESC LIMIT ${PAGE_SIZE + 1}`],
      ['deep page', `SELECT * FROM images WHERE user_id = ${sqliteSeed.measuredUser} AND id < ${cursor} ORDER BY id DESC LIMIT ${PAGE_SIZE + 1}`],
      // As sqlite-title-search.ts sends "photo 12": its rare trigram " 12", each title then checked with shoebox_title_contains (left out here: this connection has no such function).
      ['search by title', `SELECT images.* FROM images_title_fts CROSS JOIN images ON images.id = images_title_fts.rowid WHERE images_title_fts MATCH '" 12"' AND images.listed = 1 ORDER BY images_title_fts.rowid DESC LIMIT ${PAGE_SIZE + 1}`],
    ]) {
      const sqlite = new SqliteDatabase(file, { readonly: true });
      const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
      sqlite.close();
      sqlitePlans.push(`${label}: ${plan}`);
    }
    if (browse) {
      // The /tags page's read: timed on its own, 30 times; its answer must be the full aggregate's (timed once, as it was before 0019).
      const tags = await browse.mostUsedTags(handle.db, TAGS_SHOWN);
      if (tags.length < Math.min(50, TAG_COUNT) || tags.length > TAGS_SHOWN || tags[0].uses < tags[tags.length - 1].uses) throw new Error('the tag aggregate returned the wrong rows');
      for (let i = 0; i < (smoke ? 10 : 30); i++) await timeQuery(tagSamples, () => browse.mostUsedTags(handle.db, TAGS_SHOWN));
      const sqlite = new SqliteDatabase(file, { readonly: true });
      const recountStarted = performance.now();
      const recounted = sqlite.prepare(TAGS_RECOUNT).all() as { name: string; uses: number }[];
      oldAggregateMs.push(['SQLite', performance.now() - recountStarted]);
      checkTagCounts('SQLite', tags, recounted);
      const popularCursor = popularCursors[0];
      const planOf = (query: string) => (sqlite.prepare(`EXPLAIN QUERY PLAN ${query}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
      const live = `(images.expires_at IS NULL OR images.expires_at > '2000-01-01 00:00:00')`;
      for (const [label, query, index] of [
        ['popular page 1', `SELECT * FROM images WHERE listed = 1 AND ${live} ORDER BY listed DESC, views DESC, id DESC LIMIT ${PAGE_SIZE + 1}`, 'images_listed_views_id'],
        ['popular deep page', `SELECT * FROM images WHERE listed = 1 AND ${live} AND (views, id) < (${popularCursor.views}, ${popularCursor.id}) ORDER BY listed DESC, views DESC, id DESC LIMIT ${PAGE_SIZE + 1}`, 'images_listed_views_id'],
        ['popular videos deep page', `SELECT * FROM images WHERE listed = 1 AND ${live} AND type = 'video' AND (views, id) < (${popularCursor.views}, ${popularCursor.id}) ORDER BY type DESC, listed DESC, views DESC, id DESC LIMIT ${PAGE_SIZE + 1}`, 'images_type_listed_views_id'],
        ['tags aggregate', TAGS_QUERY, 'tags_uses_name'],
      ] as const) {
        const plan = planOf(query);
        sqlitePlans.push(`${label}: ${plan}`);
        // Index-backed: the named index walked, no full scan of images or of the tag links, and no sort.
        const ok = plan.includes(`INDEX ${index}`) && !/SCAN images(;|$| USING INTEGER)/.test(plan) && !plan.includes('image_tags') && !plan.includes('TEMP B-TREE');
        planChecks.push({ what: `EXPLAIN ${label}: walks ${index}`, measured: ok ? 'index-backed' : plan, target: `INDEX ${index}, no scan of images${label === 'tags aggregate' ? ' or image_tags' : ''}, no sort`, met: ok, margin: '' });
      }
      sqlitePlans.push(`tags aggregate before 0019 (for comparison): ${planOf(TAGS_RECOUNT)}`);
      sqlite.close();
    }
    plans.push(`SQLite query plans: ${sqlitePlans.join(' | ')}.`);
  } finally {
    await handle.close();
  }

  // PostgreSQL (the server the tests use, or SHOEBOX_BENCH_POSTGRES_URL); skipped with a note when it is not there.
  const adminUrl = process.env.SHOEBOX_BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const postgres = await freshPostgresDatabase(adminUrl, log);
  if (postgres) {
    try {
      const pgHandle = openDatabase(postgres.url);
      try {
        await migrateToLatest(pgHandle);
        log(`postgres: seeding ${fmt(rows, 0)} images`);
        seedStarted = performance.now();
        const pgSeed = await seedPostgres(postgres.url, rows, log);
        tagLinkSeeds.push(['PostgreSQL', pgSeed.tagLinks]);
        seeded.push(`PostgreSQL in ${fmt((performance.now() - seedStarted) / 1000, 1)} s (with ANALYZE${rows > 1_000_000 ? '; the title trigram index made after the load' : ''})`);
        log(`postgres: seeded (${seeded[1]})`);
        const cursor = await measure('PostgreSQL: ', pgHandle.db, pgSeed.measuredUser, pgSeed.userRows);
        // The page queries, explained with their run; then the title search as listings.ts sends it on
        // PostgreSQL (postgres-title-search.ts: a walk of the newest listed files, then the trigram index
        // past it), each statement captured from a traced Kysely and explained with its parameters.
        const client = new pg.Client({ connectionString: postgres.url });
        await client.connect();
        const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
        const statements: { sql: string; parameters: readonly unknown[] }[] = [];
        const traced = new Kysely<any>({ dialect: new PostgresDialect({ pool }), log: (event) => {
          if (event.level === 'query') statements.push(event.query);
        } });
        try {
          for (const [label, sql] of [
            ['page 1', `SELECT * FROM images WHERE user_id = ${pgSeed.measuredUser} ORDER BY id DESC LIMIT ${PAGE_SIZE + 1}`],
            ['deep page', `SELECT * FROM images WHERE user_id = ${pgSeed.measuredUser} AND id < ${cursor} ORDER BY id DESC LIMIT ${PAGE_SIZE + 1}`],
          ]) {
            const res = await client.query(`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`);
            plans.push(`PostgreSQL plan, ${label}: \`${planText(res.rows)}\``);
          }
          if (browse) {
            // The /tags page's read on PostgreSQL, as on SQLite; its answer checked against the full aggregate (timed once), both explained.
            const tags = await browse.mostUsedTags(pgHandle.db, TAGS_SHOWN);
            for (let i = 0; i < (smoke ? 10 : 30); i++) await timeQuery(pgTagSamples, () => browse.mostUsedTags(pgHandle.db, TAGS_SHOWN));
            const recountStarted = performance.now();
            const recounted = (await client.query(TAGS_RECOUNT)).rows as { name: string; uses: string }[];
            oldAggregateMs.push(['PostgreSQL', performance.now() - recountStarted]);
            checkTagCounts('PostgreSQL', tags, recounted);
            const plan = planText((await client.query(`EXPLAIN (ANALYZE, COSTS OFF) ${TAGS_QUERY}`)).rows);
            plans.push(`PostgreSQL plan, tags aggregate: \`${plan}\`; before 0019 (for comparison): \`${planText((await client.query(`EXPLAIN (ANALYZE, COSTS OFF) ${TAGS_RECOUNT}`)).rows)}\``);
            const ok = plan.includes('tags') && !plan.includes('image_tags') && !/Seq Scan on images/.test(plan);
            planChecks.push({ what: 'EXPLAIN PostgreSQL tags aggregate: reads tags only', measured: ok ? 'tags only' : plan, target: 'no image_tags or images read', met: ok, margin: '' });
          }
          if (listImages) {
            for (const [label, text] of SEARCHES) {
              statements.length = 0;
              await listImages(traced, { kind: 'search', text }, { before: null, limit: PAGE_SIZE });
              const steps: string[] = [];
              let walk = '';
              let index = '';
              let grams = '';
              for (const statement of statements) {
                const step = /from title_grams/.test(statement.sql) ? 'title grams' : /array_agg/.test(statement.sql) ? 'walk' : /id \+ 0/.test(statement.sql) ? 'trigram index' : /from "images" where "id" in/.test(statement.sql) ? 'rows by id' : null;
                if (!step) continue;
                const plan = planText((await client.query(`EXPLAIN (ANALYZE, COSTS OFF) ${statement.sql}`, statement.parameters as unknown[])).rows);
                if (step === 'walk' && !walk) walk = plan;
                if (step === 'trigram index') index = plan;
                if (step === 'title grams') grams = plan;
                steps.push(`${step}: \`${plan}\``);
              }
              plans.push(`PostgreSQL plan, search by title (${label}), statement by statement: ${steps.join('; ')}`);
              // The walk goes down an index in id order from the cursor; the gram walk (when it runs) down title_grams' key; the index step (when it runs) is a GIN bitmap, never a walk of images_pkey.
              const ok = /Index Scan Backward using images_(listed_id|pkey)/.test(walk)
                && (!grams || /Index Only Scan Backward using title_grams_pkey/.test(grams))
                && (!index || (index.includes('Bitmap Index Scan on images_title_trgm') && !/Index Scan( Backward)? using images_pkey/.test(index)));
              const path = ['walk', ...(grams ? ['title grams'] : []), ...(index ? ['GIN bitmap'] : [])].join(', then ');
              planChecks.push({ what: `EXPLAIN PostgreSQL search by title (${label}): bounded walk, then title_grams or images_title_trgm`, measured: ok ? path : `walk: ${walk} | grams: ${grams} | index: ${index}`, target: 'a backward index walk; title_grams_pkey walked backwards and/or a GIN bitmap on images_title_trgm past it, no images_pkey walk', met: ok, margin: '' });
            }
          }
        } finally {
          await traced.destroy();
          await client.end();
        }
      } finally {
        await pgHandle.close();
      }
    } finally {
      await postgres.drop();
    }
  } else {
    plans.push(`PostgreSQL was not measured: no server at ${adminUrl} (set SHOEBOX_BENCH_POSTGRES_URL).`);
  }

  const names = Object.keys(samples);
  const p99s = names.map((n) => percentile(samples[n], 99));
  const worst = Math.max(...p99s);
  const result: BenchResult = {
    id: 'listing',
    title: 'Listing a user\'s files',
    method: [
      `${fmt(rows, 0)} image rows (the real schema, all migrations) in SQLite, bulk-inserted with one prepared statement${postgres ? ', and the same rows in PostgreSQL, inserted 20,000 at a time from one array per column' : ''}; seeding took ${seeded.join(', ')}. ${USERS} users, the measured one owning ${fmt(sqliteSeed.userRows, 0)} rows spread through the table (${MEASURED_USER_SHARE * 100}% of them). \`--rows=N\` seeds another size (the 10-million-row run).`,
      `Queries through Kysely on the server's own connection settings (dist/db/database.js: SQLite with WAL, synchronous NORMAL; PostgreSQL through its pool), in this process: the brief's query (\`WHERE user_id = ? [AND id < cursor] ORDER BY id DESC LIMIT ${PAGE_SIZE + 1}\`, all columns)${listImages ? `, and the web site's listImages() for the owner (every file) and a visitor (listed files only), which also skip expired files; and its search by title (SQLite: the FTS5 trigram index kept by triggers, walked by the text's rare trigrams with each title checked by shoebox_title_contains, src/db/repositories/sqlite-title-search.ts; PostgreSQL: a walk of the newest 1,000 listed files, then, when the text's rarest three-character gram is in many titles, those titles newest first (title_grams, 0020), then the pg_trgm GIN index on lower(title) past them, src/db/repositories/postgres-title-search.ts; titles "Photo <n>") for ${SEARCHES.map(([label, text]) => `"${text}" (${label})`).join(' and ')}` : ''}.`,
      `Page size ${PAGE_SIZE} (the web site's). Page ${fmt(deepPage, 0)} is reached by keyset: its cursor is the id of row ${fmt(deepPage * PAGE_SIZE, 0)} of the user's newest-first list, found once with OFFSET before timing.`,
      `Explore's popular tab (listPopular: keyset on (views, id), views spread 0–9,999) at page 1 and page ${fmt(deepPage, 0)} (its cursor found once with OFFSET), on both databases; the /tags page's read on both databases (mostUsedTags: the ${TAGS_SHOWN} most used of ${TAG_COUNT} tags, on every third image with a long tail; since 0019_tag_use_counts the first entries of the index tags_uses_name over running counts that triggers keep) timed ${smoke ? 10 : 30} times on its own, its slowest run under 1 s, and its answer checked tag for tag against the full aggregate over the tag links it replaced (timed once). The tag links are seeded after the images, each counting its tag through the triggers: ${tagLinkSeeds.map(([db, t]) => `${db} ${fmt(t.links, 0)} links in ${fmt(t.seconds, 1)} s`).join(', ')}. SQLite's EXPLAIN QUERY PLAN of each must name its index (the same queries' PostgreSQL plans are checked by test/web/browse.test.ts; PostgreSQL's /tags read must not touch images or image_tags).`,
      `${fmt(iterations, 0)} timed calls per query after 200 warm-up calls (at most 5 s of them), the queries of one database interleaved, for at most ${fmt(TIMING_BUDGET_S, 0)} s per database (at least ${fmt(Math.min(MIN_CALLS, iterations), 0)} calls each; calls made: ${callsMade.join(', ')}); the p99 of each must stay under 15 ms.`,
    ],
    figures: [
      ...names.flatMap((n) => [
        { name: `${n}: p50`, value: percentile(samples[n], 50), unit: 'ms' },
        { name: `${n}: p99`, value: percentile(samples[n], 99), unit: 'ms' },
      ]),
      ...(tagSamples.length > 0 ? [{ name: `/tags aggregate (${TAGS_SHOWN} most used): median`, value: percentile(tagSamples, 50), unit: 'ms' }, { name: '/tags aggregate: max', value: Math.max(...tagSamples), unit: 'ms' }] : []),
      ...(pgTagSamples.length > 0 ? [{ name: `PostgreSQL: /tags aggregate (${TAGS_SHOWN} most used): median`, value: percentile(pgTagSamples, 50), unit: 'ms' }, { name: 'PostgreSQL: /tags aggregate: max', value: Math.max(...pgTagSamples), unit: 'ms' }] : []),
      ...oldAggregateMs.map(([db, ms]) => ({ name: `${db === 'SQLite' ? '' : `${db}: `}/tags full aggregate before 0019 (once, for comparison)`, value: ms, unit: 'ms' })),
      ...tagLinkSeeds.map(([db, t]) => ({ name: `${db}: tag links seeded per CPU-second (each counting its tag)`, value: t.links / t.cpuSeconds, unit: 'rows/s' })),
    ],
    checks: [
      ...names.map((n, i) => valueBelow(`listing p99, ${n}, ${fmt(rows / 1e6, rows >= 1e6 ? 0 : 2)}M rows`, p99s[i], 15, 'ms', 2)),
      ...(tagSamples.length > 0 ? [valueBelow(`/tags aggregate, slowest of ${tagSamples.length}, ${fmt(rows / 1e6, rows >= 1e6 ? 0 : 2)}M rows`, Math.max(...tagSamples), 1000, 'ms', 0)] : []),
      ...(pgTagSamples.length > 0 ? [valueBelow(`PostgreSQL /tags aggregate, slowest of ${pgTagSamples.length}, ${fmt(rows / 1e6, rows >= 1e6 ? 0 : 2)}M rows`, Math.max(...pgTagSamples), 1000, 'ms', 0)] : []),
      ...planChecks,
    ],
    notes: [...plans, `Worst p99: ${fmt(worst, 2)} ms.`],
    seconds: secondsSince(started),
  };
  return result;
}

await runWhenMain(import.meta.url, 'listing', run);
