import type { Kysely } from 'kysely';
import { approveImages, insertAuditEntry } from '../db/repositories/moderation.js';
import type { Database, ImageRow } from '../db/schema.js';
import type { Actor } from './takedown.js';

/**
 * Approving files waiting in the approval queue: they become visible (and listed when their
 * album is), and the action is written to the audit log. One service for every door (the
 * queue page, the management API); removing from the queue is `takeDown` (takedown.ts).
 */
export async function approveFiles(db: Kysely<Database>, images: Pick<ImageRow, 'id'>[], actor: Actor): Promise<number> {
  const count = await approveImages(db, images.map((image) => image.id));
  await insertAuditEntry(db, { actor: actor.name, action: 'approve', target: images.map((i) => `image:${i.id}`).join(' '), ip: actor.ip });
  return count;
}
