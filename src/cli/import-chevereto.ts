import { parseArgs } from 'node:util';
import { loadSettings } from '../config/settings.js';
import { createAppContext } from '../context.js';
import { errors, type ShoeboxError } from '../core/errors.js';
// Loaded when the command runs, so `shoebox serve` never loads mysql2.
import type { ImportReport } from '../import/chevereto-import.js';
import type { VerifyReport } from '../import/verify-move.js';
import { startProgress } from './progress.js';

export const IMPORT_USAGE = `  import-chevereto --from mysql://USER:PASS@HOST:3306/DB --images DIR [--prefix chv_] [--dry-run]
                   [--avatars DIR] [--encryption-key BASE64]
                                              move a Chevereto site in, keeping ids, files, links and secrets;
                                              resumable (docs/MIGRATING.md)
  import-chevereto --verify --old-base URL [--limit N]
                                              compare every imported file and page with the old site`;

function refuse(message: string): ShoeboxError {
  return errors.commandRefused(message);
}

export function formatImportReport(report: ImportReport): string {
  const lines = [report.dryRun ? 'Dry run: nothing was written.' : 'Import finished.'];
  const label: Record<string, string> = { users: 'users', avatars: 'avatars', albums: 'albums', images: 'files', apiKeys: 'API keys', categories: 'categories', deletions: 'deleted ids' };
  for (const [name, c] of Object.entries(report.counts)) {
    lines.push(`  ${label[name].padEnd(12)} ${c.found} found, ${c.imported} ${report.dryRun ? 'to import' : 'imported'}, ${c.alreadyImported} already imported, ${c.skipped} skipped`);
  }
  lines.push(`  derivatives ${report.regenerated} ${report.dryRun ? 'to make again' : 'made again'} (missing on the old site)`);
  for (const st of report.externalStorage) {
    lines.push(`  external storage #${st.id} "${st.name}"${st.type ? ` (${st.type})` : ''}: ${st.files} files, ${st.found} found in the images folder, ${st.missing} missing`);
  }
  if (report.problems.length) {
    lines.push(`Problems (${report.problems.length}):`);
    for (const p of report.problems) lines.push(`  ${p.kind} ${p.id}: ${p.problem}`);
  }
  for (const note of report.notes) lines.push(`Note: ${note}`);
  lines.push('Give Shoebox these settings so dates and URLs come out as before:');
  for (const [name, value] of Object.entries(report.suggestedSettings)) lines.push(`  ${name}=${value}`);
  return lines.join('\n');
}

export function formatVerifyReport(report: VerifyReport): string {
  const lines = [`Checked ${report.checked} URLs against ${report.oldBase}: ${report.differences.length} differ.`];
  for (const d of report.differences) lines.push(`  ${d.path}: old ${d.old}, new ${d.new}`);
  if (report.withheld.length) {
    lines.push(`Withheld on purpose (${report.withheld.length}): private or password-protected here, open on the old site:`);
    for (const d of report.withheld) lines.push(`  ${d.path}: old ${d.old}, new ${d.new}`);
  }
  return lines.join('\n');
}

export async function importCheveretoCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      prefix: { type: 'string', default: 'chv_' },
      images: { type: 'string' },
      avatars: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'encryption-key': { type: 'string' },
      'batch-size': { type: 'string' },
      verify: { type: 'boolean', default: false },
      'old-base': { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const settings = loadSettings();
  if (values.verify) {
    if (!values['old-base']) throw refuse('--verify needs --old-base URL (the old Chevereto site, still running)');
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw refuse('--limit must be a positive whole number');
    const { verifyMove } = await import('../import/verify-move.js');
    const ctx = await createAppContext(settings);
    try {
      const report = await verifyMove({ db: ctx.db, ids: ctx.ids, urls: ctx.urls, settings }, { oldBase: values['old-base'], newBase: settings.baseUrl, limit });
      console.log(formatVerifyReport(report));
      if (report.differences.length > 0) throw refuse(`${report.differences.length} URLs answer differently on the two sites`);
    } finally {
      await ctx.close();
    }
    return;
  }
  if (!values.from) throw refuse('import-chevereto needs --from mysql://USER:PASS@HOST:3306/DB');
  if (!values.images) throw refuse('import-chevereto needs --images DIR (Chevereto\'s images folder, the one holding its date folders)');
  const batchSize = values['batch-size'] ? Number(values['batch-size']) : undefined;
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0 && batchSize <= 500)) throw refuse('--batch-size must be 1 to 500');
  const { importChevereto, ImportError } = await import('../import/chevereto-import.js');
  const ctx = await createAppContext(settings);
  const progress = startProgress(values['dry-run'] ? 'checking' : 'importing', 0);
  try {
    const report = await importChevereto(
      { database: ctx.database, storage: ctx.storage, settings, binaries: ctx.binaries },
      {
        from: values.from,
        prefix: values.prefix,
        imagesDir: values.images,
        avatarsDir: values.avatars,
        dryRun: values['dry-run'],
        encryptionKey: values['encryption-key'] ?? process.env.CHEVERETO_ENCRYPTION_KEY,
        batchSize,
        progress,
        log: () => undefined,
      },
    );
    progress.stop();
    console.log(formatImportReport(report));
  } catch (error) {
    progress.stop();
    if (error instanceof ImportError) throw refuse(`import-chevereto: ${error.message}`);
    throw error;
  } finally {
    await ctx.close();
  }
}
