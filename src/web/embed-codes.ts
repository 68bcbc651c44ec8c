import { escapeHtml } from '../core/text.js';

/**
 * The embed codes of a viewer page, in the groups and formats Chevereto users know
 * (Chevereto's embed-tpl): links, HTML, BBCode and Markdown, each as the full file, the
 * medium size and the thumbnail, linked to the viewer page. Videos get a <video> tag and
 * their frame as the picture. Pure: the viewer page and its tests both call it.
 */

export interface EmbedSource {
  type: string;
  filename: string;
  url: string;
  url_viewer: string;
  /** null when the file has no medium (narrow images) or no thumb. */
  mediumUrl: string | null;
  thumbUrl: string | null;
  frameUrl: string | null;
  width: number;
  height: number;
  mime: string;
}

export interface EmbedCode {
  /** Stable id, also the translation key of its label: `embed.code.<id>`. */
  id: string;
  value: string;
}

export interface EmbedGroup {
  id: 'links' | 'html' | 'bbcode' | 'markdown' | 'video';
  codes: EmbedCode[];
}

/** Markdown alt text must not close its brackets. */
function markdownText(text: string): string {
  return text.replace(/[[\]\\]/g, (c) => `\\${c}`);
}

/** BBCode has no escaping; a `]` in a URL would end the tag early, so encode it. */
function bbUrl(url: string): string {
  return url.replace(/\[/g, '%5B').replace(/]/g, '%5D');
}

export function buildEmbedCodes(source: EmbedSource): EmbedGroup[] {
  const { url, url_viewer: viewer } = source;
  const isVideo = source.type === 'video';
  // The picture a page shows for the file: the frame of a video, else the file itself.
  const full = isVideo ? source.frameUrl ?? source.thumbUrl ?? url : url;
  const medium = source.mediumUrl ?? full;
  const thumb = source.thumbUrl ?? medium;
  const alt = source.filename;
  const html = (src: string) => `<img src="${escapeHtml(src)}" alt="${escapeHtml(alt)}" border="0">`;
  const linkedHtml = (src: string) => `<a href="${escapeHtml(viewer)}">${html(src)}</a>`;
  const md = (src: string) => `![${markdownText(alt)}](${src})`;

  const links: EmbedCode[] = [
    { id: 'viewer-links', value: viewer },
    { id: 'direct-links', value: url },
  ];
  if (isVideo && source.frameUrl) links.push({ id: 'frame-links', value: source.frameUrl });
  if (source.thumbUrl) links.push({ id: 'thumbnail-links', value: source.thumbUrl });
  if (source.mediumUrl) links.push({ id: 'medium-links', value: source.mediumUrl });

  const groups: EmbedGroup[] = [{ id: 'links', codes: links }];
  if (isVideo) {
    groups.push({
      id: 'video',
      codes: [
        {
          id: 'html-video',
          value: `<video controls preload="metadata" width="${source.width}" height="${source.height}"${source.frameUrl ? ` poster="${escapeHtml(source.frameUrl)}"` : ''}><source src="${escapeHtml(url)}" type="${escapeHtml(source.mime)}"></video>`,
        },
        { id: 'bbcode-video', value: `[video]${bbUrl(url)}[/video]` },
      ],
    });
  }
  groups.push(
    {
      id: 'html',
      codes: [
        ...(isVideo ? [] : [{ id: 'html-full', value: html(full) }]),
        { id: 'html-full-linked', value: linkedHtml(full) },
        { id: 'html-medium-linked', value: linkedHtml(medium) },
        { id: 'html-thumbnail-linked', value: linkedHtml(thumb) },
      ],
    },
    {
      id: 'bbcode',
      codes: [
        ...(isVideo ? [] : [{ id: 'bbcode-full', value: `[img]${bbUrl(full)}[/img]` }]),
        { id: 'bbcode-full-linked', value: `[url=${bbUrl(viewer)}][img]${bbUrl(full)}[/img][/url]` },
        { id: 'bbcode-medium-linked', value: `[url=${bbUrl(viewer)}][img]${bbUrl(medium)}[/img][/url]` },
        { id: 'bbcode-thumbnail-linked', value: `[url=${bbUrl(viewer)}][img]${bbUrl(thumb)}[/img][/url]` },
      ],
    },
    {
      id: 'markdown',
      codes: [
        ...(isVideo ? [] : [{ id: 'markdown-full', value: md(full) }]),
        { id: 'markdown-full-linked', value: `[${md(full)}](${viewer})` },
        { id: 'markdown-medium-linked', value: `[${md(medium)}](${viewer})` },
        { id: 'markdown-thumbnail-linked', value: `[${md(thumb)}](${viewer})` },
      ],
    },
  );
  return groups;
}
