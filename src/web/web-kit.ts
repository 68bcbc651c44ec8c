import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TFunction } from 'i18next';
import type { ShoeboxError } from '../core/errors.js';
import { escapeHtml } from '../core/text.js';
import type { AppContext } from '../context.js';
import { can, roleOf } from '../core/roles.js';
import { renderMarkdown } from './markdown.js';
import type { SessionRow, UserRow } from '../db/schema.js';
import { Formats, LANGUAGES, isLanguage, languageFromAcceptHeader, matchLanguage, type LanguageCode, type Translator } from './i18n.js';
import { newCsrfPlaceholder, type PageCache, type PageFacts } from './page-cache.js';
import { getSignedIn, readCookie } from './session.js';
import type { ViewCounter } from './view-counter.js';
import { ACCOUNT_NOTICES } from './accounts/account-kit.js';

/** What every page of the web site shares: the app, the catalogs, the site's web secret. */
export interface WebKit {
  ctx: AppContext;
  translate: (lang: LanguageCode) => Translator;
  /** Site-wide secret (kept in the database, so every instance has the same) for HMACs. */
  secret: string;
  /** Changes when the CSS or JS changes, so their URLs can be cached long. */
  assetVersion: string;
  /** Rendered pages for visitors without a session (viewer pages, see page-cache.ts). */
  pages: PageCache;
  /** Viewer page views, written to the database in batches. */
  views: ViewCounter;
}

/** The person behind a request: their account (if signed in), language and preferences. */
export interface Visitor {
  user: UserRow | null;
  session: SessionRow | null;
  lang: LanguageCode;
  t: TFunction;
  formats: Formats;
  showNsfw: boolean;
}

export const LANGUAGE_COOKIE = 'shoebox_lang';
export const NSFW_COOKIE = 'shoebox_nsfw';

const visitors = new WeakMap<FastifyRequest, Visitor>();

/** Language: the account's choice, else the picker's cookie, else Accept-Language, else the site default. */
export function chooseLanguage(kit: WebKit, request: FastifyRequest, user: UserRow | null): LanguageCode {
  // Only the languages the site offers (SHOEBOX_LANGUAGES, a dashboard setting).
  const offered = kit.ctx.settings.languages;
  if (user?.language && isLanguage(user.language) && offered.includes(user.language)) return user.language;
  const cookie = readCookie(request, LANGUAGE_COOKIE);
  if (cookie && isLanguage(cookie) && offered.includes(cookie)) return cookie;
  return languageFromAcceptHeader(request.headers['accept-language'], offered) ?? matchLanguage(kit.ctx.settings.defaultLanguage) ?? 'en';
}

/**
 * Formats keep their Intl formatters (each made on first use, about 0.5 ms for all): one per
 * language and time zone is shared by every request.
 */
const formatsCache = new Map<string, Formats>();
function formatsFor(lang: LanguageCode, timeZone: string): Formats {
  const key = `${lang}|${timeZone}`;
  let formats = formatsCache.get(key);
  if (!formats) {
    formats = new Formats(lang, timeZone);
    // Time zones come from users' settings: a bounded set, but keep the map bounded anyway.
    if (formatsCache.size >= 1000) formatsCache.clear();
    formatsCache.set(key, formats);
  }
  return formats;
}

export async function loadVisitor(kit: WebKit, request: FastifyRequest): Promise<Visitor> {
  const known = visitors.get(request);
  if (known) return known;
  const signedIn = await getSignedIn(kit.ctx, request);
  const user = signedIn?.user ?? null;
  const lang = chooseLanguage(kit, request, user);
  const visitor: Visitor = {
    user,
    session: signedIn?.session ?? null,
    lang,
    t: kit.translate(lang).t,
    formats: formatsFor(lang, user?.timezone ?? kit.ctx.settings.timezone),
    showNsfw: user ? user.show_nsfw === 1 : nsfwChoice(kit, request),
  };
  visitors.set(request, visitor);
  return visitor;
}

/** A visitor without an account: their footer choice, else the site's default (SHOEBOX_SHOW_NSFW). */
function nsfwChoice(kit: WebKit, request: FastifyRequest): boolean {
  const cookie = readCookie(request, NSFW_COOKIE);
  return cookie === undefined ? kit.ctx.settings.showNsfwDefault : cookie === '1';
}

/** The visitor loaded by the site's onRequest hook. */
export function visitorOf(request: FastifyRequest): Visitor {
  const visitor = visitors.get(request);
  if (!visitor) throw new Error('visitor not loaded: route outside the web site scope');
  return visitor;
}

/** Forget the cached visitor after sign-in, sign-out or a language change, so this response already shows it. */
export function forgetVisitor(request: FastifyRequest): void {
  visitors.delete(request);
}

export { secretsEqual as safeEqual } from '../core/secrets.js';

/** A path inside the site, with the base path in front. */
export function sitePath(kit: WebKit, pathname: string): string {
  return `${kit.ctx.urls.basePath}${pathname}`;
}

/**
 * The request's path and query as the browser sees it: behind a proxy that strips the base
 * path (both mounts answer, see server.ts) the base path is put back.
 */
export function publicUrlOf(kit: WebKit, request: FastifyRequest): string {
  const base = kit.ctx.urls.basePath;
  // What the visitor asked for (a viewer route may have been rewritten to its fixed segment, live-routes.ts).
  const url = request.originalUrl;
  return !base || url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`) ? url : `${base}${url}`;
}

/** Only a path of this site may be a redirect target (no `//evil.example`, no `https:`). */
export function safeReturnPath(kit: WebKit, candidate: unknown): string | null {
  if (typeof candidate !== 'string' || !candidate.startsWith('/') || candidate.startsWith('//') || candidate.includes('\\')) return null;
  if (/[\u0000-\u001f]/.test(candidate)) return null;
  const base = kit.ctx.urls.basePath;
  return !base || candidate === base || candidate.startsWith(`${base}/`) || candidate.startsWith(`${base}?`) ? candidate : null;
}

/** A single form or query value (repeated fields give the first). */
export function field(source: unknown, name: string): string {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : '';
}

/** Every value of a repeated form field. */
export function fieldList(source: unknown, name: string): string[] {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string');
}

/** What a CSRF token is bound to: the session, or `guest`. */
export function csrfUserInfo(visitor: Pick<Visitor, 'session'>): string {
  return visitor.session ? `session:${visitor.session.id}` : 'guest';
}

/** Notices a redirect may ask a page to show (?notice=...); anything else is ignored. */
const NOTICES = new Set([
  'signed-in', 'signed-out', 'welcome', 'password-changed', 'preferences-saved', 'album-created', 'album-saved',
  'album-deleted', 'file-saved', 'file-deleted', 'files-moved', 'cover-set', 'deleted',
  'nothing-selected', 'reported', 'files-updated', 'files-deleted-many',
  ...ACCOUNT_NOTICES,
]);

export interface PageData {
  [key: string]: unknown;
  title?: string;
}

/**
 * This visitor's CSRF token (and its secret cookie, set when missing), bound to the session (see
 * site.ts, getUserInfo), escaped for an attribute as the templates escape values.
 */
export function csrfAttributeFor(request: FastifyRequest, reply: FastifyReply): string {
  const userInfo = csrfUserInfo(visitorOf(request));
  const secret = readCookie(request, CSRF_SECRET_COOKIE);
  // No secret cookie yet: a new secret, set as a cookie by generateCsrf.
  if (!secret) return escapeHtml(reply.generateCsrf({ userInfo }));
  // A token stays valid as long as its secret and session do (no expiry is set), so the same
  // browser in the same session gets the one made for it before: an HMAC less per page.
  const key = `${secret}|${userInfo}`;
  let csrfTokens = csrfTokensOfSite.get(reply.generateCsrf);
  if (!csrfTokens) {
    csrfTokens = new Map();
    csrfTokensOfSite.set(reply.generateCsrf, csrfTokens);
  }
  let token = csrfTokens.get(key);
  if (token === undefined) {
    token = escapeHtml(reply.generateCsrf({ userInfo }));
    csrfTokens.set(key, token);
    if (csrfTokens.size > CSRF_TOKENS_KEPT) csrfTokens.delete(csrfTokens.keys().next().value!);
  }
  return token;
}

/** The cookie @fastify/csrf-protection keeps each browser's CSRF secret in (site.ts). */
export const CSRF_SECRET_COOKIE = 'shoebox_csrf';
const CSRF_TOKENS_KEPT = 10_000;
/**
 * Tokens made, by secret and what they are bound to, per site: keyed by the site's generateCsrf
 * (made when @fastify/csrf-protection is registered, with that site's HMAC key).
 */
const csrfTokensOfSite = new WeakMap<object, Map<string, string>>();

/**
 * Puts this visitor's CSRF token where the page has its render's `placeholder`. A page without a
 * form that needs one (most pages for visitors without a session: the footer's forms are checked
 * by origin) gets no token and sets no CSRF cookie.
 */
export function withCsrfToken(html: string, placeholder: string, request: FastifyRequest, reply: FastifyReply): string {
  // Bound to the session (see site.ts, getUserInfo): a token from before signing in is refused after it.
  return html.includes(placeholder) ? html.split(placeholder).join(csrfAttributeFor(request, reply)) : html;
}

/**
 * Renders a template of views/ inside the layout, with everything the layout needs. With
 * `keep`, the page is also handed, rendered with a placeholder for the token, to `keep`
 * (the page cache) before the visitor's token goes in.
 */
export async function renderPage(kit: WebKit, request: FastifyRequest, reply: FastifyReply, view: string, data: PageData, status = 200, keep?: (html: string, placeholder: string) => void) {
  const visitor = visitorOf(request);
  const placeholder = newCsrfPlaceholder();
  const { settings } = kit.ctx;
  const noticeKey = field(request.query, 'notice');
  const html = await request.server.view(view, {
    ...data,
    t: visitor.t,
    lang: visitor.lang,
    languages: LANGUAGES.filter((l) => settings.languages.includes(l.code)),
    f: visitor.formats,
    user: visitor.user,
    // The header shows the account's picture when it has one, else its initial.
    userAvatar: visitor.user ? avatarUrlOf(kit, visitor.user) : null,
    showNsfw: visitor.showNsfw,
    dashboardLink: can(roleOf(visitor.user), 'dashboard.view'),
    // Filled in after rendering, and only when the page has a form that needs it (withCsrfToken).
    csrf: placeholder,
    u: (pathname: string) => sitePath(kit, pathname),
    currentPath: publicUrlOf(kit, request),
    assets: {
      css: sitePath(kit, `/static/site.css?v=${kit.assetVersion}`),
      js: sitePath(kit, `/static/site.js?v=${kit.assetVersion}`),
      everydayCss: sitePath(kit, `/static/everyday.css?v=${kit.assetVersion}`),
      everydayJs: sitePath(kit, `/static/everyday.js?v=${kit.assetVersion}`),
      themeJs: sitePath(kit, `/static/theme.js?v=${kit.assetVersion}`),
    },
    site: {
      name: settings.siteName,
      description: settings.siteDescription,
      logo: kit.ctx.live.assets.has('logo') ? sitePath(kit, `/site/logo?v=${encodeURIComponent(kit.ctx.live.assets.get('logo')!.updatedAt)}`) : null,
      favicon: kit.ctx.live.assets.has('favicon') ? sitePath(kit, `/site/favicon?v=${encodeURIComponent(kit.ctx.live.assets.get('favicon')!.updatedAt)}`) : null,
      footerPages: kit.ctx.live.footerPages,
      homeIntro: view === 'home' ? homeIntroHtml(settings.homeIntro) : '',
      canUpload: visitor.user !== null || settings.guestWebUploads,
      signup: settings.signup,
    },
    notice: NOTICES.has(noticeKey) ? visitor.t(`notice.${noticeKey}`) : null,
  });
  if (keep) keep(html, placeholder);
  return sendPage(request, reply, withCsrfToken(html, placeholder, request, reply), status);
}

/**
 * Where this request's page is kept in the page cache (page-cache.ts), or null when it is not:
 * one copy per page and URL, language, NSFW choice, the dashboard's settings (their version) and,
 * for a signed-in person, account; visitors without a session share one.
 */
export function pageCacheKey(kit: WebKit, request: FastifyRequest, page: string): string | null {
  if (!kit.pages.enabled) return null;
  const { user, session, lang, showNsfw } = visitorOf(request);
  if (session !== null && user === null) return null;
  return `${page}|${publicUrlOf(kit, request)}|${lang}|${showNsfw ? 1 : 0}|${kit.ctx.live.version}|${user?.id ?? ''}`;
}

/** Sends the kept page when it was checked against its rows moments ago (PageCache.fresh), with this visitor's CSRF token; null when it was not. */
export function sendFreshPage(kit: WebKit, request: FastifyRequest, reply: FastifyReply, key: string | null) {
  if (key === null) return null;
  const page = kit.pages.fresh(key, publicUrlOf(kit, request).split('?')[0], () => csrfAttributeFor(request, reply));
  return page === null ? null : sendPage(request, reply, page);
}

/**
 * A page's rows, just read, against its kept copy: sends the copy when they are what it was
 * rendered from (`sent`), else gives what renderPage needs to keep the page it renders now
 * (`keep`). `rows` is everything the page shows; the signed-in person's account row is added.
 * `openToAll`: anyone who may see the page now may see it without asking again within the recheck
 * window (no password on the way, page-cache.ts).
 */
export function checkKeptPage(kit: WebKit, request: FastifyRequest, reply: FastifyReply, key: string | null, changesBefore: number, rows: unknown[], openToAll = true): {
  sent: FastifyReply | null;
  keep?: (html: string, placeholder: string) => void;
} {
  if (key === null) return { sent: null };
  const facts: PageFacts = {
    version: JSON.stringify([visitorOf(request).user, ...rows]),
    path: publicUrlOf(kit, request).split('?')[0],
    fileExpires: null,
    openToAll,
    changesBefore,
  };
  const cached = kit.pages.get(key, facts, () => csrfAttributeFor(request, reply));
  if (cached !== null) return { sent: sendPage(request, reply, cached) };
  return { sent: null, keep: (html, placeholder) => kit.pages.set(key, facts, html, placeholder) };
}

/** Where an account's picture is served (`/avatars/<file>`), or null when it has none. */
export function avatarUrlOf(kit: WebKit, user: Pick<UserRow, 'avatar_key'>): string | null {
  return user.avatar_key ? sitePath(kit, `/${user.avatar_key}`) : null;
}

/** The home page's intro (SHOEBOX_HOME_INTRO, Markdown), rendered once per text. */
let lastIntro: { text: string; html: string } = { text: '', html: '' };
function homeIntroHtml(text: string): string {
  if (text !== lastIntro.text) lastIntro = { text, html: text.trim() ? renderMarkdown(text) : '' };
  return lastIntro.html;
}

/** Sends a rendered page with the headers every page has (a cached page gets the same). */
export function sendPage(request: FastifyRequest, reply: FastifyReply, html: string | Buffer, status = 200) {
  // Pages differ per visitor: shared caches must not keep them (a route may ask for stricter).
  if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'private, no-cache');
  return reply.code(status).type('text/html; charset=utf-8').header('Content-Language', visitorOf(request).lang).send(html);
}

/** A page that only says what went wrong, in the visitor's language. */
export function renderError(kit: WebKit, request: FastifyRequest, reply: FastifyReply, status: number, messageKey: string) {
  const { t } = visitorOf(request);
  return renderPage(kit, request, reply, 'error', { title: t(messageKey), message: t(messageKey), status }, status);
}

/**
 * The page for a text over its limit (core/text-limits.ts): it names the field and the limit in
 * the visitor's language, as the API's 400 names them in English.
 */
export function renderTextTooLong(kit: WebKit, request: FastifyRequest, reply: FastifyReply, error: ShoeboxError) {
  const { t } = visitorOf(request);
  const details = (error.details ?? {}) as { field?: string; unit?: string; max?: number; tags?: number };
  const fieldName = t(`text-limits.fields.${details.field ?? 'text'}`, { defaultValue: details.field ?? '' });
  const messageKey = details.unit === 'tags' ? 'text-limits.too-many-tags' : details.unit === 'tagCharacters' ? 'text-limits.tags-too-long' : 'text-limits.too-long';
  const message = t(messageKey, { field: fieldName, max: details.max, tags: details.tags });
  return renderPage(kit, request, reply, 'error', { title: t('text-limits.title'), message, detail: t('text-limits.go-back'), status: 400 }, 400);
}

/** Redirect after a form (POST, then GET) to a full path (base path included), with an optional notice for the next page. */
export function redirectWithNotice(reply: FastifyReply, fullPath: string, notice?: string) {
  const separator = fullPath.includes('?') ? '&' : '?';
  return reply.redirect(notice ? `${fullPath}${separator}notice=${notice}` : fullPath, 303);
}

/** The same, for a path inside the site (the base path is added). */
export function redirectTo(kit: WebKit, reply: FastifyReply, pathname: string, notice?: string) {
  return redirectWithNotice(reply, sitePath(kit, pathname), notice);
}
