import type { FastifyInstance } from 'fastify';
import type { WebKit } from '../web-kit.js';
import { registerEmailRoutes } from './email-routes.js';
import { registerPasswordResetRoutes } from './password-reset-routes.js';
import { registerProfileRoutes } from './profile-routes.js';
import { registerSecurityRoutes } from './security-routes.js';
import { registerTwoFactorLogin } from './two-factor-login.js';

/** The "accounts for life" pages (issue 16), inside the web site's scope. */
export async function registerAccountPages(app: FastifyInstance, kit: WebKit): Promise<void> {
  await registerPasswordResetRoutes(app, kit);
  await registerTwoFactorLogin(app, kit);
  await registerSecurityRoutes(app, kit);
  await registerEmailRoutes(app, kit);
  await registerProfileRoutes(app, kit);
}
