import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import { formatUtc } from '../core/dates.js';
import { findImageById } from '../db/repositories/images.js';
import { namesClaimedSince, namesWithRows, pageOfImageFiles, releaseNameWithoutRow, setDerivativeSizes } from '../db/repositories/doctor-queries.js';
import type { Database } from '../db/schema.js';
import { removeImage } from '../ingest/remove-image.js';
import type { MediaBinaries } from '../media/binaries.js';
import { mimeOfExtension } from '../media/formats.js';
import { remakeDerivatives, type RemakeSettings } from '../media/remake-derivatives.js';
import { extensionOf } from '../storage/image-files.js';
import { objectKey, objectKeysOf, parseObjectPath } from '../storage/object-keys.js';
import type { Storage } from '../storage/storage.js';

/**
 * `shoebox doctor`: every image row has its files, every file under `images/` has its row.
 * A file whose upload is still in flight (its name claimed within the claim timeout) is not an
 * orphan. A dry run reports; `fix` deletes orphan files (and frees their names), removes
 * rows whose main file is gone (such a row can only answer with an error), and makes a missing
 * derivative (thumb, medium, frame) again from the main file, as the upload made it
 * (media/remake-derivatives.ts), when it is given the media tools to do it with.
 */
export interface DoctorReport {
  rows: number;
  files: number;
  /** Rows whose main file is missing: `id: key`. */
  rowsWithoutMain: { id: number; missing: string[] }[];
  /** Rows that have their main file but miss a derivative; with `fix`, what was made again or why it could not be. */
  rowsWithoutDerivative: { id: number; missing: string[]; remade?: boolean; failure?: string }[];
  /** Files no row points at (and no upload in flight claims). */
  orphanFiles: string[];
  /** Keys under images/ that are not of Shoebox's layout: left alone. */
  foreignFiles: string[];
  fixed: boolean;
}

export interface DoctorServices {
  db: Kysely<Database>;
  storage: Storage;
  claimTimeoutSeconds: number;
  /** What making derivatives again takes; without it they are only reported. */
  media?: { binaries: MediaBinaries; settings: RemakeSettings; tmpDir: string };
}

const PAGE = 500;

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

export async function examineStorage(services: DoctorServices, options: { fix: boolean; now?: Date }): Promise<DoctorReport> {
  const { db, storage } = services;
  const now = options.now ?? new Date();
  const claimCutoff = formatUtc(new Date(now.getTime() - services.claimTimeoutSeconds * 1000));
  const report: DoctorReport = { rows: 0, files: 0, rowsWithoutMain: [], rowsWithoutDerivative: [], orphanFiles: [], foreignFiles: [], fixed: options.fix };

  // Every row's files.
  for (let after = 0; ;) {
    const rows = await pageOfImageFiles(db, after, PAGE);
    if (rows.length === 0) break;
    after = rows[rows.length - 1].id;
    report.rows += rows.length;
    await inBatches(rows, 16, async (row) => {
      const keys = objectKeysOf(row);
      const missing: string[] = [];
      for (const key of keys) if (!(await storage.stat(key))) missing.push(key);
      if (missing.length === 0) return;
      (missing.includes(keys[0]) ? report.rowsWithoutMain : report.rowsWithoutDerivative).push({ id: row.id, missing });
    });
  }

  // Every file's row, a folder's batch at a time.
  const pending = new Map<string, Map<string, string[]>>();
  const flush = async (folder: string) => {
    const byName = pending.get(folder);
    pending.delete(folder);
    if (!byName) return;
    const names = [...byName.keys()];
    const withRows = await namesWithRows(db, folder, names);
    const inFlight = await namesClaimedSince(db, folder, names, claimCutoff);
    for (const [name, keys] of byName) {
      const id = `${folder}/${name}`;
      if (!withRows.has(id) && !inFlight.has(id)) report.orphanFiles.push(...keys);
    }
  };
  let lastFolder: string | null = null;
  for await (const key of storage.list('images')) {
    report.files++;
    const parsed = key.startsWith('images/') ? parseObjectPath(key.slice('images/'.length)) : null;
    if (!parsed) {
      report.foreignFiles.push(key);
      continue;
    }
    if (lastFolder !== null && parsed.folder !== lastFolder && (pending.get(lastFolder)?.size ?? 0) > 0) await flush(lastFolder);
    lastFolder = parsed.folder;
    let byName = pending.get(parsed.folder);
    if (!byName) pending.set(parsed.folder, (byName = new Map()));
    byName.set(parsed.name, [...(byName.get(parsed.name) ?? []), key]);
    if (byName.size >= PAGE) await flush(parsed.folder);
  }
  for (const folder of [...pending.keys()]) await flush(folder);

  if (options.fix) {
    // Checked again just before deleting: an upload may have written its row meanwhile.
    const orphansByName = new Map<string, string[]>();
    for (const key of report.orphanFiles) {
      const parsed = parseObjectPath(key.slice('images/'.length))!;
      const id = `${parsed.folder}/${parsed.name}`;
      orphansByName.set(id, [...(orphansByName.get(id) ?? []), key]);
    }
    for (const [id, keys] of orphansByName) {
      const slash = id.lastIndexOf('/');
      const folder = id.slice(0, slash);
      const name = id.slice(slash + 1);
      if ((await namesWithRows(db, folder, [name])).size > 0 || (await namesClaimedSince(db, folder, [name], claimCutoff)).size > 0) continue;
      await storage.delete(keys);
      await releaseNameWithoutRow(db, folder, name, claimCutoff);
    }
    for (const { id } of report.rowsWithoutMain) {
      const image = await findImageById(db, id);
      if (image) await removeImage(db, storage, image);
    }
    for (const entry of report.rowsWithoutDerivative) {
      if (!services.media) continue;
      try {
        await remakeMissing(services, services.media, entry.id, entry.missing);
        entry.remade = true;
      } catch (error) {
        entry.failure = (error as Error).message;
      }
    }
  }
  return report;
}

/** Downloads the row's main file, makes its derivatives again and stores the missing ones (and their sizes). */
async function remakeMissing(services: DoctorServices, media: NonNullable<DoctorServices['media']>, id: number, missing: string[]): Promise<void> {
  const image = await findImageById(services.db, id);
  if (!image) throw new Error('the row is gone');
  await mkdir(media.tmpDir, { recursive: true });
  const workDir = await mkdtemp(path.join(media.tmpDir, 'doctor-'));
  try {
    const mainPath = path.join(workDir, `main.${image.extension}`);
    await pipeline(await services.storage.read(objectKey(image, 'image')), createWriteStream(mainPath));
    const remade = await remakeDerivatives(mainPath, workDir, { type: image.type === 'video' ? 'video' : 'image', derivativeExtension: image.derivative_extension }, media.binaries, media.settings);
    const sizes: Partial<Record<'thumb' | 'medium' | 'frame', number>> = {};
    for (const role of ['thumb', 'medium', 'frame'] as const) {
      const key = objectKey(image, role);
      if (!missing.includes(key)) continue;
      const file = remade[role];
      if (!file) throw new Error(`no ${role} can be made from the main file`);
      // Checked again: an upload or another doctor may have stored it meanwhile.
      if (await services.storage.stat(key)) continue;
      await services.storage.copyIn(key, file.path, role === 'frame' ? 'image/jpeg' : mimeOfExtension(extensionOf(image, role)));
      sizes[role] = file.size;
    }
    await setDerivativeSizes(services.db, image.id, sizes);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The report as lines for a person. */
export function describeReport(report: DoctorReport): string[] {
  const lines = [`checked ${report.rows} rows and ${report.files} files`];
  for (const r of report.rowsWithoutMain) lines.push(`row ${r.id}: main file missing (${r.missing.join(', ')})${report.fixed ? ': row removed' : ''}`);
  for (const r of report.rowsWithoutDerivative) {
    const outcome = r.remade ? ': made again from the main file' : r.failure ? `: could not be made again (${r.failure})` : ' (the main file is there: `--fix` makes it again)';
    lines.push(`row ${r.id}: missing ${r.missing.join(', ')}${outcome}`);
  }
  for (const key of report.orphanFiles) lines.push(`file without a row: ${key}${report.fixed ? ': deleted' : ''}`);
  for (const key of report.foreignFiles) lines.push(`not a Shoebox file, left alone: ${key}`);
  const problems = report.rowsWithoutMain.length + report.rowsWithoutDerivative.length + report.orphanFiles.length;
  if (problems === 0) lines.push('everything is in order');
  else if (!report.fixed) lines.push(`${problems} problem(s) found; run \`shoebox doctor --fix\` to repair (dry run: nothing was changed)`);
  return lines;
}
