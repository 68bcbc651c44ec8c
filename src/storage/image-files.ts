import { objectKey, type FileIdentity, type FileRole } from './object-keys.js';

/**
 * An image's files, in one place: which roles it has (Chevereto's `chain` bits: thumb 1,
 * medium 2, image 4, frame 16), each role's extension (the upload's own for the image, the
 * derivative extension for thumb and medium, `jpeg` for a video's frame), its size column and
 * its object key. Every layer asks here instead of spelling `chain & N`.
 */

export const ROLE_BITS: Record<FileRole, number> = { thumb: 1, medium: 2, image: 4, frame: 16 };

/** The roles in the order their files are listed (image first). */
export const ROLES: readonly FileRole[] = ['image', 'thumb', 'medium', 'frame'];

/** What of an image row its files depend on. */
export interface ImageFileFacts extends FileIdentity {
  chain: number;
  size: number;
  thumb_size: number;
  medium_size: number;
  frame_size: number;
}

/** The `chain` value of an image with these files. */
export function chainOf(roles: Iterable<FileRole>): number {
  let chain = 0;
  for (const role of roles) chain |= ROLE_BITS[role];
  return chain;
}

export function hasRole(image: { chain: number }, role: FileRole): boolean {
  return role === 'image' || (image.chain & ROLE_BITS[role]) !== 0;
}

/** The roles an image has files for, image first. */
export function rolesOf(image: { chain: number }): FileRole[] {
  return ROLES.filter((role) => hasRole(image, role));
}

/** The extension of a role's file: a video's frame is always JPEG. */
export function extensionOf(image: FileIdentity, role: FileRole): string {
  return role === 'image' ? image.extension : role === 'frame' ? 'jpeg' : image.derivative_extension;
}

/** The stored size of a role's file (0 when the image has none). */
export function sizeOf(image: ImageFileFacts, role: FileRole): number {
  return role === 'image' ? image.size : role === 'thumb' ? image.thumb_size : role === 'medium' ? image.medium_size : image.frame_size;
}

/** The small picture that stands for an image in lists: its thumb, else a video's frame, else itself. */
export function previewRoleOf(image: { chain: number }): FileRole {
  return hasRole(image, 'thumb') ? 'thumb' : hasRole(image, 'frame') ? 'frame' : 'image';
}

/** Keys of every file an image has. */
export function objectKeysOf(image: FileIdentity & { chain: number }): string[] {
  return rolesOf(image).map((role) => objectKey(image, role));
}
