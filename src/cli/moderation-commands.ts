import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadSettings } from '../config/settings.js';
import { createAppContext, type AppContext } from '../context.js';
import { errors } from '../core/errors.js';
import { findImageById } from '../db/repositories/images.js';
import { findUserByUsername } from '../db/repositories/users.js';
import { removeImage } from '../ingest/remove-image.js';
import {
  addBan, countPurge, exportBlocklist, importBlocklist, parsePurgeSince, removeBan, removeStopWord, runPurge, setStopWord, type ModerationAdminServices,
} from '../moderation/moderation-admin.js';
import { IpRangeError } from '../moderation/ip-ranges.js';
import { takeDown, type Actor, type PurgeTarget } from '../moderation/takedown.js';

/**
 * `shoebox ban|purge|blocklist|stopword|takedown …`: moderation from the command line
 * (docs/MODERATION.md). Every change goes through the dashboard's audited services
 * (moderation/moderation-admin.ts, moderation/takedown.ts), so each one is in the audit log as
 * `cli:<system user>`, with no address.
 */

export const MODERATION_USAGE = `  ban add ADDRESS|CIDR [--expires DURATION] [--message TEXT]
                                              refuse writes and API calls from an address or range (DURATION: 30m, 12h, 7d, 2w, 3mo, 1y)
  ban list                                    bans in force
  ban remove ADDRESS|CIDR
  purge --user NAME | --ip ADDRESS|CIDR [--since DATE] [--dry-run] [--reason TEXT] [--no-blocklist]
                                              count, then remove everything uploaded by a user or from an address or range
  takedown ID [--reason TEXT]                 remove one upload (encoded id) and put it on the blocklist
  blocklist export [FILE] | import FILE | count
                                              the takedown blocklist as JSON (stdout when no FILE)
  stopword add WORD [--hold] | remove WORD | list
                                              words refused (or, with --hold, sent for approval) in titles, tags, names`;

function refuse(message: string) {
  return errors.commandRefused(message);
}

const cliActor = (): Actor => ({ name: `cli:${safeUser()}`, ip: null });

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function withContext<T>(run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await createAppContext(loadSettings());
  try {
    return await run(ctx);
  } catch (error) {
    if (error instanceof IpRangeError) throw refuse(error.message);
    throw error;
  } finally {
    await ctx.close();
  }
}

/** The same services the dashboard's moderation pages use (web/dashboard/moderation-routes.ts). */
function moderationServices(ctx: AppContext): ModerationAdminServices {
  return {
    db: ctx.db,
    bans: ctx.moderation.bans,
    stopWords: ctx.moderation.stopWords,
    blocklist: ctx.moderation.blocklist,
    removeImage: (image) => removeImage(ctx.db, ctx.storage, image),
  };
}

export async function banCommand(sub: string | undefined, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { expires: { type: 'string' }, message: { type: 'string' } } });
  await withContext(async (ctx) => {
    const actor = cliActor();
    if (sub === 'add') {
      if (!positionals[0]) throw refuse('ban add needs an ADDRESS or CIDR range');
      const row = await addBan(moderationServices(ctx), { range: positionals[0], expires: values.expires ?? '', message: values.message ?? '' }, actor);
      console.log(`banned ${row.range}${row.expires_at ? ` until ${row.expires_at} UTC` : ''}`);
    } else if (sub === 'remove') {
      if (!positionals[0]) throw refuse('ban remove needs an ADDRESS or CIDR range');
      if (!(await removeBan(moderationServices(ctx), positionals[0], actor))) throw errors.notFound(`No ban on ${positionals[0]}`);
      console.log(`removed the ban on ${positionals[0]}`);
    } else if (sub === 'list') {
      const bans = await ctx.moderation.bans.list();
      if (bans.length === 0) console.log('no bans');
      for (const ban of bans) console.log([ban.range, ban.expires_at ? `until ${ban.expires_at}` : 'no end', ban.message ?? ''].join('\t').trimEnd());
    } else {
      throw refuse('expected: ban add|list|remove');
    }
  });
}

export async function purgeCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' }, ip: { type: 'string' }, since: { type: 'string' }, 'dry-run': { type: 'boolean', default: false },
      reason: { type: 'string' }, 'no-blocklist': { type: 'boolean', default: false },
    },
  });
  if (Boolean(values.user) === Boolean(values.ip)) throw refuse('purge needs exactly one of --user NAME or --ip ADDRESS|CIDR');
  const since = parsePurgeSince(values.since);
  await withContext(async (ctx) => {
    let target: PurgeTarget;
    let label: string;
    if (values.user) {
      const user = await findUserByUsername(ctx.db, values.user);
      if (!user) throw errors.noSuchUser(values.user);
      target = { userId: user.id, since };
      label = `user ${user.username}`;
    } else {
      target = { range: values.ip!, since };
      label = `address ${values.ip}`;
    }
    const services = moderationServices(ctx);
    const count = await countPurge(services, target);
    console.log(`${count} upload${count === 1 ? '' : 's'} by ${label}${since ? ` since ${since} UTC` : ''}`);
    if (values['dry-run'] || count === 0) {
      if (values['dry-run']) console.log('dry run: nothing removed');
      return;
    }
    // The operator asked for everything: uploads that arrive between the count and the purge go too.
    const result = await runPurge(services, target, { confirmed: Number.POSITIVE_INFINITY, label, reason: values.reason, blocklist: !values['no-blocklist'] }, cliActor());
    console.log(`removed ${'removed' in result ? result.removed : 0}`);
  });
}

export async function takedownCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { reason: { type: 'string' } } });
  if (!positionals[0]) throw refuse('takedown needs the upload\'s encoded id');
  await withContext(async (ctx) => {
    const id = ctx.ids.decode(positionals[0]);
    const image = id === null ? undefined : await findImageById(ctx.db, id);
    if (!image) throw errors.notFound(`No upload with id ${positionals[0]}`);
    await takeDown(moderationServices(ctx), [image], { reason: values.reason ?? 'removed by a moderator', actor: cliActor(), action: 'takedown' });
    console.log(`removed ${positionals[0]} and put it on the blocklist`);
  });
}

export async function blocklistCommand(sub: string | undefined, args: string[]): Promise<void> {
  await withContext(async (ctx) => {
    const blocklist = ctx.moderation.blocklist;
    if (sub === 'export') {
      const text = `${JSON.stringify(await exportBlocklist(moderationServices(ctx), cliActor()), null, 1)}\n`;
      if (args[0]) await writeFile(args[0], text);
      else process.stdout.write(text);
    } else if (sub === 'import') {
      if (!args[0]) throw refuse('blocklist import needs a FILE');
      let data: unknown;
      try {
        data = JSON.parse(await readFile(args[0], 'utf8'));
      } catch (error) {
        throw refuse(`${args[0]}: ${(error as Error).message}`);
      }
      const { added, skipped } = await importBlocklist(moderationServices(ctx), data, cliActor());
      console.log(`added ${added} entries (${skipped} already on the list)`);
    } else if (sub === 'count') {
      await blocklist.sync(true);
      console.log(String(blocklist.size));
    } else {
      throw refuse('expected: blocklist export|import|count');
    }
  });
}

export async function stopwordCommand(sub: string | undefined, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { hold: { type: 'boolean', default: false } } });
  await withContext(async (ctx) => {
    const words = ctx.moderation.stopWords;
    if (sub === 'add') {
      if (!positionals[0]) throw refuse('stopword add needs a WORD');
      const word = await setStopWord(moderationServices(ctx), positionals.join(' '), values.hold ? 'hold' : 'refuse', cliActor());
      console.log(`${values.hold ? 'holding for approval' : 'refusing'} "${word}"`);
    } else if (sub === 'remove') {
      if (!positionals[0]) throw refuse('stopword remove needs a WORD');
      if (!(await removeStopWord(moderationServices(ctx), positionals.join(' '), cliActor()))) throw errors.notFound(`"${positionals.join(' ')}" is not a stop word`);
      console.log('removed');
    } else if (sub === 'list') {
      for (const row of await words.list()) console.log(`${row.word}\t${row.action}`);
    } else {
      throw refuse('expected: stopword add|remove|list');
    }
  });
}
