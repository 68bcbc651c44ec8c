import { copyDatabase as copyRows, type CopyDbOptions, type CopyDbReport } from '../db/copy/copy-database.js';
import { startProgress } from './progress.js';

export { COPY_STATE_TABLE, CopyDbError, describeDatabaseUrl } from '../db/copy/copy-database.js';

/**
 * `shoebox copy-db --to URL`: the copy itself, every query of it, is in db/copy/ (copy-database.ts,
 * table-metadata.ts, table-pages.ts, table-checksum.ts); the command adds the progress bar on stderr.
 */
export function copyDatabase(options: Omit<CopyDbOptions, 'startProgress'> & { progress?: boolean }): Promise<CopyDbReport> {
  const { progress, ...rest } = options;
  return copyRows({ ...rest, startProgress: progress === false ? undefined : (total) => startProgress('copy-db', total) });
}
