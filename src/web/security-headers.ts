import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { Settings } from '../config/settings.js';

/**
 * Headers every answer carries (pages add their Content-Security-Policy, web/site.ts). Files may
 * be embedded by any site (an image host is hotlinked), so their resource policy is cross-origin.
 */
function helmetOptions(settings: Settings): HelmetOptions {
  return {
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    frameguard: { action: 'sameorigin' },
    // Only a site reached over https can ask browsers to keep to https.
    strictTransportSecurity: settings.baseUrl.startsWith('https:') ? { maxAge: 15552000, includeSubDomains: false } : false,
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route writes the security headers itself (securityHeadersOf); the hook below leaves it alone. */
    ownSecurityHeaders?: boolean;
  }
}

const computed = new Map<string, Readonly<Record<string, string>>>();

/**
 * Helmet's headers for these settings, worked out once: none of them depends on the request
 * (no CSP nonces), so running helmet's middleware chain on every request (as @fastify/helmet
 * does, with two promise hooks) bought nothing; it was a tenth of the CPU of a proxied file
 * check (bench/serving-cpu.ts). Names are lower case, as Node keeps them.
 */
export function securityHeadersOf(settings: Settings): Readonly<Record<string, string>> {
  const key = settings.baseUrl;
  let headers = computed.get(key);
  if (!headers) {
    const captured: Record<string, string> = {};
    const response = {
      setHeader: (name: string, value: string | number | readonly string[]) => {
        captured[name.toLowerCase()] = String(value);
      },
      removeHeader: (name: string) => {
        delete captured[name.toLowerCase()];
      },
    };
    helmet(helmetOptions(settings))({} as never, response as never, (error?: unknown) => {
      if (error) throw error;
    });
    headers = Object.freeze(captured);
    computed.set(key, headers);
  }
  return headers;
}

/**
 * Puts the security headers on every answer (found or not, errors included). A route whose
 * config says `ownSecurityHeaders: true` writes them itself (web/media-files.ts sends each file
 * with one precomputed header object).
 */
export function registerSecurityHeaders(app: FastifyInstance, settings: Settings): void {
  const headers = securityHeadersOf(settings);
  const names = Object.keys(headers);
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.ownSecurityHeaders !== true) {
      const raw = reply.raw;
      for (const name of names) raw.setHeader(name, headers[name]);
    }
    done();
  });
}
