import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findApiKeyHint, findUserByApiKey, regenerateApiKey } from '../../db/repositories/api-keys.js';
import { createInvite } from '../../db/repositories/invites.js';
import { deleteOtherSessions } from '../../db/repositories/sessions.js';
import { setUserLanguage, setUserPassword, setUserShowNsfw } from '../../db/repositories/user-preferences.js';
import { verifyPassword } from '../../db/repositories/users.js';
import type { UserRow } from '../../db/schema.js';
import { picgoWebUploader, sharexUploader, sxcuFileName } from '../client-configs.js';
import { isLanguage } from '../i18n.js';
import { openFlash, sealFlash } from '../sealed-flash.js';
import { baseCookieOptions, readCookie } from '../session.js';
import { field, LANGUAGE_COOKIE, publicUrlOf, redirectTo, renderPage, sitePath, visitorOf, type WebKit } from '../web-kit.js';
import { MIN_PASSWORD_LENGTH } from './account-routes.js';
import { formRoute } from '../form-schemas.js';

const PASSWORD_WINDOW_SECONDS = 900;
const PASSWORD_FAILURES = 10;
/** The cookie that carries a new API key from its POST to the page that shows it once. */
const NEW_KEY_COOKIE = 'shoebox_new_key';
const NEW_KEY_SECONDS = 300;

interface NewKeyFlash {
  key: string;
  /** Whether a key existed before (then "the old key no longer works"). */
  replaced: boolean;
}

/** The signed-in user, or a redirect to the sign-in page that comes back here. */
export function requireUser(kit: WebKit, request: FastifyRequest, reply: FastifyReply): UserRow | null {
  const { user } = visitorOf(request);
  if (user) return user;
  const next = encodeURIComponent(publicUrlOf(kit, request));
  void reply.redirect(sitePath(kit, `/login?next=${next}`), 303);
  return null;
}

export async function registerSettingsRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const apiUrl = ctx.urls.absolute('/api/1/upload');

  interface SettingsExtras {
    newKey?: string;
    replacedKey?: boolean;
    inviteUrl?: string;
    passwordError?: string;
  }

  async function renderSettings(request: FastifyRequest, reply: FastifyReply, user: UserRow, extras: SettingsExtras = {}, status = 200) {
    const hint = await findApiKeyHint(ctx.db, user.id);
    const key = extras.newKey ?? 'YOUR_API_KEY';
    // A page that shows a key must never be kept by a cache.
    if (extras.newKey) reply.header('Cache-Control', 'no-store');
    await renderPage(kit, request, reply, 'settings', {
      title: visitorOf(request).t('settings.title'),
      account: user,
      keyHint: hint ?? null,
      newKey: extras.newKey ?? null,
      replacedKey: extras.replacedKey ?? false,
      inviteUrl: extras.inviteUrl ?? null,
      passwordError: extras.passwordError ?? null,
      minPassword: MIN_PASSWORD_LENGTH,
      apiUrl,
      picgo: JSON.stringify(picgoWebUploader(apiUrl, key), null, 2),
      sharex: JSON.stringify(sharexUploader(ctx.settings.siteName, apiUrl, key), null, 2),
      showInvites: user.is_admin === 1 && ctx.settings.signup === 'invite',
    }, status);
    return reply;
  }

  app.get('/settings', async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    // A key made by the POST below is shown on this page once: the cookie goes with this answer.
    const { session } = visitorOf(request);
    const sealed = readCookie(request, NEW_KEY_COOKIE);
    if (sealed !== undefined) reply.clearCookie(NEW_KEY_COOKIE, baseCookieOptions(ctx));
    const flash = session ? openFlash<NewKeyFlash>(kit.secret, `api-key:${session.id}`, sealed) : null;
    if (flash) return renderSettings(request, reply, user, { newKey: flash.key, replacedKey: flash.replaced });
    return renderSettings(request, reply, user);
  });

  app.post('/settings/preferences', formRoute(['language', 'show_nsfw']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const language = field(request.body, 'language');
    await setUserLanguage(ctx.db, user.id, isLanguage(language) ? language : null);
    if (isLanguage(language)) reply.setCookie(LANGUAGE_COOKIE, language, { ...baseCookieOptions(ctx), maxAge: 365 * 86_400 });
    else reply.clearCookie(LANGUAGE_COOKIE, baseCookieOptions(ctx));
    await setUserShowNsfw(ctx.db, user.id, field(request.body, 'show_nsfw') === '1');
    return redirectTo(kit, reply, '/settings', 'preferences-saved');
  });

  app.post('/settings/password', formRoute(['current', 'password', 'password2']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t, session } = visitorOf(request);
    const failuresKey = `password:user:${user.id}`;
    if ((await ctx.hits.peek(failuresKey, PASSWORD_WINDOW_SECONDS)) >= PASSWORD_FAILURES) {
      return renderSettings(request, reply, user, { passwordError: t('login.too-many') }, 429);
    }
    if (!(await verifyPassword(user.password_hash, field(request.body, 'current')))) {
      await ctx.hits.hit(failuresKey, PASSWORD_WINDOW_SECONDS);
      return renderSettings(request, reply, user, { passwordError: t('password.wrong-current') }, 400);
    }
    const next = field(request.body, 'password');
    if (next.length < MIN_PASSWORD_LENGTH || next.length > 1024) {
      return renderSettings(request, reply, user, { passwordError: t('password.too-short', { count: MIN_PASSWORD_LENGTH }) }, 400);
    }
    if (next !== field(request.body, 'password2')) return renderSettings(request, reply, user, { passwordError: t('password.mismatch') }, 400);
    await setUserPassword(ctx.db, user.id, next);
    // Whoever knew the old password is signed out everywhere else.
    await deleteOtherSessions(ctx.db, user.id, session?.id ?? null);
    return redirectTo(kit, reply, '/settings', 'password-changed');
  });

  app.post('/settings/api-key', formRoute([]), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { session } = visitorOf(request);
    const replaced = (await findApiKeyHint(ctx.db, user.id)) !== undefined;
    const key = await regenerateApiKey(ctx.db, user.id);
    request.log.info({ userId: user.id }, 'API key regenerated from the web');
    // Post/Redirect/Get: reloading the page that shows the key must not make another one.
    reply.setCookie(NEW_KEY_COOKIE, sealFlash(kit.secret, `api-key:${session?.id ?? ''}`, { key, replaced } satisfies NewKeyFlash), {
      ...baseCookieOptions(ctx),
      maxAge: NEW_KEY_SECONDS,
    });
    return reply.header('Cache-Control', 'no-store').redirect(`${ctx.urls.basePath}/settings#new-key`, 303);
  });

  /** The ShareX uploader with the key filled in: only for the key just shown, since the site keeps no plain keys. */
  app.post('/settings/sharex.sxcu', formRoute(['key']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const key = field(request.body, 'key');
    const owner = key ? await findUserByApiKey(ctx.db, key) : undefined;
    if (!owner || owner.id !== user.id) return renderSettings(request, reply, user, {}, 400);
    return reply
      .header('Content-Disposition', `attachment; filename="${sxcuFileName(ctx.settings.baseUrl)}"`)
      .header('Cache-Control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(`${JSON.stringify(sharexUploader(ctx.settings.siteName, apiUrl, key), null, 2)}\n`);
  });

  app.post('/settings/invites', formRoute([]), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    if (user.is_admin !== 1) return renderSettings(request, reply, user, {}, 403);
    const code = await createInvite(ctx.db, user.id);
    return renderSettings(request, reply, user, { inviteUrl: ctx.urls.absolute(`/signup?invite=${code}`) });
  });
}
