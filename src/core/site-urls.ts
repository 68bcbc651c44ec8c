import type { Settings } from '../config/settings.js';
import type { PublicIdCodec } from './public-id.js';

/** What a URL needs to know about an image. */
export interface ImageUrlFacts {
  id: number;
  type: string;
  title: string | null;
  folder: string;
}

/**
 * First path segments the site uses (or may use soon), lower case: no username may be one of
 * them (profiles live at /<username>, web/reserved-names.ts), and neither may a viewer route
 * set in the dashboard (admin/site-settings.ts) — apart from `image` and `video`, the viewer's own.
 */
export const SITE_PATH_SEGMENTS: readonly string[] = [
  'about', 'account', 'admin', 'album', 'albums', 'api', 'dashboard', 'delete', 'embed', 'explore', 'favicon.ico',
  'feed', 'healthz', 'help', 'image', 'images', 'json', 'language', 'login', 'logout', 'me', 'metrics', 'nsfw',
  'oembed', 'page', 'pages', 'password', 'plugin', 'robots.txt', 'search', 'settings', 'signup', 'site', 'sitemap.xml',
  'static', 'tag', 'tags', 'tus', 'upload', 'uploads', 'user', 'users', 'video', 'videos',
];

/** Lowercase ASCII words joined by dashes, for the readable part of viewer URLs. */
export function slugify(text: string, maxLength = 80): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, maxLength).replace(/-+$/, '');
}

/**
 * Every URL Shoebox hands out, built from SHOEBOX_BASE_URL (which may carry a path) and,
 * for direct file links, SHOEBOX_MEDIA_BASE_URL (a CDN or public bucket).
 */
export class SiteUrls {
  constructor(
    private readonly settings: Pick<Settings, 'baseUrl' | 'mediaBaseUrl' | 'imageRoute' | 'videoRoute' | 'seoUrls'>,
    readonly ids: PublicIdCodec,
  ) {}

  private basePathOf?: { baseUrl: string; basePath: string };

  /** `/pics` for https://example.com/pics, '' at the root. */
  get basePath(): string {
    // Read on every request (several times): parse the URL once per base URL.
    if (this.basePathOf?.baseUrl !== this.settings.baseUrl) {
      this.basePathOf = { baseUrl: this.settings.baseUrl, basePath: new URL(this.settings.baseUrl).pathname.replace(/\/+$/, '') };
    }
    return this.basePathOf.basePath;
  }

  absolute(pathname: string): string {
    return `${this.settings.baseUrl}${pathname.startsWith('/') ? '' : '/'}${pathname}`;
  }

  routeOf(type: string): string {
    return type === 'video' ? this.settings.videoRoute : this.settings.imageRoute;
  }

  fileUrl(key: string): string {
    return `${this.settings.mediaBaseUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  viewerPath(image: ImageUrlFacts): string {
    const id = this.ids.encode(image.id);
    const slug = this.settings.seoUrls && image.title ? slugify(image.title) : '';
    return `${this.basePath}/${this.routeOf(image.type)}/${slug ? `${slug}.` : ''}${id}`;
  }

  viewerUrl(image: ImageUrlFacts): string {
    return `${new URL(this.settings.baseUrl).origin}${this.viewerPath(image)}`;
  }

  shortUrl(image: ImageUrlFacts): string {
    return this.absolute(`/${this.routeOf(image.type)}/${this.ids.encode(image.id)}`);
  }

  deleteUrl(image: ImageUrlFacts, secret: string): string {
    return `${this.shortUrl(image)}/delete/${secret}`;
  }

  albumUrl(albumId: number): string {
    return this.absolute(`/album/${this.ids.encode(albumId)}`);
  }

  tagUrl(urlKey: string): string {
    return this.absolute(`/tag/${urlKey}`);
  }
}
