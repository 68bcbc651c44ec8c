import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Every path (and method) Chevereto 4.2's V4 routing declares, app/routing/user.api-v4.php
 * (prefix /api/4/user/) and admin.api-v4.php (/api/4/admin/), with a controller or only
 * commented out: each must be in Shoebox's OpenAPI description (so routed, with schemas) or
 * in docs/API.md's table of paths left out, with a reason.
 */
const CHEVERETO_V4: [string, string[]][] = [
  ['user/account/notifications/social/', ['GET']],
  ['user/account/notifications/social/{id}/', ['PATCH']],
  ['user/account/settings/', ['PATCH']],
  ['user/account/login/{service}/', ['DELETE']],
  ['user/albums/', ['POST']],
  ['user/albums/{id}/', ['DELETE', 'GET', 'PATCH']],
  ['user/albums/{id}/contents/', ['GET']],
  ['user/albums/{id}/like/', ['DELETE', 'POST']],
  ['user/albums/bulk/', ['DELETE']],
  ['user/albums/bulk/parent/', ['PATCH']],
  ['user/albums/list/', ['GET']],
  ['user/images/', ['POST']],
  ['user/images/{id}/', ['DELETE', 'GET', 'PATCH']],
  ['user/images/{id}/like/', ['DELETE', 'POST']],
  ['user/images/bulk/', ['PATCH']],
  ['user/images/list/', ['GET']],
  ['user/user/{username}/assets/avatar/', ['DELETE', 'POST']],
  ['user/user/{username}/assets/background/', ['DELETE', 'POST']],
  ['user/users/{username}/follow/', ['DELETE', 'POST']],
  ['user/users/list/', ['GET']],
  ['admin/bans/ip/', ['POST']],
  ['admin/bans/ip/{ip}/', ['DELETE', 'PATCH']],
  ['admin/categories/', ['POST']],
  ['admin/categories/{id}/', ['DELETE', 'PATCH']],
  ['admin/images/bulk/approve/', ['PATCH']],
  ['admin/imports/', ['POST']],
  ['admin/imports/{id}/', ['DELETE', 'GET', 'PATCH']],
  ['admin/imports/{id}/process/', ['POST']],
  ['admin/imports/{id}/reset/', ['POST']],
  ['admin/imports/{id}/resume/', ['POST']],
  ['admin/stats/rebuild/', ['POST']],
  ['admin/storages/', ['POST']],
  ['admin/storages/{id}/', ['PATCH']],
  ['admin/storages/{id}/migrate/', ['POST']],
  ['admin/storages/{id}/stats/regen/', ['POST']],
  ['admin/tools/id/{id}/decode/', ['GET']],
  ['admin/tools/id/{id}/encode/', ['GET']],
  ['admin/tools/probe/email/', ['POST']],
  ['admin/users/', ['POST']],
  ['admin/users/{id}/', ['GET']],
  ['admin/users/{id}/export/', ['GET']],
];

describe('Chevereto’s V4 paths', () => {
  let server: TestServer;
  let doc: any;
  let leftOut: Map<string, { methods: string[]; why: string }>;

  beforeAll(async () => {
    server = await startTestServer();
    doc = await (await fetch(`${server.url}/api/openapi.json`)).json();
    const text = await readFile(new URL('../../docs/API.md', import.meta.url), 'utf8');
    const section = text.slice(text.indexOf("### Chevereto's other V4 paths"), text.indexOf('### The upload API V1'));
    leftOut = new Map([...section.matchAll(/^\| `([^`]+)` \| ([A-Z, ]+) \| (.+) \|$/gm)].map((m) => [m[1], { methods: m[2].split(', '), why: m[3] }]));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('are each answered by Shoebox (described in /api/openapi.json) or left out in docs/API.md with a reason', () => {
    const missing: string[] = [];
    for (const [path, methods] of CHEVERETO_V4) {
      for (const method of methods) {
        const routed = doc.paths[`/api/4/${path}`]?.[method.toLowerCase()] !== undefined;
        const documented = leftOut.get(path)?.methods.includes(method) ?? false;
        if (!routed && !documented) missing.push(`${method} /api/4/${path}`);
        // Not both: a path built stays out of the table of those left out.
        if (routed && documented) missing.push(`${method} /api/4/${path} is routed and listed as left out`);
      }
    }
    expect(missing).toEqual([]);
    for (const [path, { why }] of leftOut) {
      expect(CHEVERETO_V4.some(([p]) => p === path), `${path} in the table is a Chevereto path`).toBe(true);
      expect(why.length, `${path} says why`).toBeGreaterThan(5);
    }
  });

  it('answers the IP-ban paths Chevereto declares, for admin keys', async () => {
    for (const [path, method] of [['/api/4/admin/bans/ip/', 'post'], ['/api/4/admin/bans/ip/{ip}/', 'patch'], ['/api/4/admin/bans/ip/{ip}/', 'delete']] as const) {
      expect(doc.paths[path][method].tags).toEqual(['admin']);
    }
    // A path left out answers in the API's envelope, not with a web page.
    const { key } = await server.createUserWithKey('pathadmin', { admin: true });
    const res = await fetch(`${server.url}/api/4/admin/stats/rebuild/`, { method: 'POST', headers: { 'X-API-Key': key } });
    expect(res.status).toBe(404);
    expect((await res.json()).status_code).toBe(404);
  });
});
