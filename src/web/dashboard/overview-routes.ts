import { statfs } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { listJobRuns, newestImages, newestUsers, siteTotals, uploadsPerDay } from '../../db/repositories/admin.js';
import { imageTile } from '../cards.js';
import { field, visitorOf, type WebKit } from '../web-kit.js';
import { barChartSvg } from './chart.js';
import { needs, renderDashboard } from './dashboard-kit.js';

const DAYS = 30;

/** Free and total bytes of the disk holding the data folder (local storage), or null. */
async function diskUse(dataDir: string): Promise<{ free: number; total: number } | null> {
  try {
    const s = await statfs(dataDir);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

export async function registerOverviewRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  app.get('/dashboard', needs('dashboard.view'), async (request, reply) => {
    const { t, formats: f } = visitorOf(request);
    const today = new Date();
    const since = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (DAYS - 1)));
    const [totals, perDay, images, users, jobs, disk] = await Promise.all([
      siteTotals(ctx.db),
      uploadsPerDay(ctx.db, since),
      newestImages(ctx.db, 8),
      newestUsers(ctx.db, 8),
      listJobRuns(ctx.db),
      ctx.settings.storage === 'local' ? diskUse(ctx.settings.dataDir) : Promise.resolve(null),
    ]);
    const days = Array.from({ length: DAYS }, (_, i) => {
      const day = new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10);
      const count = perDay.get(day) ?? 0;
      return { day, count, title: t('dashboard.overview.day-uploads', { date: day, count }) };
    });
    return renderDashboard(kit, request, reply, 'overview', {
      title: t('dashboard.title'),
      welcome: field(request.query, 'welcome') === '1',
      totals,
      uploads30: days.reduce((sum, d) => sum + d.count, 0),
      chart: barChartSvg(days, t('dashboard.overview.chart-label', { count: DAYS })),
      storage: ctx.settings.storage === 's3' ? { kind: 's3', bucket: ctx.settings.s3.bucket } : { kind: 'local', disk },
      images: images.map((image) => ({ ...imageTile(kit, image), username: image.username, date: f.dateTimeOf(image.date_gmt), size: f.size(image.size) })),
      users,
      jobs,
      liveProblem: ctx.live.problem,
    });
  });
}
