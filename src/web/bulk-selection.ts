import type { AlbumRow, ImageRow, UserRow } from '../db/schema.js';
import { imageObjectOf } from './routes/viewer-page.js';
import { buildEmbedCodes, type EmbedGroup } from './embed-codes.js';
import type { ImageTile } from './cards.js';
import type { WebKit } from './web-kit.js';

/** Most files one bulk action takes (a few pages of a listing). */
export const MAX_SELECTION = 500;

export const BULK_ACTIONS = ['move', 'new-album', 'nsfw-on', 'nsfw-off', 'add-tags', 'remove-tags', 'embed', 'delete'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export function isBulkAction(text: string): text is BulkAction {
  return (BULK_ACTIONS as readonly string[]).includes(text);
}

/** Whether the visitor may select (and so change) this file: its owner, or an admin. */
export function maySelect(user: UserRow | null, ownerId: number | null): boolean {
  return user !== null && (user.is_admin === 1 || (ownerId !== null && user.id === ownerId));
}

/** What the bulk bar above a listing needs: where to post, where to come back, which albums to offer. */
export interface BulkBar {
  action: string;
  returnTo: string;
  albums: { id: string; name: string }[];
  /** The album the listing shows (not offered as a target for a move). */
  currentAlbum: string | null;
}

export function bulkBarFor(kit: WebKit, returnTo: string, albums: AlbumRow[], current: AlbumRow | null = null): BulkBar {
  return {
    action: `${kit.ctx.urls.basePath}/files/bulk`,
    returnTo: withoutNotice(returnTo),
    albums: albums.filter((a) => a.id !== current?.id).map((a) => ({ id: kit.ctx.ids.encode(a.id), name: a.name })),
    currentAlbum: current ? kit.ctx.ids.encode(current.id) : null,
  };
}

/** The page to come back to, without the notice it showed (the action adds its own). */
function withoutNotice(pathAndQuery: string): string {
  const [pathname, query = ''] = pathAndQuery.split('?');
  const params = new URLSearchParams(query);
  params.delete('notice');
  const rest = params.toString();
  return rest ? `${pathname}?${rest}` : pathname;
}

/** Tiles with `selectable` set where the visitor may manage the file. */
export function markSelectable<T extends ImageTile>(tiles: T[], user: UserRow | null): (T & { selectable: boolean })[] {
  return tiles.map((tile) => ({ ...tile, selectable: maySelect(user, tile.userId) }));
}

/** Every embed code of every file, one block per format: what "copy embed codes" hands out. */
export function embedCodesOfSelection(kit: WebKit, images: ImageRow[]): { id: string; group: EmbedGroup['id']; value: string }[] {
  const blocks = new Map<string, { id: string; group: EmbedGroup['id']; lines: string[] }>();
  for (const image of images) {
    const object = imageObjectOf(kit, image, []);
    const groups = buildEmbedCodes({
      type: image.type, filename: object.filename, url: object.url, url_viewer: object.url_viewer, mediumUrl: object.medium.url,
      thumbUrl: object.thumb.url, frameUrl: object.frame.url, width: image.width, height: image.height, mime: image.mime,
    });
    for (const group of groups) {
      for (const code of group.codes) {
        const block = blocks.get(code.id) ?? { id: code.id, group: group.id, lines: [] };
        block.lines.push(code.value);
        blocks.set(code.id, block);
      }
    }
  }
  return [...blocks.values()].map((b) => ({ id: b.id, group: b.group, value: b.lines.join('\n') }));
}
