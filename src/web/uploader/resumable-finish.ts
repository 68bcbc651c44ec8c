import { randomBytes } from 'node:crypto';
import type { Upload } from '@tus/utils';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import { errors } from '../../core/errors.js';
import { claimResumableFinish, saveResumableResult } from '../../db/repositories/resumable-uploads.js';
import { findUserById } from '../../db/repositories/users.js';
import type { Uploader } from '../../ingest/ingest-upload.js';
import type { ResumableStore } from '../../ingest/resumable-store.js';
import { failureAnswer, type Answer } from '../../uploads/envelope.js';
import { runUpload, uploadFailure } from '../../uploads/run-upload.js';
import type { RawParams } from '../../uploads/upload-params.js';
import { admitUpload } from '../../uploads/upload-rules.js';
import { OWNER_KEY, parseOwnerTag } from './resumable-files.js';

/**
 * From tus metadata to the ingest pipeline and back to the API's answer. The metadata carries
 * the same parameters as the API (title, description, tags, album_id, nsfw, expiration), so
 * they are parsed by the API's own parser and mean exactly the same thing.
 */

export type Outcome = Answer;

type ResumableBytes = Awaited<ReturnType<ResumableStore['completeSource']>>;

function metadataParams(metadata: Record<string, string | null> | undefined): RawParams {
  const params: RawParams = {};
  for (const [k, v] of Object.entries(metadata ?? {})) if (v !== null && !k.startsWith('shoebox_')) params[k] = v;
  return params;
}

/**
 * At creation, the upload meets the rules every upload meets before its first byte
 * (`admitUpload`, uploads/upload-rules.ts: parameters, size, expiry, album, bans, stop words,
 * and the flood count: reserving space is an upload as far as floods go), so a 300 MB upload to
 * an album that isn't yours fails in the first request instead of after the last one. When it
 * finishes it goes through `runUpload` like any other upload (`admittedBefore`: not counted twice).
 */
export async function checkBeforeUpload(
  ctx: AppContext,
  uploader: Uploader,
  size: number | undefined,
  metadata: Record<string, string | null> | undefined,
): Promise<void> {
  if (size === undefined) throw errors.badParameter('Upload-Length', 'the size must be known when the upload starts');
  await admitUpload(ctx, { uploader, params: metadataParams(metadata), size });
}

/** The uploader recorded at creation, as they are now (an account may have been deleted meanwhile). */
async function uploaderOf(ctx: AppContext, metadata: Record<string, string | null> | undefined, ip: string): Promise<Uploader> {
  const owner = parseOwnerTag(metadata?.[OWNER_KEY]);
  if (!owner) throw errors.uploadOwnerUnknown();
  if (owner.kind === 'guest') return { user: null, ip };
  const user = await findUserById(ctx.db, owner.userId);
  if (!user) throw errors.uploadOwnerGone();
  return { user, ip };
}

/** Runs a complete upload's bytes through the one ingest pipeline; never throws, the error is the outcome. */
export async function ingestFinishedUpload(
  ctx: AppContext,
  log: FastifyBaseLogger,
  upload: { bytes: () => Promise<ResumableBytes>; metadata: Record<string, string | null> | undefined },
  ip: string,
): Promise<Outcome> {
  let uploader: Uploader;
  let bytes: ResumableBytes;
  try {
    uploader = await uploaderOf(ctx, upload.metadata, ip);
    bytes = await upload.bytes();
  } catch (error) {
    const { status, body } = await uploadFailure(ctx, error, log);
    return { status, body };
  }
  const filename = upload.metadata?.filename ?? upload.metadata?.name ?? null;
  const { status, body } = await runUpload(ctx, {
    uploader,
    source: { ...bytes, filename },
    params: metadataParams(upload.metadata),
    log,
    what: 'resumable upload stored',
    admittedBefore: true,
  });
  return { status, body };
}

/** An ingest that has not answered in this long is taken to have died with its instance. */
const FINISH_STALE_MS = 10 * 60_000;
/** How long a request waits for another instance that is ingesting the same upload. */
const FINISH_WAIT_MS = 120_000;

/**
 * Ingests a complete upload exactly once across every instance and keeps its answer
 * (`resumable_results`): the instance whose claim wins ingests it, any other request for the
 * same upload (a repeated last chunk, `/result`) waits for that answer. Then the parts go.
 */
export async function finishResumableUpload(
  ctx: AppContext,
  log: FastifyBaseLogger,
  store: ResumableStore,
  upload: Upload,
  ip: string,
): Promise<Outcome> {
  const owner = upload.metadata?.[OWNER_KEY] ?? '';
  const holder = randomBytes(12).toString('hex');
  const deadline = Date.now() + FINISH_WAIT_MS;
  for (;;) {
    const claim = await claimResumableFinish(ctx.db, upload.id, owner, holder, FINISH_STALE_MS);
    if (claim.kind === 'finished') return { status: claim.result.status, body: claim.result.body };
    if (claim.kind === 'claimed') break;
    if (Date.now() > deadline) return failureAnswer(errors.stillProcessing(), log);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const outcome = await ingestFinishedUpload(ctx, log, { bytes: () => store.completeSource(upload), metadata: upload.metadata }, ip);
  await saveResumableResult(ctx.db, upload.id, holder, outcome.status, outcome.body);
  // The pipeline made its own copy (or failed for good): the parts have served their purpose.
  await store.remove(upload.id).catch((error: unknown) => log.warn({ err: error, uploadId: upload.id }, 'could not remove finished resumable upload parts'));
  return outcome;
}
