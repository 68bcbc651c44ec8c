import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { ShoeboxError } from '../core/errors.js';
import { onUploadFinished, type UploadOutcome } from '../ingest/upload-events.js';

/**
 * The Prometheus metrics of one site. Each site (AppContext) has its own registry, so two
 * servers in one process (tests) never mix their numbers. Every instance of a cluster
 * serves its own; Prometheus sums them (`sum by (code) (rate(shoebox_upload_errors_total[5m]))`).
 */
export interface ShoeboxMetrics {
  registry: Registry;
  uploads: Counter<'type'>;
  uploadBytes: Counter<'type'>;
  uploadDuration: Histogram<'outcome'>;
  uploadErrors: Counter<'code' | 'status'>;
  httpRequests: Counter<'method' | 'route' | 'status_code'>;
  httpDuration: Histogram<'method' | 'route'>;
  jobRuns: Counter<'job' | 'outcome'>;
  jobItems: Counter<'job'>;
}

const UPLOAD_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const HTTP_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const bySite = new WeakMap<object, ShoeboxMetrics>();

/** The metrics of the site whose database handle is `site.db` (created, and fed by its uploads, on first use). */
export function metricsFor(site: { db: object }): ShoeboxMetrics {
  let metrics = bySite.get(site.db);
  if (!metrics) {
    metrics = createMetrics();
    bySite.set(site.db, metrics);
    const fed = metrics;
    onUploadFinished(site.db, (outcome) => recordUpload(fed, outcome));
  }
  return metrics;
}

function createMetrics(): ShoeboxMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    uploads: new Counter({ name: 'shoebox_uploads_total', help: 'Files stored, by media type', labelNames: ['type'], registers }),
    uploadBytes: new Counter({ name: 'shoebox_upload_bytes_total', help: 'Bytes of stored originals, by media type', labelNames: ['type'], registers }),
    uploadDuration: new Histogram({
      name: 'shoebox_upload_duration_seconds',
      help: 'Time the ingest pipeline took (spool, probe, derivatives, storage, row), by outcome: stored, refused (4xx) or failed (5xx)',
      labelNames: ['outcome'],
      buckets: UPLOAD_SECONDS_BUCKETS,
      registers,
    }),
    uploadErrors: new Counter({
      name: 'shoebox_upload_errors_total',
      help: 'Uploads the pipeline refused or failed, by Chevereto error code and HTTP status',
      labelNames: ['code', 'status'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'shoebox_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'shoebox_http_request_duration_seconds',
      help: 'Time from request to the last byte of the answer, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: HTTP_SECONDS_BUCKETS,
      registers,
    }),
    jobRuns: new Counter({ name: 'shoebox_job_runs_total', help: 'Background job runs this instance claimed, by job and outcome', labelNames: ['job', 'outcome'], registers }),
    jobItems: new Counter({
      name: 'shoebox_job_items_total',
      help: 'Items background jobs handled on this instance (expired uploads deleted, temp folders removed...), by job',
      labelNames: ['job'],
      registers,
    }),
  };
}

function recordUpload(metrics: ShoeboxMetrics, outcome: UploadOutcome): void {
  if (outcome.image) {
    metrics.uploads.inc({ type: outcome.image.type });
    metrics.uploadBytes.inc({ type: outcome.image.type }, Number(outcome.image.size));
    metrics.uploadDuration.observe({ outcome: 'stored' }, outcome.seconds);
    return;
  }
  const error = outcome.error instanceof ShoeboxError ? outcome.error : null;
  const status = error?.httpStatus ?? 500;
  metrics.uploadErrors.inc({ code: String(error?.code ?? 500), status: String(status) });
  metrics.uploadDuration.observe({ outcome: status >= 500 ? 'failed' : 'refused' }, outcome.seconds);
}
