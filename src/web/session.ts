import type { FastifyReply, FastifyRequest } from 'fastify';
import { fastifyCookie } from '@fastify/cookie';
import type { AppContext } from '../context.js';
import { createSession, deleteSession, findSessionByToken, SESSION_LIFETIME_SECONDS, touchSession } from '../db/repositories/sessions.js';
import type { SessionRow, UserRow } from '../db/schema.js';
import { localChangeCount, recentlyReadPerSite } from '../core/local-changes.js';
import { parseUtc } from '../core/dates.js';

/**
 * Signed-in browsers. The cookie holds an opaque random token (HttpOnly, SameSite=Lax,
 * Secure per SHOEBOX_COOKIE_SECURE); the database holds its hash, so every instance of a
 * scaled-out site knows every session and signing out anywhere signs out everywhere.
 */
export const SESSION_COOKIE = 'shoebox_session';

export interface SignedIn {
  session: SessionRow;
  user: UserRow;
}

const loaded = new WeakMap<FastifyRequest, Promise<SignedIn | null>>();

export function cookieSecure(ctx: AppContext): boolean {
  const setting = ctx.settings.cookieSecure;
  return setting === 'auto' ? ctx.settings.baseUrl.startsWith('https:') : setting;
}

/** Options shared by every cookie the site sets: scoped to the site's path. */
export function baseCookieOptions(ctx: AppContext) {
  return { path: ctx.urls.basePath || '/', httpOnly: true, sameSite: 'lax' as const, secure: cookieSecure(ctx) };
}

/** A cookie of the request, whether or not @fastify/cookie is registered in the caller's scope. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const parsed = (request as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies;
  if (parsed) return parsed[name];
  const header = request.headers.cookie;
  return header ? fastifyCookie.parse(header)[name] : undefined;
}

/** How long a session read from the database is taken as current without reading it again. */
export const SESSION_RECHECK_MS = 1000;
/** Sessions remembered per site at most (least recently used go first). */
const SESSIONS_REMEMBERED = 10_000;

interface RememberedSession {
  signedIn: SignedIn;
  expiresMs: number;
}

/**
 * Sessions (with their users) read from the database moments ago, by cookie token. Reading one
 * costs a hash and two queries, about a third of a signed-in page served from the page cache;
 * within SESSION_RECHECK_MS of reading it, and only while nothing was written through this
 * process since (signing out, a password change, an account disabled, any edit of the user:
 * core/local-changes.ts), the same rows are used again. Another instance's change (signing out
 * there) shows here within that second, as with the page cache (docs/WEB.md "Page cache").
 */
const rememberedOf = recentlyReadPerSite<RememberedSession>(SESSION_RECHECK_MS, SESSIONS_REMEMBERED);

async function lookUpSession(ctx: AppContext, token: string): Promise<SignedIn | null> {
  const remembered = rememberedOf(ctx);
  const now = Date.now();
  const known = remembered.get(token, now);
  if (known) {
    // A copy each: nothing a request does to its rows reaches the next one.
    if (known.expiresMs > now) return { session: { ...known.signedIn.session }, user: { ...known.signedIn.user } };
    remembered.forget(token);
  }
  const changesBefore = localChangeCount();
  const found = await findSessionByToken(ctx.db, token);
  if (found) {
    const signedIn = { session: { ...found.session }, user: { ...found.user } };
    remembered.remember(token, { signedIn, expiresMs: parseUtc(found.session.expires_at).getTime() }, now, changesBefore);
  }
  return found;
}

/** The request's live session and its user, looked up once per request. */
export function getSignedIn(ctx: AppContext, request: FastifyRequest): Promise<SignedIn | null> {
  let found = loaded.get(request);
  if (!found) {
    const token = readCookie(request, SESSION_COOKIE);
    found = token && token.length <= 100 ? lookUpSession(ctx, token) : Promise.resolve(null);
    loaded.set(request, found);
  }
  return found;
}

/**
 * The signed-in user of a request, or null. For any route (the uploader, resumable uploads):
 * it needs no plugin in the caller's scope.
 */
export async function getSessionUser(ctx: AppContext, request: FastifyRequest): Promise<UserRow | null> {
  return (await getSignedIn(ctx, request))?.user ?? null;
}

function setSessionCookie(ctx: AppContext, reply: FastifyReply, token: string) {
  reply.setCookie(SESSION_COOKIE, token, { ...baseCookieOptions(ctx), maxAge: SESSION_LIFETIME_SECONDS });
}

/** Signs the browser in as `user` with a fresh session (never reusing one it brought along). */
export async function startSession(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, user: UserRow): Promise<SignedIn> {
  const previous = await getSignedIn(ctx, request);
  if (previous) await deleteSession(ctx.db, previous.session.id);
  const userAgent = request.headers['user-agent'] ?? null;
  const { token, session } = await createSession(ctx.db, user.id, { ip: request.ip, userAgent });
  setSessionCookie(ctx, reply, token);
  const signedIn = { session, user };
  loaded.set(request, Promise.resolve(signedIn));
  return signedIn;
}

export async function endSession(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const current = await getSignedIn(ctx, request);
  if (current) await deleteSession(ctx.db, current.session.id);
  reply.clearCookie(SESSION_COOKIE, baseCookieOptions(ctx));
  loaded.set(request, Promise.resolve(null));
}

/** Slides an active session's expiry forward (at most hourly) and renews its cookie with it. */
export async function keepSessionAlive(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const current = await getSignedIn(ctx, request);
  if (!current) return;
  if (await touchSession(ctx.db, current.session)) setSessionCookie(ctx, reply, readCookie(request, SESSION_COOKIE)!);
}
