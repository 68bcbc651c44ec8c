import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, pageKeyOf, type ShoeboxError } from '../../core/errors.js';
import { ASSET_NAMES, MAX_ASSET_BYTES, removeSiteAsset, saveSiteAsset, saveSiteSettings, type AssetName } from '../../admin/site-settings.js';
import { EDITABLE_SETTINGS, lockOf, settingText } from '../../config/runtime-settings.js';
import { LANGUAGES } from '../i18n.js';
import { fieldList, renderError, visitorOf, type WebKit } from '../web-kit.js';
import { actorOf, needs, redirectDone, renderDashboard } from './dashboard-kit.js';
import { formRoute } from '../form-schemas.js';

const GROUPS = ['site', 'uploads', 'accounts', 'languages', 'routes', 'limits', 'nsfw', 'cache'] as const;

export async function registerSettingsDashboard(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const services = { db: ctx.db, settings: ctx.settings, live: ctx.live };

  function renderSettingsPage(request: FastifyRequest, reply: FastifyReply, extras: { error?: string; values?: Record<string, string> } = {}, status = 200) {
    const { t } = visitorOf(request);
    const groups = GROUPS.map((group) => ({
      group,
      label: t(`dashboard.settings.group.${group}`),
      settings: EDITABLE_SETTINGS.filter((s) => s.group === group).map((s) => {
        const lock = lockOf(ctx.settings, s.env);
        return {
          ...s,
          label: t(`dashboard.settings.name.${s.env}`),
          value: extras.values?.[s.env] ?? settingText(ctx.settings, s),
          lock: lock ? t(`dashboard.settings.locked-${lock}`, { env: s.env }) : null,
        };
      }),
    }));
    return renderDashboard(kit, request, reply, 'settings', {
      title: t('dashboard.settings.title'),
      groups,
      languagesAll: LANGUAGES,
      error: extras.error ?? null,
      siteAssets: ASSET_NAMES.map((name) => ({ name, label: t(`dashboard.settings.asset-${name}`), url: ctx.live.assets.has(name) ? `${ctx.urls.basePath}/site/${name}?v=${encodeURIComponent(ctx.live.assets.get(name)!.updatedAt)}` : null })),
      maxAssetKb: MAX_ASSET_BYTES / 1024,
      liveProblem: ctx.live.problem,
    }, status);
  }

  app.get('/dashboard/settings', needs('settings.edit'), async (request, reply) => renderSettingsPage(request, reply));

  app.post('/dashboard/settings', formRoute([], needs('settings.edit')), async (request, reply) => {
    const changes: Record<string, string | null> = {};
    const submitted: Record<string, string> = {};
    for (const setting of EDITABLE_SETTINGS) {
      if (lockOf(ctx.settings, setting.env)) continue;
      const values = setting.kind === 'languages' ? [fieldList(request.body, setting.env).join(',')] : fieldList(request.body, setting.env);
      if (values.length === 0) continue;
      // Checkboxes post a hidden 0 and, when ticked, a 1 after it: the last value counts.
      const value = String(values.at(-1)).replace(/\r\n/g, '\n');
      submitted[setting.env] = value;
      if (value === settingText(ctx.settings, setting)) continue;
      changes[setting.env] = value.trim() === '' && setting.kind !== 'longtext' ? null : value;
    }
    try {
      if (Object.keys(changes).length) await saveSiteSettings(services, changes, actorOf(request));
    } catch (error) {
      const page = pageKeyOf(error);
      if (!page) throw error;
      const { t } = visitorOf(request);
      // The parser's message names the setting and the rule (e.g. "SHOEBOX_FLOOD_LIMIT: "x" is not a whole number").
      const message = page === 'invalid' ? `${t('dashboard.error.invalid')} ${(error as ShoeboxError).message}` : t(`dashboard.error.${page}`);
      return renderSettingsPage(request, reply, { error: message, values: submitted }, (error as ShoeboxError).httpStatus);
    }
    request.log.info({ changed: Object.keys(changes) }, 'dashboard: settings saved');
    return redirectDone(kit, reply, '/dashboard/settings', 'settings-saved');
  });

  const assetOf = (name: string): AssetName | null => ((ASSET_NAMES as readonly string[]).includes(name) ? (name as AssetName) : null);

  // A file upload: multipart bodies are not read into request.body, so this form is checked by
  // its Origin (as the footer's forms are, site.ts), on top of the session's SameSite cookie.
  app.post<{ Params: { name: string } }>('/dashboard/settings/asset/:name', needs('settings.edit', { csrf: 'same-origin' }), async (request, reply) => {
    const name = assetOf(request.params.name);
    if (!name) return renderError(kit, request, reply, 404, 'error.not-found');
    if (!request.isMultipart()) return renderError(kit, request, reply, 400, 'error.bad-request');
    let data: Buffer | null = null;
    try {
      for await (const part of request.parts({ limits: { fileSize: MAX_ASSET_BYTES + 1, files: 1 } })) {
        if (part.type === 'file') data = await part.toBuffer();
      }
      if (!data) throw errors.noAssetFile();
      if (data.length > MAX_ASSET_BYTES) throw errors.assetTooBig(MAX_ASSET_BYTES);
      await saveSiteAsset(services, name, data, actorOf(request));
    } catch (error) {
      const page = (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' ? pageKeyOf(errors.assetTooBig(MAX_ASSET_BYTES)) : pageKeyOf(error);
      if (!page) throw error;
      return renderSettingsPage(request, reply, { error: visitorOf(request).t(`dashboard.error.${page}`, { kb: MAX_ASSET_BYTES / 1024 }) }, 400);
    }
    return redirectDone(kit, reply, '/dashboard/settings', 'asset-saved');
  });

  app.post<{ Params: { name: string } }>('/dashboard/settings/asset/:name/remove', formRoute([], needs('settings.edit')), async (request, reply) => {
    const name = assetOf(request.params.name);
    if (!name) return renderError(kit, request, reply, 404, 'error.not-found');
    await removeSiteAsset(services, name, actorOf(request));
    return redirectDone(kit, reply, '/dashboard/settings', 'asset-removed');
  });

}
