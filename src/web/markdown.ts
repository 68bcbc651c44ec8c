import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';

const require = createRequire(import.meta.url);
type MarkdownRenderer = InstanceType<typeof MarkdownIt>;

/**
 * Markdown of the site's pages and home intro, rendered safely: raw HTML is off (shown as
 * text), and markdown-it's link check drops javascript:, vbscript:, file: and data: links
 * (data: images other than gif/png/jpeg/webp too). Links to other sites get rel=nofollow noopener.
 */
function createRenderer(): MarkdownRenderer {
  const Markdown = require('markdown-it') as typeof MarkdownIt;
  const md = new Markdown({ html: false, linkify: true, typographer: false });
  const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const href = String(tokens[idx].attrGet('href') ?? '');
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) tokens[idx].attrSet('rel', 'nofollow noopener noreferrer');
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return md;
}

/** Made on the first text rendered (markdown-it is loaded then, not at start). */
let md: MarkdownRenderer | undefined;

export function renderMarkdown(text: string): string {
  md ??= createRenderer();
  return md.render(text);
}
