#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cliAuditName, recordAdminAction } from '../admin/audit.js';
import { checkTextLength, TEXT_LIMITS } from '../core/text-limits.js';
import { loadSettings, SettingsError } from '../config/settings.js';
import { createAppContext, type AppContext } from '../context.js';
import { errors, ShoeboxError } from '../core/errors.js';
import { regenerateApiKey } from '../db/repositories/api-keys.js';
import { API_SCOPES, createNamedApiKey, isApiScope, scopesAllowedFor, type ApiScope } from '../db/repositories/named-api-keys.js';
import { createAlbumOf } from '../library/album-edits.js';
import { createUser, findUserByUsername } from '../db/repositories/users.js';
import { runEveryJobOnce } from '../jobs/background-jobs.js';
import { startBackgroundJobs } from '../jobs/scheduler.js';
import { listenForChanges } from '../webhooks/webhook-queue.js';

// The modules of the commands other than `serve` (the storage doctor, copy-db, the Chevereto import
// with its progress bar...) are loaded by their command, so `npm start` does not load them.
const moderationCommands = () => import('./moderation-commands.js');
const scaleCommands = () => import('./scale-commands.js');
const importCommands = () => import('./import-chevereto.js');
const userCommands = () => import('./user-commands.js');

async function usage(): Promise<string> {
  const [{ USER_ADMIN_USAGE }, { SCALE_USAGE }, { MODERATION_USAGE }, { IMPORT_USAGE }] = await Promise.all([userCommands(), scaleCommands(), moderationCommands(), importCommands()]);
  return `Usage: shoebox <command>

  serve                                       start the server (npm start)
  migrate                                     apply database migrations and exit
  user create NAME --password PW [--email E] [--admin]
${USER_ADMIN_USAGE}
  apikey create NAME [--label L] [--scopes upload,read,write,delete,admin] [--expires YYYY-MM-DD]
                                              without options: create or regenerate NAME's single key
                                              (every scope); with any: a new named key. The key is
                                              printed alone on the last line
  album create USER TITLE [--description D] [--privacy public|private|unlisted]
                                              create an album; prints its encoded id
  sweep                                       delete expired uploads and stale temp files now
  doctor [--fix]                              check that every row has its files and every file its row;
                                              a dry run unless --fix (exit code 1 when problems remain)
${SCALE_USAGE}
${MODERATION_USAGE}
${IMPORT_USAGE}

Settings come from the environment (see README), the same for the server and the CLI.`;
}

class UsageError extends Error {}

async function withContext<T>(run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await createAppContext(loadSettings());
  // Changes made here (an album created) queue their webhook deliveries for the server to send.
  const stopListening = listenForChanges(ctx);
  try {
    return await run(ctx);
  } finally {
    stopListening();
    await ctx.close();
  }
}

async function requireUser(ctx: AppContext, username: string | undefined) {
  if (!username) throw new UsageError('a user name is required');
  const user = await findUserByUsername(ctx.db, username);
  if (!user) throw errors.noSuchUser(username);
  return user;
}

/** Why the server could not listen, said in terms of the settings that fix it (no stack trace). */
function listenFailure(error: unknown, port: number, host: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new SettingsError(`port ${port} on ${host} is already in use by another program. Stop that program, or set PORT to a free port (e.g. PORT=${port === 65535 ? 3001 : port + 1} npm start).`);
  }
  if (code === 'EACCES') return new SettingsError(`not allowed to listen on port ${port} (ports below 1024 need privileges): set PORT to 1024 or above.`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new SettingsError(`HOST=${host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all.`);
  return error;
}

async function serve(): Promise<void> {
  const settings = loadSettings();
  const ctx = await createAppContext(settings);
  // Loaded only to serve: the other commands start faster without the web server's modules.
  const { buildServer } = await import('../server.js');
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
  try {
    await app.listen({ port: settings.port, host: settings.host });
  } catch (error) {
    await jobs.stop();
    await app.close();
    await ctx.close();
    throw listenFailure(error, settings.port, settings.host);
  }
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
      const { describeReport, examineStorage } = await import('../jobs/storage-doctor.js');
      const report = await withContext((ctx) =>
        examineStorage({
          db: ctx.db,
          storage: ctx.storage,
          claimTimeoutSeconds: ctx.settings.uploadClaimTimeoutSeconds,
          media: { binaries: ctx.binaries, settings: ctx.settings, tmpDir: path.join(ctx.settings.dataDir, 'tmp') },
        }, { fix: values.fix }));
      for (const line of describeReport(report)) console.log(line);
      const remaining = report.fixed ? report.rowsWithoutDerivative.filter((r) => !r.remade).length : report.rowsWithoutMain.length + report.rowsWithoutDerivative.length + report.orphanFiles.length;
      if (remaining > 0) process.exitCode = 1;
      return;
    }
    case 'user': {
      if (sub && sub !== 'create') {
        const { runUserAdminCommand } = await userCommands();
        for (const line of await withContext((ctx) => runUserAdminCommand(ctx, sub, rest))) console.log(line);
        return;
      }
      if (sub !== 'create') throw new UsageError('expected: user create|list|set-password|set-role|disable|enable|delete');
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { password: { type: 'string' }, email: { type: 'string' }, admin: { type: 'boolean', default: false } },
      });
      if (!positionals[0]) throw new UsageError('user create needs a NAME');
      if (!values.password) throw new UsageError('user create needs --password');
      const user = await withContext(async (ctx) => {
        const created = await createUser(ctx.db, { username: positionals[0], password: values.password!, email: values.email ?? null, isAdmin: values.admin });
        await recordAdminAction(ctx.db, { name: cliAuditName() }, 'user.create', created.username, values.admin ? 'role admin (CLI)' : 'role user (CLI)');
        return created;
      });
      console.log(`created user ${user.username}${user.is_admin ? ' (admin)' : ''}`);
      return;
    }
    case 'apikey': {
      if (sub !== 'create') throw new UsageError('expected: apikey create NAME [--label L] [--scopes upload,read]');
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { label: { type: 'string' }, scopes: { type: 'string' }, expires: { type: 'string' } },
      });
      if (!positionals[0]) throw new UsageError('apikey create needs a NAME');
      if (values.label === undefined && values.scopes === undefined && values.expires === undefined) {
        const key = await withContext(async (ctx) => regenerateApiKey(ctx.db, (await requireUser(ctx, positionals[0])).id));
        console.log(`API key for ${positionals[0]} (shown once; any earlier key no longer works):`);
        console.log(key);
        return;
      }
      const created = await withContext(async (ctx) => {
        const user = await requireUser(ctx, positionals[0]);
        const allowed = scopesAllowedFor(user);
        const scopes = values.scopes === undefined ? allowed : values.scopes.split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = scopes.filter((s) => !isApiScope(s));
        if (unknown.length > 0 || scopes.length === 0) throw new UsageError(`--scopes takes a comma list of ${API_SCOPES.join(', ')}`);
        const refused = scopes.filter((s) => !allowed.includes(s as ApiScope));
        if (refused.length > 0) throw new UsageError(`${positionals[0]} is not an admin: no "admin" scope`);
        let expiresAt: string | null = null;
        if (values.expires !== undefined) {
          if (!/^\d{4}-\d{2}-\d{2}$/.test(values.expires) || Number.isNaN(Date.parse(`${values.expires}T00:00:00Z`))) throw new UsageError('--expires takes a date, YYYY-MM-DD');
          // A key that expires before it is made would work nowhere: refuse it, as Settings does.
          if (Date.parse(`${values.expires}T00:00:00Z`) <= Date.now()) throw new UsageError(`--expires ${values.expires} is not in the future: give a later date, YYYY-MM-DD`);
          expiresAt = `${values.expires} 00:00:00`;
        }
        return createNamedApiKey(ctx.db, { userId: user.id, label: values.label?.trim() || 'cli', scopes: scopes as ApiScope[], expiresAt });
      });
      console.log(`API key "${created.row.label}" for ${positionals[0]}, scopes ${created.row.scopes}${created.row.expires_at ? `, expires ${created.row.expires_at} UTC` : ''} (shown once):`);
      console.log(created.plain);
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
        const album = await createAlbumOf(ctx.db, { userId: user.id, name, description: values.description, privacy }, ctx.moderation.screenFor('operator'));
        return ctx.ids.encode(album.id);
      });
      console.log(encoded);
      return;
    }
    case 'copy-db':
      return (await scaleCommands()).copyDbCommand([sub, ...rest].filter((a): a is string => a !== undefined));
    case 'migrate-storage':
      return (await scaleCommands()).migrateStorageCommand([sub, ...rest].filter((a): a is string => a !== undefined));
    case 'ban':
      return (await moderationCommands()).banCommand(sub, rest);
    case 'purge':
      return (await moderationCommands()).purgeCommand([sub, ...rest].filter((a): a is string => a !== undefined));
    case 'takedown':
      return (await moderationCommands()).takedownCommand([sub, ...rest].filter((a): a is string => a !== undefined));
    case 'blocklist':
      return (await moderationCommands()).blocklistCommand(sub, rest);
    case 'stopword':
      return (await moderationCommands()).stopwordCommand(sub, rest);
    case 'import-chevereto':
      return (await importCommands()).importCheveretoCommand([sub, ...rest].filter((a): a is string => a !== undefined));
    case 'help':
    case '--help':
    case '-h':
      console.log(await usage());
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch(async (error: unknown) => {
  if (error instanceof UsageError || error instanceof (await userCommands()).CliUsageError) {
    console.error(`shoebox: ${(error as Error).message}\n\n${await usage()}`);
    process.exit(2);
  }
  if (error instanceof ShoeboxError || error instanceof SettingsError) {
    console.error(`shoebox: ${error.message}`);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
