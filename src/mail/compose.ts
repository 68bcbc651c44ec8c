import type { MailMessage } from './mailer.js';

/**
 * The one shape of every Shoebox email: a greeting, paragraphs, an optional button-like link,
 * a closing line. The caller passes text already translated; this only lays it out as plain
 * text and as simple HTML (every value escaped).
 */
export interface MailContent {
  to: string;
  subject: string;
  greeting?: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  /** e.g. "If you didn't ask for this, ignore this email." */
  footer?: string;
  /** Sent as the HTML part's `lang`. */
  lang?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function composeMail(content: MailContent): MailMessage {
  const blocks: string[] = [];
  if (content.greeting) blocks.push(content.greeting);
  blocks.push(...content.paragraphs);
  if (content.action) blocks.push(`${content.action.label}:\n${content.action.url}`);
  if (content.footer) blocks.push(content.footer);

  const html: string[] = [];
  if (content.greeting) html.push(`<p>${escapeHtml(content.greeting)}</p>`);
  for (const p of content.paragraphs) html.push(`<p>${escapeHtml(p)}</p>`);
  if (content.action) {
    const url = escapeHtml(content.action.url);
    html.push(`<p><a href="${url}">${escapeHtml(content.action.label)}</a></p><p style="color:#666;font-size:small">${url}</p>`);
  }
  if (content.footer) html.push(`<p style="color:#666;font-size:small">${escapeHtml(content.footer)}</p>`);
  const lang = content.lang ? ` lang="${escapeHtml(content.lang)}"` : '';
  return {
    to: content.to,
    subject: content.subject,
    text: `${blocks.join('\n\n')}\n`,
    html: `<!doctype html><html${lang}><body>${html.join('\n')}</body></html>`,
  };
}
