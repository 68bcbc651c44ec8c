import type { FastifyInstance } from 'fastify';
import { setUserLanguage, setUserShowNsfw } from '../../db/repositories/user-preferences.js';
import { isLanguage } from '../i18n.js';
import { baseCookieOptions } from '../session.js';
import { field, LANGUAGE_COOKIE, NSFW_COOKIE, safeReturnPath, sitePath, visitorOf, type WebKit } from '../web-kit.js';
import { formRoute } from '../form-schemas.js';

const YEAR_SECONDS = 365 * 86_400;

/** The language picker and the NSFW switch in every page's footer. */
export async function registerPreferenceRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const back = (body: unknown) => safeReturnPath(kit, field(body, 'return')) ?? sitePath(kit, '/');

  // Same-origin posts, checked by Origin/Referer rather than a token (site.ts): these forms are on
  // every page, and pages for visitors without a session carry no token.
  const sameOrigin = { config: { csrf: 'same-origin' } };

  app.post('/language', formRoute(['language'], sameOrigin), async (request, reply) => {
    const language = field(request.body, 'language');
    if (!isLanguage(language)) return reply.redirect(back(request.body), 303);
    reply.setCookie(LANGUAGE_COOKIE, language, { ...baseCookieOptions(ctx), maxAge: YEAR_SECONDS });
    const { user } = visitorOf(request);
    if (user) await setUserLanguage(ctx.db, user.id, language);
    return reply.redirect(back(request.body), 303);
  });

  app.post('/nsfw', formRoute(['show'], sameOrigin), async (request, reply) => {
    const show = field(request.body, 'show') === '1';
    const { user } = visitorOf(request);
    if (user) await setUserShowNsfw(ctx.db, user.id, show);
    else reply.setCookie(NSFW_COOKIE, show ? '1' : '0', { ...baseCookieOptions(ctx), maxAge: YEAR_SECONDS });
    return reply.redirect(back(request.body), 303);
  });
}
