#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { checkTextLength, TEXT_LIMITS } from '../core/text-limits.js';
import { loadSettings, SettingsError } from '../config/settings.js';
import { createAppContext, type AppContext } from '../context.js';
import { errors, ShoeboxError } from '../core/errors.js';
import { regenerateApiKey } from '../db/repositories/api-keys.js';
import { createAlbum } from '../db/repositories/albums.js';
import { createUser, findUserByUsername } from '../db/repositories/users.js';
import { runEveryJobOnce } from '../jobs/background-jobs.js';
import { startBackgroundJobs } from '../jobs/scheduler.js';
import { describeReport, examineStorage } from '../jobs/storage-doctor.js';
import { buildServer } from '../server.js';
import { copyDbCommand, migrateStorageCommand, SCALE_USAGE } from './scale-commands.js';

const USAGE = `Usage: shoebox <command>

  serve                                       start the server (npm start)
  migrate                                     apply database migrations and exit
  user create NAME --password PW [--email E] [--admin]
  apikey create NAME                          create or regenerate NAME's API key (printed on the last line)
  album create USER TITLE [--description D] [--privacy public|private|unlisted]
                                              create an album; prints its encoded id
  sweep                                       delete expired uploads and stale temp files now
  doctor [--fix]                              check that every row has its files and every file its row;
                                              a dry run unless --fix (exit code 1 when problems remain)
${SCALE_USAGE}

Settings come from the environment (see README), the same for the server and the CLI.`;

class UsageError extends Error {}

async function withContext<T>(run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await createAppContext(loadSettings());
  try {
    return await run(ctx);
  } finally {
    await ctx.close();
  }
}

async function requireUser(ctx: AppContext, username: string | undefined) {
  if (!username) throw new UsageError('a user name is required');
  const user = await findUserByUsername(ctx.db, username);
  if (!user) throw errors.noSuchUser(username);
  return user;
}

async function serve(): Promise<void> {
  const settings = loadSettings();
  const ctx = await createAppContext(settings);
  const app = await buildServer(ctx);
  const jobs = startBackgroundJobs(ctx, app.log);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await jobs.stop();
    await app.close();
    await ctx.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ port: settings.port, host: settings.host });
  app.log.info(`Shoebox is serving ${settings.baseUrl} (data in ${settings.dataDir})`);
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'serve':
    case undefined:
      return serve();
    case 'migrate':
      await withContext(async () => undefined);
      console.log('database is up to date');
      return;
    case 'sweep':
      await withContext(async (ctx) => {
        const handled = await runEveryJobOnce(ctx);
        console.log(`deleted ${handled['expiry-sweep']} expired uploads and ${handled['temp-cleanup']} stale temp folders`);
        console.log(Object.entries(handled).map(([job, n]) => `${job}: ${n}`).join(', '));
      });
      return;
    case 'doctor': {
      const { values } = parseArgs({ args: [sub, ...rest].filter((a): a is string => a !== undefined), options: { fix: { type: 'boolean', default: false } } });
      const report = await withContext((ctx) => examineStorage({ db: ctx.db, storage: ctx.storage, claimTimeoutSeconds: ctx.settings.uploadClaimTimeoutSeconds }, { fix: values.fix }));
      for (const line of describeReport(report)) console.log(line);
      const remaining = report.fixed ? report.rowsWithoutDerivative.length : report.rowsWithoutMain.length + report.rowsWithoutDerivative.length + report.orphanFiles.length;
      if (remaining > 0) process.exitCode = 1;
      return;
    }
    case 'user': {
      if (sub !== 'create') throw new UsageError('expected: user create NAME --password PW');
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { password: { type: 'string' }, email: { type: 'string' }, admin: { type: 'boolean', default: false } },
      });
      if (!positionals[0]) throw new UsageError('user create needs a NAME');
      if (!values.password) throw new UsageError('user create needs --password');
      const user = await withContext((ctx) =>
        createUser(ctx.db, { username: positionals[0], password: values.password!, email: values.email ?? null, isAdmin: values.admin }),
      );
      console.log(`created user ${user.username}${user.is_admin ? ' (admin)' : ''}`);
      return;
    }
    case 'apikey': {
      if (sub !== 'create') throw new UsageError('expected: apikey create NAME');
      const key = await withContext(async (ctx) => regenerateApiKey(ctx.db, (await requireUser(ctx, rest[0])).id));
      console.log(`API key for ${rest[0]} (shown once; any earlier key no longer works):`);
      console.log(key);
      return;
    }
    case 'album': {
      if (sub !== 'create') throw new UsageError('expected: album create USER TITLE');
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { description: { type: 'string' }, privacy: { type: 'string', default: 'public' } },
      });
      if (!positionals[1]) throw new UsageError('album create needs USER and TITLE');
      const privacy = values.privacy as 'public' | 'private' | 'unlisted';
      if (!['public', 'private', 'unlisted'].includes(privacy)) throw new UsageError('--privacy must be public, private or unlisted');
      const encoded = await withContext(async (ctx) => {
        const user = await requireUser(ctx, positionals[0]);
        const name = positionals.slice(1).join(' ');
        checkTextLength('name', name, TEXT_LIMITS.albumName);
        checkTextLength('description', values.description, TEXT_LIMITS.albumDescription);
        const album = await createAlbum(ctx.db, { userId: user.id, name, description: values.description, privacy });
        return ctx.ids.encode(album.id);
      });
      console.log(encoded);
      return;
    }
    case 'copy-db':
      return copyDbCommand([sub, ...rest].filter((a): a is string => a !== undefined));
    case 'migrate-storage':
      return migrateStorageCommand([sub, ...rest].filter((a): a is string => a !== undefined));
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`shoebox: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof ShoeboxError || error instanceof SettingsError) {
    console.error(`shoebox: ${error.message}`);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
