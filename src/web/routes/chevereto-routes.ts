import type { FastifyInstance, FastifyReply } from 'fastify';
import { findUserById } from '../../db/repositories/users.js';
import { getVariable } from '../../db/repositories/variables.js';
import { VIEWER_ROUTE_SEGMENTS } from '../live-routes.js';
import type { WebKit } from '../web-kit.js';

/**
 * URL shapes a Chevereto site handed out that Shoebox's own pages do not use, for a site moved
 * in with `shoebox import-chevereto` (the import records the old site's routes and mode in
 * `variables`). Each answers with a permanent redirect to the page the old URL meant; the page
 * itself decides who may see it, so nothing here shows anything.
 *
 * - album tabs: `/album/<id>/embeds`, `/album/<id>/info` (the album), `/album/<id>/sub` (its sub-albums);
 * - profile tabs: `/<username>/albums`, `/<username>/files`, `…/search`, `…/liked`, `…/following`, `…/followers`;
 * - personal mode: the owner's tabs at the root (`/albums`, `/files`, …), or under its routing;
 * - renamed routes: the old site's `route_image`, `route_video`, `route_album` when they differ from
 *   Shoebox's SHOEBOX_IMAGE_ROUTE / SHOEBOX_VIDEO_ROUTE / `album`;
 * - avatars: `/content/images/users/<encoded user id>/av_<time>.<ext>` leads (302: it changes when
 *   its owner picks another) to the user's avatar here, which the import made from that file.
 */

const PROFILE_TABS = new Set(['albums', 'files', 'search', 'liked', 'following', 'followers']);
const ALBUM_TABS = new Set(['embeds', 'info', 'sub']);

export async function registerCheveretoRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const base = ctx.urls.basePath;
  const profileTab = (reply: FastifyReply, username: string, tab: string) =>
    reply.redirect(`${base}/${encodeURIComponent(username)}${tab === 'albums' ? '?tab=albums' : ''}`, 301);

  app.get<{ Params: { id: string; tab: string } }>('/album/:id/:tab', async (request, reply) => {
    const { id, tab } = request.params;
    if (!ALBUM_TABS.has(tab)) return reply.callNotFound();
    return reply.redirect(`${base}/album/${encodeURIComponent(id)}${tab === 'sub' ? '?tab=albums' : ''}`, 301);
  });

  app.get<{ Params: { username: string; tab: string } }>('/:username/:tab', async (request, reply) => {
    const { username, tab } = request.params;
    if (!PROFILE_TABS.has(tab)) return reply.callNotFound();
    return profileTab(reply, username, tab);
  });

  if ((await getVariable(ctx.db, 'chevereto_website_mode')) !== undefined) {
    app.get<{ Params: { user: string; file: string } }>('/content/images/users/:user/:file', async (request, reply) => {
      const { user, file } = request.params;
      const id = /^av_[0-9]+\.[A-Za-z0-9]{2,5}$/.test(file) ? ctx.ids.decode(user) : null;
      const avatarKey = id ? (await findUserById(ctx.db, id))?.avatar_key : null;
      if (!avatarKey) return reply.callNotFound();
      return reply.redirect(`${base}/${avatarKey}`, 302);
    });
  }

  const personalUserId = Number(await getVariable(ctx.db, 'chevereto_personal_user_id'));
  if (Number.isInteger(personalUserId) && personalUserId > 0) {
    const routing = ((await getVariable(ctx.db, 'chevereto_personal_routing')) ?? '/').replace(/^\/+|\/+$/g, '');
    const owner = async () => (await findUserById(ctx.db, personalUserId))?.username;
    // At the root, `/search` stays Shoebox's own search (on a one-owner site it searches the same files).
    const tabs = routing === '' ? [...PROFILE_TABS].filter((tab) => tab !== 'search') : [...PROFILE_TABS].map((tab) => `${routing}/${tab}`);
    if (routing !== '') tabs.push(routing);
    for (const route of tabs) {
      app.get(`/${route}`, async (_request, reply) => {
        const username = await owner();
        if (!username) return reply.callNotFound();
        return profileTab(reply, username, route.split('/').pop()!);
      });
    }
  }

  // The current routes are read per request: the dashboard may change them (live-routes.ts).
  const renamed: [string | undefined, () => string][] = [
    [await getVariable(ctx.db, 'chevereto_route_image'), () => ctx.settings.imageRoute],
    [await getVariable(ctx.db, 'chevereto_route_video'), () => ctx.settings.videoRoute],
    [await getVariable(ctx.db, 'chevereto_route_album'), () => 'album'],
  ];
  // The viewer's own fixed segments (live-routes.ts) and the routes set now are Shoebox's.
  const taken = new Set([...VIEWER_ROUTE_SEGMENTS, ctx.settings.imageRoute, ctx.settings.videoRoute, 'album']);
  for (const [old, current] of renamed) {
    if (!old || old === current() || taken.has(old) || !/^[A-Za-z0-9_-]+$/.test(old)) continue;
    taken.add(old);
    app.get<{ Params: { '*': string } }>(`/${old}/*`, async (request, reply) => {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      return reply.redirect(`${base}/${current()}/${request.params['*']}${query}`, 301);
    });
  }
}
