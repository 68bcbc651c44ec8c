import type { FastifyInstance } from 'fastify';
import type { WebKit } from '../web-kit.js';
import { guardDashboard } from './dashboard-kit.js';
import { registerCategoryDashboard } from './category-routes.js';
import { registerFileRoutes } from './file-routes.js';
import { registerModerationDashboard } from './moderation-routes.js';
import { registerOverviewRoutes } from './overview-routes.js';
import { registerPageDashboard } from './page-routes.js';
import { registerSettingsDashboard } from './settings-routes.js';
import { registerUserRoutes } from './user-routes.js';

/**
 * The admin area at /dashboard, in its own scope of the web site: every route there names
 * the action it needs (src/core/roles.ts) and one hook checks it (dashboard-kit.ts).
 */
export async function registerDashboard(parent: FastifyInstance, kit: WebKit): Promise<void> {
  await parent.register(async (app) => {
    guardDashboard(app, kit);
    await registerOverviewRoutes(app, kit);
    await registerUserRoutes(app, kit);
    await registerFileRoutes(app, kit);
    await registerSettingsDashboard(app, kit);
    await registerPageDashboard(app, kit);
    await registerModerationDashboard(app, kit);
    await registerCategoryDashboard(app, kit);
  });
}
