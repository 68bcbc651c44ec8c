import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import { getOrInitVariable } from '../db/repositories/variables.js';

const secrets = new WeakMap<AppContext, Promise<string>>();

/**
 * The site's secret for the web site's HMACs (CSRF tokens, album unlock cookies). Kept in the
 * database, so every instance of a scaled-out site signs and checks with the same one.
 */
export function webSecretOf(ctx: AppContext): Promise<string> {
  let secret = secrets.get(ctx);
  if (!secret) {
    secret = getOrInitVariable(ctx.db, 'web_secret', randomBytes(32).toString('hex'));
    secrets.set(ctx, secret);
  }
  return secret;
}
