import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSettings } from '../config/settings.js';
import { createAppContext } from '../context.js';
import { errors, ShoeboxError } from '../core/errors.js';
import { dialectOf } from '../db/database.js';
import { LocalStorage } from '../storage/local.js';
import type { Storage } from '../storage/storage.js';
import { copyDatabase, CopyDbError, describeDatabaseUrl } from './copy-db.js';
import { migrateStorage } from './migrate-storage.js';

/** Command-line mistakes and failed runs: main.ts prints the message and exits non-zero. */
function refuse(message: string): ShoeboxError {
  return errors.commandRefused(message);
}

export const SCALE_USAGE = `  copy-db --to URL [--from URL] [--restart]   copy the site's database (SHOEBOX_DATABASE_URL) into another,
                                              e.g. postgres://user@host/db; resumable, checked by checksums
  migrate-storage --to s3|local [--verify] [--concurrency N]
                                              copy every file to the other storage; resumable, checked by md5`;

/** `shoebox copy-db --to postgres://…`: prints the next steps on stdout, progress on stderr. */
export async function copyDbCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { to: { type: 'string' }, from: { type: 'string' }, 'batch-size': { type: 'string' }, restart: { type: 'boolean', default: false } },
  });
  if (!values.to) throw refuse('copy-db needs --to URL (postgres://user:pass@host:5432/db or sqlite:PATH)');
  const sourceUrl = values.from ?? loadSettings().databaseUrl;
  for (const url of [sourceUrl, values.to]) {
    try {
      dialectOf(url);
    } catch (error) {
      throw refuse((error as Error).message);
    }
  }
  const batchSize = values['batch-size'] ? Number(values['batch-size']) : undefined;
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) throw refuse('--batch-size must be a positive whole number');
  try {
    const report = await copyDatabase({ sourceUrl, targetUrl: values.to, batchSize, restart: values.restart });
    for (const table of report.tables) console.log(`${table.name}: ${table.rows} rows (${table.copied} copied in this run)`);
    console.log(`Verified: every table has the same rows and checksums in ${describeDatabaseUrl(values.to)}.`);
    console.log(`To switch the site over: stop Shoebox, set SHOEBOX_DATABASE_URL=${describeDatabaseUrl(values.to)} (with its password), start it.`);
  } catch (error) {
    if (error instanceof CopyDbError) throw refuse(`copy-db: ${error.message}`);
    throw error;
  }
}

/** `shoebox migrate-storage --to s3|local`: copies from the storage SHOEBOX_STORAGE names to the other one. */
export async function migrateStorageCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { to: { type: 'string' }, verify: { type: 'boolean', default: false }, concurrency: { type: 'string', default: '4' } },
  });
  if (values.to !== 's3' && values.to !== 'local') throw refuse('migrate-storage needs --to s3 or --to local');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw refuse('--concurrency must be 1 to 64');
  const settings = loadSettings();
  if (settings.storage === values.to) {
    throw refuse(`the site already uses ${values.to} storage (SHOEBOX_STORAGE=${settings.storage}); set SHOEBOX_STORAGE to where the files are now`);
  }
  const ctx = await createAppContext(settings);
  let target: Storage;
  if (values.to === 's3') {
    const { S3Storage, ensureBucket } = await import('../storage/s3.js');
    await ensureBucket(settings.s3);
    target = new S3Storage(settings.s3);
  } else {
    target = new LocalStorage(settings.dataDir);
  }
  try {
    await target.checkHealth();
    const report = await migrateStorage({
      db: ctx.db,
      from: ctx.storage,
      to: target,
      tmpRoot: path.join(settings.dataDir, 'tmp'),
      verifyExisting: values.verify,
      concurrency,
    });
    console.log(
      `${report.images} uploads: ${report.copied} files copied (${report.bytesCopied} bytes), ${report.alreadyThere} already in ${values.to}, ` +
        `${report.missing.length} missing, ${report.failed.length} failed`,
    );
    for (const key of report.missing) console.log(`missing in both storages: ${key}`);
    for (const key of report.damagedInSource) console.log(`copied as found, but its md5 differs from the one recorded at upload: ${key}`);
    for (const failure of report.failed) console.log(`failed: ${failure.key}: ${failure.reason}`);
    if (report.failed.length > 0) throw refuse(`migrate-storage: ${report.failed.length} files were not copied; run the command again`);
    console.log(`Every file is in ${values.to}. To switch the site over: stop Shoebox, run this command once more, set SHOEBOX_STORAGE=${values.to}, start it.`);
    if (report.missing.length > 0 || report.damagedInSource.length > 0) {
      throw refuse('migrate-storage: some files were already missing or damaged before this run (listed above)');
    }
  } finally {
    await target.close();
    await ctx.close();
  }
}
