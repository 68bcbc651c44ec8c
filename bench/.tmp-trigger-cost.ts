/**
 * The write cost of the tag-count triggers (0019_tag_use_counts): tag links inserted and an album's
 * worth of files flipped to unlisted, with the triggers and without them, CPU of the database's
 * process (SQLite: this process; PostgreSQL: its backend, from /proc). Everything is rolled back.
 *   npx tsx trigger-cost.ts <sqlite file of a seeded bench run> <rows for PostgreSQL>
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

const ROOT = '/work/wt-tagcounts';
const TAG_COUNT = 500;
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function links(imageIds: number[], tagIds: number[]): [number[], number[]] {
  const random = mulberry32(11);
  const images: number[] = [];
  const tags: number[] = [];
  for (let j = 0; j < imageIds.length; j++) {
    if (j % 3 !== 0) continue;
    const k = Math.min(TAG_COUNT - 1, Math.floor(1 / (random() + 1 / TAG_COUNT)) - 1);
    images.push(imageIds[j]);
    tags.push(tagIds[Math.max(0, k)]);
  }
  return [images, tags];
}

const TRIGGERS = ['tag_uses_link_insert', 'tag_uses_link_delete', 'tag_uses_link_update', 'tag_uses_image_listed', 'tag_uses_image_delete'];

function sqliteRun(file: string, withTriggers: boolean) {
  const db = new SqliteDatabase(file);
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = ON');
  const imageIds = db.prepare('SELECT id FROM images ORDER BY id').pluck().all() as number[];
  const tagIds = db.prepare('SELECT id FROM tags ORDER BY id').pluck().all() as number[];
  const [images, tags] = links(imageIds, tagIds);
  db.exec('BEGIN');
  try {
    if (!withTriggers) for (const t of TRIGGERS) db.exec(`DROP TRIGGER ${t}`);
    db.exec('DELETE FROM image_tags');
    const insert = db.prepare('INSERT INTO image_tags (image_id, tag_id) VALUES (?, ?)');
    let c = cpu();
    let t = performance.now();
    for (let i = 0; i < images.length; i++) insert.run(images[i], tags[i]);
    const insertCpu = cpu() - c;
    const insertWall = (performance.now() - t) / 1000;
    // An album's worth: 100,000 files made unlisted in one statement.
    c = cpu();
    t = performance.now();
    db.prepare('UPDATE images SET listed = 0 WHERE id <= ?').run(imageIds[99_999]);
    const flipCpu = cpu() - c;
    c = cpu();
    db.prepare('UPDATE images SET views = views + 1 WHERE id <= ?').run(imageIds[99_999]);
    const viewsCpu = cpu() - c;
    console.log(`sqlite ${withTriggers ? 'with' : 'without'} triggers: ${images.length} links inserted in ${insertCpu.toFixed(2)} CPU-s (${(images.length / insertCpu / 1e3).toFixed(0)}k/s, wall ${insertWall.toFixed(2)} s); 100,000 files unlisted in ${flipCpu.toFixed(2)} CPU-s; 100,000 views updates ${viewsCpu.toFixed(2)} CPU-s`);
  } finally {
    db.exec('ROLLBACK');
    db.close();
  }
}

function backendCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function postgres(rows: number) {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const name = `shoebox_tagcost_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  try {
    const dist = (p: string) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
    const { openDatabase } = await import(dist('db/database.js'));
    const { migrateToLatest } = await import(dist('db/migrate.js'));
    const handle = openDatabase(url);
    await migrateToLatest(handle);
    await handle.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("INSERT INTO users (username, password_hash, created_at) VALUES ('u', 'x', '2025-01-01 00:00:00')");
    await client.query(`INSERT INTO images (user_id, folder, name, extension, mime, type, size, width, height, md5, title, original_filename, chain, derivative_extension, uploader_ip, date_gmt, delete_hash, views)
      SELECT 1, '2025/01/01', 'n' || g, 'jpg', 'image/jpeg', 'image', 1000, 40, 30, md5(g::text), 'Photo ' || g, 'a.jpg', 7, 'jpg', '127.0.0.1', '2025-01-01 00:00:00', md5(g::text), g % 10000 FROM generate_series(1, ${rows}) g`);
    await client.query(`INSERT INTO tags (name) SELECT 'tag' || k FROM generate_series(0, ${TAG_COUNT - 1}) k ORDER BY k`);
    await client.query('VACUUM ANALYZE images');
    const imageIds = (await client.query({ text: 'SELECT id FROM images ORDER BY id', rowMode: 'array' })).rows.map((r: string[]) => Number(r[0]));
    const tagIds = (await client.query({ text: 'SELECT id FROM tags ORDER BY id', rowMode: 'array' })).rows.map((r: string[]) => Number(r[0]));
    const [images, tags] = links(imageIds, tagIds);
    const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    for (const withTriggers of [true, false, true, false]) {
      await client.query('BEGIN');
      try {
        if (!withTriggers) {
          await client.query('ALTER TABLE image_tags DISABLE TRIGGER tag_uses_link_insert');
          await client.query('ALTER TABLE images DISABLE TRIGGER tag_uses_image_listed');
        }
        let before = backendCpu(pid);
        let t = performance.now();
        for (let start = 0; start < images.length; start += 20_000) {
          await client.query('INSERT INTO image_tags (image_id, tag_id) SELECT * FROM unnest($1::int8[], $2::int8[])', [images.slice(start, start + 20_000), tags.slice(start, start + 20_000)]);
        }
        const insertCpu = backendCpu(pid) - before;
        const insertWall = (performance.now() - t) / 1000;
        before = backendCpu(pid);
        t = performance.now();
        for (let start = 0; start < 30_000; start += 1) {
          if (start % 1000 !== 0) continue;
        }
        // Single-link statements, as an upload writes them (one statement per upload): 3,000 of them.
        for (let i = 0; i < 3000; i++) await client.query('INSERT INTO image_tags (image_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [imageIds[3 * i + 1], tagIds[i % 7]]);
        const singleCpu = backendCpu(pid) - before;
        before = backendCpu(pid);
        await client.query('UPDATE images SET listed = 0 WHERE id <= $1', [imageIds[99_999]]);
        const flipCpu = backendCpu(pid) - before;
        console.log(`postgres ${withTriggers ? 'with' : 'without'} triggers: ${images.length} links in batches of 20,000 in ${insertCpu.toFixed(2)} backend CPU-s (${(images.length / insertCpu / 1e3).toFixed(0)}k/s, wall ${insertWall.toFixed(2)} s); 3,000 one-link statements ${singleCpu.toFixed(2)} CPU-s (${((singleCpu / 3000) * 1e6).toFixed(0)} µs each); 100,000 files unlisted in ${flipCpu.toFixed(2)} CPU-s`);
      } finally {
        await client.query('ROLLBACK');
      }
    }
    await client.end();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  }
}

const [file, pgRows] = process.argv.slice(2);
if (file && file !== '-') {
  for (const withTriggers of [true, false, true, false]) sqliteRun(file, withTriggers);
}
if (pgRows) await postgres(Number(pgRows));
