import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShoeboxError } from '../../core/errors.js';
import { findUserByUsername } from '../../db/repositories/users.js';
import { removeImage } from '../../ingest/remove-image.js';
import { IpRangeError, parseRange } from '../../moderation/ip-ranges.js';
import {
  addBan, countPurge, exportBlocklist, importBlocklist, parsePurgeSince, removeBan, removeStopWord, runPurge, setStopWord, type ModerationAdminServices,
} from '../../moderation/moderation-admin.js';
import { STOP_WORD_ACTIONS, type StopWordAction } from '../../moderation/stop-words.js';
import type { PurgeTarget } from '../../moderation/takedown.js';
import { formRoute } from '../form-schemas.js';
import { field, visitorOf, type WebKit } from '../web-kit.js';
import { intField, needs, redirectDone, renderDashboard } from './dashboard-kit.js';

/**
 * The moderation tools that were only in the CLI, as dashboard screens: IP bans, the stop-word
 * lists, purges (the count shown before a confirmed delete) and the blocklist's export and
 * import. Each action is one POST with the CSRF token, confirmed where it deletes, checked
 * against the role (core/roles.ts, in the dashboard's hook) and written to the audit log by
 * the service it calls (moderation/moderation-admin.ts).
 */
const BANS = '/dashboard/moderation/bans';
const WORDS = '/dashboard/moderation/stop-words';
const PURGE = '/dashboard/moderation/purge';
const BLOCKLIST = '/dashboard/moderation/blocklist';
/** A blocklist export of 100,000 entries is about 12 MB. */
const MAX_IMPORT_BYTES = 32 * 1024 * 1024;

export async function registerModerationDashboard(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const services: ModerationAdminServices = {
    db: ctx.db,
    bans: ctx.moderation.bans,
    stopWords: ctx.moderation.stopWords,
    blocklist: ctx.moderation.blocklist,
    removeImage: (image) => removeImage(ctx.db, ctx.storage, image),
  };
  const actorOf = (request: FastifyRequest) => ({ name: visitorOf(request).user!.username, ip: request.ip });

  /** A refusal the moderator can correct (a bad range, duration, file...): its message, shown on the page. */
  function problemOf(error: unknown): string | null {
    if (error instanceof IpRangeError) return error.message;
    if (error instanceof ShoeboxError && error.httpStatus < 500) return error.message;
    return null;
  }

  // ---- IP bans ------------------------------------------------------------------------------
  async function renderBans(request: FastifyRequest, reply: FastifyReply, extras: { error?: string; values?: Record<string, string> } = {}, status = 200) {
    return renderDashboard(kit, request, reply, 'moderation-bans', {
      title: visitorOf(request).t('moderation.bans.title'),
      bans: await ctx.moderation.bans.list(),
      error: extras.error ?? null,
      values: { range: '', expires: '', message: '', ...extras.values },
    }, status);
  }

  app.get(BANS, needs('moderation.bans'), async (request, reply) => renderBans(request, reply));

  app.post(BANS, formRoute(['range', 'expires', 'message'], needs('moderation.bans')), async (request, reply) => {
    const input = { range: field(request.body, 'range'), expires: field(request.body, 'expires'), message: field(request.body, 'message').trim() };
    try {
      await addBan(services, input, actorOf(request));
    } catch (error) {
      const problem = problemOf(error);
      if (problem === null) throw error;
      return renderBans(request, reply, { error: problem, values: input }, 400);
    }
    return redirectDone(kit, reply, BANS, 'ban-added:1');
  });

  app.post(`${BANS}/remove`, formRoute(['range', 'confirm'], needs('moderation.bans')), async (request, reply) => {
    if (field(request.body, 'confirm') !== 'yes') return renderBans(request, reply, { error: visitorOf(request).t('dashboard.error.confirm') }, 400);
    let removed = false;
    try {
      removed = await removeBan(services, field(request.body, 'range'), actorOf(request));
    } catch (error) {
      const problem = problemOf(error);
      if (problem === null) throw error;
      return renderBans(request, reply, { error: problem }, 400);
    }
    if (!removed) return renderBans(request, reply, { error: visitorOf(request).t('moderation.bans.no-such') }, 404);
    return redirectDone(kit, reply, BANS, 'ban-removed:1');
  });

  // ---- Stop words ---------------------------------------------------------------------------
  async function renderWords(request: FastifyRequest, reply: FastifyReply, error: string | null = null, status = 200) {
    const words = await ctx.moderation.stopWords.list();
    return renderDashboard(kit, request, reply, 'moderation-stop-words', {
      title: visitorOf(request).t('moderation.stop-words.title'),
      lists: STOP_WORD_ACTIONS.map((action) => ({ action, words: words.filter((w) => (w.action === 'hold' ? 'hold' : 'refuse') === action) })),
      actions: STOP_WORD_ACTIONS,
      error,
    }, status);
  }

  app.get(WORDS, needs('moderation.stop-words'), async (request, reply) => renderWords(request, reply));

  app.post(WORDS, formRoute(['words', 'action'], needs('moderation.stop-words')), async (request, reply) => {
    const action = field(request.body, 'action') as StopWordAction;
    // One word, or several: one a line.
    const words = field(request.body, 'words').split(/\r?\n/).map((w) => w.trim()).filter(Boolean).slice(0, 500);
    if (words.length === 0 || !STOP_WORD_ACTIONS.includes(action)) return renderWords(request, reply, visitorOf(request).t('moderation.stop-words.need-word'), 400);
    try {
      for (const word of words) await setStopWord(services, word, action, actorOf(request));
    } catch (error) {
      const problem = problemOf(error);
      if (problem === null) throw error;
      return renderWords(request, reply, problem, 400);
    }
    return redirectDone(kit, reply, WORDS, `word-saved:${words.length}`);
  });

  app.post(`${WORDS}/remove`, formRoute(['word', 'confirm'], needs('moderation.stop-words')), async (request, reply) => {
    if (field(request.body, 'confirm') !== 'yes') return renderWords(request, reply, visitorOf(request).t('dashboard.error.confirm'), 400);
    const removed = await removeStopWord(services, field(request.body, 'word'), actorOf(request));
    if (!removed) return renderWords(request, reply, visitorOf(request).t('moderation.stop-words.no-such'), 404);
    return redirectDone(kit, reply, WORDS, 'word-removed:1');
  });

  // ---- Purge --------------------------------------------------------------------------------
  interface PurgeForm { by: 'user' | 'ip'; value: string; since: string }
  const purgeFormOf = (source: unknown): PurgeForm => ({
    by: field(source, 'by') === 'ip' ? 'ip' : 'user',
    value: field(source, 'value').trim(),
    since: field(source, 'since').trim(),
  });

  /** The purge a form asks for, or the message saying why it cannot be one. */
  async function targetOf(request: FastifyRequest, form: PurgeForm): Promise<{ target: PurgeTarget; label: string } | { error: string }> {
    const { t } = visitorOf(request);
    try {
      const since = parsePurgeSince(form.since);
      if (form.by === 'user') {
        const user = await findUserByUsername(ctx.db, form.value);
        if (!user) return { error: t('moderation.purge.no-user', { name: form.value }) };
        return { target: { userId: user.id, since }, label: `user ${user.username}` };
      }
      const range = parseRange(form.value).text; // refuses what is not an address or range
      return { target: { range, since }, label: `address ${range}` };
    } catch (error) {
      const problem = problemOf(error);
      if (problem === null) throw error;
      return { error: problem };
    }
  }

  async function renderPurge(request: FastifyRequest, reply: FastifyReply, form: PurgeForm | null, extras: { error?: string; count?: number } = {}, status = 200) {
    return renderDashboard(kit, request, reply, 'moderation-purge', {
      title: visitorOf(request).t('moderation.purge.title'),
      form: form ?? { by: 'user', value: '', since: '' },
      count: extras.count ?? null,
      error: extras.error ?? null,
    }, status);
  }

  // Counting is a GET (it changes nothing): the form below it confirms the delete.
  app.get(PURGE, needs('moderation.purge'), async (request, reply) => {
    const form = purgeFormOf(request.query);
    if (!form.value) return renderPurge(request, reply, null);
    const found = await targetOf(request, form);
    if ('error' in found) return renderPurge(request, reply, form, { error: found.error }, 400);
    return renderPurge(request, reply, form, { count: await countPurge(services, found.target) });
  });

  app.post(PURGE, formRoute(['by', 'value', 'since', 'count', 'confirm', 'reason'], needs('moderation.purge')), async (request, reply) => {
    const form = purgeFormOf(request.body);
    const found = await targetOf(request, form);
    if ('error' in found) return renderPurge(request, reply, form, { error: found.error }, 400);
    const confirmed = intField(request.body, 'count', -1, -1);
    if (field(request.body, 'confirm') !== 'yes' || confirmed < 0) {
      return renderPurge(request, reply, form, { error: visitorOf(request).t('dashboard.error.confirm'), count: await countPurge(services, found.target) }, 400);
    }
    const result = await runPurge(services, found.target, { confirmed, label: found.label, reason: field(request.body, 'reason') }, actorOf(request));
    if ('changed' in result) {
      return renderPurge(request, reply, form, { error: visitorOf(request).t('moderation.purge.changed', { count: result.changed }), count: result.changed }, 409);
    }
    return redirectDone(kit, reply, PURGE, `purged:${result.removed}`);
  });

  // ---- Blocklist ----------------------------------------------------------------------------
  async function renderBlocklist(request: FastifyRequest, reply: FastifyReply, error: string | null = null, status = 200) {
    await ctx.moderation.blocklist.sync(true);
    return renderDashboard(kit, request, reply, 'moderation-blocklist', {
      title: visitorOf(request).t('moderation.blocklist.title'),
      size: ctx.moderation.blocklist.size,
      maxImportMb: MAX_IMPORT_BYTES / 1024 / 1024,
      error,
    }, status);
  }

  app.get(BLOCKLIST, needs('moderation.blocklist'), async (request, reply) => renderBlocklist(request, reply));

  // A download: changes nothing on the site, but who took the list is in the audit log.
  app.get(`${BLOCKLIST}.json`, needs('moderation.blocklist'), async (request, reply) => {
    const data = await exportBlocklist(services, actorOf(request));
    return reply
      .header('Cache-Control', 'no-store')
      .header('Content-Disposition', 'attachment; filename="shoebox-blocklist.json"')
      .type('application/json; charset=utf-8')
      .send(`${JSON.stringify(data, null, 1)}\n`);
  });

  // Multipart bodies are not parsed before the hooks, so this form's Origin is checked by the
  // site's hook (`same-origin`), and its CSRF token, sent as the form's first field, here.
  app.post(`${BLOCKLIST}/import`, needs('moderation.blocklist', { csrf: 'same-origin' }), async (request, reply) => {
    const { t } = visitorOf(request);
    if (!request.isMultipart()) return renderBlocklist(request, reply, t('moderation.blocklist.no-file'), 400);
    let token = '';
    let data: Buffer | null = null;
    try {
      for await (const part of request.parts({ limits: { fileSize: MAX_IMPORT_BYTES + 1, files: 1, fields: 4 } })) {
        if (part.type === 'file') data = await part.toBuffer();
        else if (part.fieldname === '_csrf' && typeof part.value === 'string') token = part.value;
      }
    } catch (error) {
      if ((error as { code?: string }).code !== 'FST_REQ_FILE_TOO_LARGE') throw error;
      return renderBlocklist(request, reply, t('moderation.blocklist.too-big', { mb: MAX_IMPORT_BYTES / 1024 / 1024 }), 413);
    }
    if (!(await csrfTokenValid(app, request, reply, token))) return renderBlocklist(request, reply, t('error.csrf'), 403);
    if (!data || data.length === 0) return renderBlocklist(request, reply, t('moderation.blocklist.no-file'), 400);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch (error) {
      return renderBlocklist(request, reply, `${t('moderation.blocklist.not-json')} ${(error as Error).message}`, 400);
    }
    let result;
    try {
      result = await importBlocklist(services, parsed, actorOf(request));
    } catch (error) {
      const problem = problemOf(error);
      if (problem === null) throw error;
      return renderBlocklist(request, reply, problem, 400);
    }
    return redirectDone(kit, reply, BLOCKLIST, `imported:${result.added}:${result.skipped}`);
  });
}

/** The session's CSRF check (@fastify/csrf-protection) on a token read from a multipart body. */
function csrfTokenValid(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, token: string): Promise<boolean> {
  const saved = request.body;
  request.body = { _csrf: token };
  return new Promise((resolve) => {
    app.csrfProtection(request, reply, (error?: Error) => {
      request.body = saved;
      resolve(!error);
    });
  });
}
