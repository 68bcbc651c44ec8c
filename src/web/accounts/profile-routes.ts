import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AVATAR_MAX_BYTES, isAvatarKey, removeAvatar, storeAvatar } from '../../accounts/avatar.js';
import { errors, isError, ShoeboxError } from '../../core/errors.js';
import { findUserByAvatarKey, updateProfile } from '../../db/repositories/profiles.js';
import type { UserRow } from '../../db/schema.js';
import path from 'node:path';
import { requireUser } from '../routes/settings-routes.js';
import { avatarUrlOf, field, redirectTo, renderPage, sitePath, visitorOf, type WebKit } from '../web-kit.js';
import { formRoute } from '../form-schemas.js';

export const DISPLAY_NAME_MAX = 50;
export const BIO_MAX = 500;
export const WEBSITE_MAX = 200;

/** A website as typed, if it is an absolute http(s) URL (nothing else is ever linked). */
export function cleanWebsite(text: string): string | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  try {
    const url = new URL(trimmed);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.username || url.password) return null;
    return url.href.length <= WEBSITE_MAX ? url.href : null;
  } catch {
    return null;
  }
}

/** What a profile page shows about its person, beyond the username. */
export function publicProfileOf(kit: WebKit, user: UserRow) {
  const website = user.website ? cleanWebsite(user.website) : null;
  return {
    displayName: user.display_name || null,
    bio: user.bio || null,
    website,
    websiteLabel: website ? website.replace(/^https?:\/\//, '').replace(/\/$/, '') : null,
    avatarUrl: avatarUrlOf(kit, user),
  };
}



/**
 * /settings/profile (display name, bio, website, avatar) and the avatars themselves at
 * /avatars/<file>, read from the storage driver like every other stored file.
 */
export async function registerProfileRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const services = { db: ctx.db, storage: ctx.storage, tempDir: path.join(ctx.settings.dataDir, 'tmp') };

  const renderForm = (request: FastifyRequest, reply: FastifyReply, user: UserRow, values: Record<string, string>, error: string | null, status = 200) =>
    renderPage(kit, request, reply, 'accounts/profile-settings', {
      title: visitorOf(request).t('accounts.profile.title'),
      account: user,
      values,
      error,
      avatarUrl: avatarUrlOf(kit, user),
      limits: { displayName: DISPLAY_NAME_MAX, bio: BIO_MAX, website: WEBSITE_MAX, avatarMb: AVATAR_MAX_BYTES / 1e6 },
    }, status);

  app.get('/settings/profile', async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    return renderForm(request, reply, user, { display_name: user.display_name ?? '', bio: user.bio ?? '', website: user.website ?? '' }, null);
  });

  app.post('/settings/profile', formRoute(['bio', 'display_name', 'website']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const values = {
      display_name: field(request.body, 'display_name').trim(),
      bio: field(request.body, 'bio').trim().replace(/\r\n/g, '\n'),
      website: field(request.body, 'website').trim(),
    };
    if ([...values.display_name].length > DISPLAY_NAME_MAX || /[\u0000-\u001f\u007f]/.test(values.display_name)) {
      return renderForm(request, reply, user, values, t('accounts.profile.bad-name', { count: DISPLAY_NAME_MAX }), 400);
    }
    if ([...values.bio].length > BIO_MAX) return renderForm(request, reply, user, values, t('accounts.profile.bad-bio', { count: BIO_MAX }), 400);
    const website = cleanWebsite(values.website);
    if (values.website && !website) return renderForm(request, reply, user, values, t('accounts.profile.bad-website'), 400);
    // A display name stands where a username would: stop words refuse it (admins exempt, moderation/moderation.ts).
    if (values.display_name !== (user.display_name ?? '')) {
      const refused = await ctx.moderation.screenFor(user).check({ display_name: [values.display_name] }, { holdable: false }).then(() => false, (error: unknown) => isError(error, 'stopWord'));
      if (refused) return renderForm(request, reply, user, values, t('moderation.stop-word'), 400);
    }
    await updateProfile(ctx.db, user.id, { displayName: values.display_name || null, bio: values.bio || null, website });
    return redirectTo(kit, reply, '/settings/profile', 'profile-saved');
  });

  // A multipart form: its CSRF token can't be read before the body is, so this one is checked
  // by Origin, as the footer's forms are (site.ts); the session cookie is SameSite=Lax too.
  app.post('/settings/avatar', { config: { csrf: 'same-origin' } }, async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const current = { display_name: user.display_name ?? '', bio: user.bio ?? '', website: user.website ?? '' };
    if (!request.isMultipart()) return renderForm(request, reply, user, current, t('accounts.profile.bad-avatar'), 400);
    let upload: Buffer | null = null;
    try {
      const file = await request.file({ limits: { fileSize: AVATAR_MAX_BYTES, files: 1 } });
      if (file) {
        upload = await file.toBuffer();
        if (file.file.truncated) upload = null;
      }
    } catch {
      return renderForm(request, reply, user, current, t('accounts.profile.avatar-too-big', { size: AVATAR_MAX_BYTES / 1e6 }), 413);
    }
    if (!upload || upload.length === 0) return renderForm(request, reply, user, current, t('accounts.profile.bad-avatar'), 400);
    try {
      await storeAvatar(services, user.id, upload);
    } catch (error) {
      if (error instanceof ShoeboxError && error.httpStatus === 400) return renderForm(request, reply, user, current, t('accounts.profile.bad-avatar'), 400);
      throw error;
    }
    return redirectTo(kit, reply, '/settings/profile', 'avatar-saved');
  });

  app.post('/settings/avatar/remove', formRoute([]), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    await removeAvatar(services, user.id);
    return redirectTo(kit, reply, '/settings/profile', 'avatar-removed');
  });

  app.get<{ Params: { file: string } }>('/avatars/:file', async (request, reply) => {
    const key = `avatars/${request.params.file}`;
    // Only keys some account points at are served: a replaced or deleted avatar is gone at once.
    if (!isAvatarKey(key) || !(await findUserByAvatarKey(ctx.db, key))) throw errors.notFound();
    const info = await ctx.storage.stat(key);
    if (!info) throw errors.notFound();
    const chunks: Buffer[] = [];
    for await (const chunk of await ctx.storage.read(key)) chunks.push(Buffer.from(chunk));
    // Each new avatar gets a new key, so a key's bytes never change.
    return reply
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .header('X-Content-Type-Options', 'nosniff')
      .type('image/webp')
      .send(Buffer.concat(chunks));
  });
}
