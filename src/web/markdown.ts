import MarkdownIt from 'markdown-it';

/**
 * Markdown of the site's pages and home intro, rendered safely: raw HTML is off (shown as
 * text), and markdown-it's link check drops javascript:, vbscript:, file: and data: links
 * (data: images other than gif/png/jpeg/webp too). Links to other sites get rel=nofollow noopener.
 */
const md = new MarkdownIt({ html: false, linkify: true, typographer: false });

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const href = String(tokens[idx].attrGet('href') ?? '');
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) tokens[idx].attrSet('rel', 'nofollow noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

export function renderMarkdown(text: string): string {
  return md.render(text);
}
