import { formatUtc } from '../../src/core/dates.js';
import type { NewImageRow } from '../../src/db/schema.js';

/** An image row as the ingest pipeline would write it. */
export function imageRow(overrides: Partial<NewImageRow> = {}): NewImageRow {
  return {
    user_id: null, album_id: null, category_id: null, folder: '2024/05/06', name: `file-${Math.random().toString(36).slice(2, 10)}`,
    extension: 'png', mime: 'image/png', type: 'image', size: 1234, width: 64, height: 48,
    md5: 'd41d8cd98f00b204e9800998ecf8427e', source_md5: null, title: 'A file', description: null, nsfw: 0,
    original_filename: 'a.png', exifdata: null, chain: 5, thumb_size: 100, medium_size: 0, frame_size: 0,
    derivative_extension: 'png', is_animated: 0, is_approved: 1, is_360: 0, duration: 0, views: 0, likes: 0,
    uploader_ip: '127.0.0.1', date_gmt: formatUtc(new Date()), expires_at: null, delete_hash: 'x'.repeat(64),
    ...overrides,
  };
}
