import type { ImageRow } from '../db/schema.js';

/** What became of one call of the ingest pipeline. */
export interface UploadOutcome {
  /** Seconds the pipeline took, from its policy checks to the committed row (or the refusal). */
  seconds: number;
  image?: ImageRow;
  error?: unknown;
}

export type UploadListener = (outcome: UploadOutcome) => void;

/**
 * Listeners of finished uploads (the metrics), per site. A site is known by its database
 * handle, which every caller of the pipeline passes along, so two sites in one process (as in
 * tests) never see each other's uploads.
 */
const listenersBySite = new WeakMap<object, Set<UploadListener>>();

export function onUploadFinished(site: object, listener: UploadListener): () => void {
  let listeners = listenersBySite.get(site);
  if (!listeners) listenersBySite.set(site, (listeners = new Set()));
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function reportUploadFinished(site: object, outcome: UploadOutcome): void {
  for (const listener of listenersBySite.get(site) ?? []) {
    try {
      listener(outcome);
    } catch {
      // A listener (metrics) must never fail an upload.
    }
  }
}
