import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { sample } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';

async function scrape(server: TestServer, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('Prometheus metrics', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('counted'));
  });
  afterAll(() => server.close());

  it('count stored uploads and their bytes, refusals by error code, and request durations by route', async () => {
    const jpeg = await makeJpeg(300, 200);
    const png = await makePng(40, 30);
    const stored = [
      await uploadFile(server.url, jpeg, 'a.jpg', {}, { 'X-API-Key': key }),
      await uploadFile(server.url, png, 'b.png', {}, { 'X-API-Key': key }),
    ];
    expect(stored.map((r) => r.status)).toEqual([200, 200]);
    // Refused by the pipeline: not an image (610), twice.
    for (let i = 0; i < 2; i++) {
      expect((await uploadFile(server.url, Buffer.from('just some text, not an image'), 'c.txt', {}, { 'X-API-Key': key })).status).toBe(400);
    }
    // Refused before the pipeline: a wrong key is an HTTP 401 on the upload route.
    expect((await uploadFile(server.url, png, 'd.png', {}, { 'X-API-Key': 'chv_wrong' })).status).toBe(401);

    const { status, type, text } = await scrape(server);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'shoebox_uploads_total', { type: 'image' })).toBe(2);
    expect(sample(text, 'shoebox_upload_bytes_total', { type: 'image' })).toBe(stored[0].body.image.size + stored[1].body.image.size);
    expect(sample(text, 'shoebox_upload_errors_total', { code: '610', status: '400' })).toBe(2);
    expect(sample(text, 'shoebox_upload_duration_seconds_count', { outcome: 'stored' })).toBe(2);
    expect(sample(text, 'shoebox_upload_duration_seconds_count', { outcome: 'refused' })).toBe(2);
    expect(sample(text, 'shoebox_upload_duration_seconds_sum', { outcome: 'stored' })).toBeGreaterThan(0);
    expect(sample(text, 'shoebox_http_requests_total', { method: 'POST', route: '/api/1/upload', status_code: '200' })).toBe(2);
    expect(sample(text, 'shoebox_http_requests_total', { method: 'POST', route: '/api/1/upload', status_code: '401' })).toBe(1);
    expect(sample(text, 'shoebox_http_request_duration_seconds_count', { method: 'POST', route: '/api/1/upload' })).toBe(5);
    // Uploads take time: the durations are measured, not zero.
    expect(sample(text, 'shoebox_http_request_duration_seconds_sum', { method: 'POST', route: '/api/1/upload' })).toBeGreaterThan(0.001);
    // Standard process metrics come along.
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('label file requests by route pattern, not one series per file', async () => {
    const { body } = await uploadFile(server.url, await makePng(), 'e.png', {}, { 'X-API-Key': key });
    await fetch(body.image.url);
    await fetch(`${server.url}/images/2020/01/01/missing.png`);
    const { text } = await scrape(server);
    expect(text).not.toContain(body.image.filename);
    expect(text).not.toContain('missing.png');
  });

  it('count background job runs and the items they handled', async () => {
    const { body } = await uploadFile(server.url, await makePng(), 'short.png', { expiration: '1' }, { 'X-API-Key': key });
    expect(body.image.expiration_date_gmt).toBeTruthy();
    const { startBackgroundJobs } = await import('../../src/jobs/scheduler.js');
    const jobs = startBackgroundJobs(server.ctx, { info: () => undefined, error: () => undefined });
    try {
      // Poll until the upload has expired and a sweep has taken it (no fixed sleep).
      for (let i = 0; i < 100 && sample((await scrape(server)).text, 'shoebox_job_items_total', { job: 'expiry-sweep' }) < 1; i++) {
        await new Promise((r) => setTimeout(r, 100));
        await jobs.runOnce();
      }
    } finally {
      await jobs.stop();
    }
    const { text } = await scrape(server);
    expect(sample(text, 'shoebox_job_items_total', { job: 'expiry-sweep' })).toBe(1);
    expect(sample(text, 'shoebox_job_runs_total', { job: 'expiry-sweep', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'shoebox_job_runs_total', { job: 'temp-cleanup', outcome: 'failed' })).toBe(0);
    expect((await fetch(body.image.url)).status).toBe(404);
  });
});

describe('metrics settings', () => {
  it('want the bearer token when SHOEBOX_METRICS_TOKEN is set', async () => {
    const server = await startTestServer({ SHOEBOX_METRICS_TOKEN: 's3cret-token' });
    try {
      expect((await scrape(server)).status).toBe(401);
      expect((await scrape(server, { Authorization: 'Bearer wrong-token!' })).status).toBe(401);
      const ok = await scrape(server, { Authorization: 'Bearer s3cret-token' });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('shoebox_uploads_total');
    } finally {
      await server.close();
    }
  });

  it('are off with SHOEBOX_METRICS=0, and follow the base path', async () => {
    const off = await startTestServer({ SHOEBOX_METRICS: '0' });
    try {
      expect((await scrape(off)).status).toBe(404);
    } finally {
      await off.close();
    }
    const under = await startTestServer({ SHOEBOX_BASE_URL: 'http://127.0.0.1:1/pics' });
    try {
      const res = await fetch(`http://127.0.0.1:${under.port}/pics/metrics`);
      expect(res.status).toBe(200);
    } finally {
      await under.close();
    }
  });
});
