import { buildEmbedCodes, type EmbedGroup } from '../../src/web/embed-codes.js';
import type { UploaderConfig } from '../../src/web/uploader/uploader-config-types.js';
import { el, uid } from './dom.js';
import type { Strings } from './strings.js';

/** The part of the API's `image` object the results use. */
export interface UploadedImage {
  id_encoded: string;
  type: string;
  filename: string;
  title: string | null;
  url: string;
  url_viewer: string;
  width: number;
  height: number;
  mime: string;
  display_url: string;
  thumb: { url: string | null };
  medium: { url: string | null };
  frame: { url: string | null };
}

export interface UploadFailure {
  name: string;
  reason: string;
  /** Refused in the browser before anything was sent (type or size): said as such, not as a failed upload. */
  notSent?: boolean;
}

interface Done {
  image: UploadedImage;
  albumId: string | null;
  groups: EmbedGroup[];
}

/**
 * What the uploader shows once files are in: every file's links and embed codes (one format
 * for all files at once, with one "copy all"), the error report for files that failed, and
 * what a signed-in uploader can do next with the album; guests get the sign-up prompts.
 */
export class ResultsPanel {
  readonly element: HTMLElement;
  private readonly done: Done[] = [];
  private readonly failures: UploadFailure[] = [];
  private readonly heading: HTMLHeadingElement;
  private readonly formatSelect: HTMLSelectElement;
  private readonly codes: HTMLTextAreaElement;
  private readonly copyButton: HTMLButtonElement;
  private readonly fileList: HTMLUListElement;
  private readonly successBox: HTMLElement;
  private readonly errorBox: HTMLElement;
  private readonly errorList: HTMLUListElement;
  private readonly errorNote: HTMLParagraphElement;
  private readonly albumBox: HTMLElement;
  private createdAlbum: { name: string; url: string } | null = null;

  constructor(private readonly config: UploaderConfig, private readonly s: Strings, private readonly onAlbumCreated: () => void = () => undefined) {
    const codesId = uid('su-codes');
    const formatId = uid('su-format');
    const headingId = uid('su-results-title');
    this.heading = el('h2', { id: headingId, class: 'su-results-title', tabindex: '-1' });
    this.formatSelect = el('select', { id: formatId, onchange: () => this.renderCodes() });
    this.codes = el('textarea', { id: codesId, class: 'code su-codes', readonly: true, rows: 4, spellcheck: 'false', onfocus: () => this.codes.select() });
    this.copyButton = el('button', { type: 'button', class: 'primary su-copy-all', onclick: () => void this.copyAll() }, s.t('results.copy-all'));
    this.fileList = el('ul', { class: 'su-files' });
    this.albumBox = el('div', { class: 'su-album' });
    this.successBox = el(
      'section',
      { class: 'su-results', hidden: true, 'aria-labelledby': headingId },
      this.heading,
      this.albumBox,
      el('div', { class: 'su-codes-head' },
        el('label', { for: formatId, class: 'label-text' }, s.t('results.codes')),
        this.formatSelect,
        this.copyButton),
      el('label', { for: codesId, class: 'visually-hidden' }, s.t('results.codes')),
      this.codes,
      this.fileList,
    );
    this.errorList = el('ul', { class: 'su-error-list' });
    const errorsId = uid('su-errors-title');
    this.errorNote = el('p', { class: 'error su-error-note', role: 'alert' });
    this.errorBox = el(
      'section',
      { class: 'su-errors', hidden: true, 'aria-labelledby': errorsId },
      this.errorNote,
      el('h3', { id: errorsId, tabindex: '-1' }, s.t('errors.report-title')),
      this.errorList,
    );
    this.element = el('div', { class: 'su-outcome' }, this.errorBox, this.successBox);
  }

  get uploadedIds(): string[] {
    return this.done.map((d) => d.image.id_encoded);
  }

  get hasResults(): boolean {
    return this.done.length > 0;
  }

  addSuccess(image: UploadedImage, albumId: string | null): void {
    const groups = buildEmbedCodes({
      type: image.type,
      filename: image.filename,
      url: image.url,
      url_viewer: image.url_viewer,
      mediumUrl: image.medium?.url ?? null,
      thumbUrl: image.thumb?.url ?? null,
      frameUrl: image.frame?.url ?? null,
      width: image.width,
      height: image.height,
      mime: image.mime,
    });
    this.done.push({ image, albumId, groups });
    this.fileList.append(this.fileItem(image));
    this.refreshFormats();
    this.renderCodes();
    this.renderSummary();
    this.successBox.hidden = false;
  }

  addFailure(failure: UploadFailure): void {
    this.failures.push(failure);
    this.errorList.append(el('li', { class: `su-error-item${failure.notSent ? ' su-not-sent' : ''}` }, el('strong', {}, failure.name), ': ', failure.reason));
    // Files refused before sending were never uploaded, so "couldn't be uploaded" would mislead.
    const notSent = this.failures.some((f) => f.notSent);
    const failed = this.failures.some((f) => !f.notSent);
    this.errorNote.textContent = [failed ? this.s.t('errors.note') : '', notSent ? this.s.t('errors.note-not-sent') : '', this.s.t('errors.report')].filter(Boolean).join(' ');
    this.errorBox.hidden = false;
  }

  /** Moves focus to the results so a screen reader announces them and a keyboard user is there. */
  focus(): void {
    const target = this.successBox.hidden ? this.errorBox.querySelector('h3') : this.heading;
    (target as HTMLElement | null)?.focus();
  }

  clear(): void {
    this.done.length = 0;
    this.failures.length = 0;
    this.createdAlbum = null;
    this.fileList.replaceChildren();
    this.errorList.replaceChildren();
    this.successBox.hidden = true;
    this.errorBox.hidden = true;
  }

  /** This file's code in the chosen format (as the "copy all" box has it). */
  private codeOf(image: UploadedImage): string {
    const done = this.done.find((d) => d.image === image);
    if (!done) return image.url_viewer;
    const chosen = this.formatSelect.value;
    for (const group of done.groups) {
      const code = group.codes.find((c) => c.id === chosen);
      if (code) return code.value;
    }
    return done.groups[0].codes[0].value;
  }

  private async copyOne(button: HTMLButtonElement, text: string): Promise<void> {
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = this.s.t('results.copied');
    } catch {
      button.textContent = this.s.t('results.copy-failed');
    }
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
  }

  private fileItem(image: UploadedImage): HTMLLIElement {
    const name = image.title || image.filename;
    const thumb = image.thumb?.url || image.display_url;
    const copyLink: HTMLButtonElement = el('button', { type: 'button', class: 'small su-copy-link', onclick: () => void this.copyOne(copyLink, image.url_viewer) }, this.s.t('results.copy-link'));
    const copyCode: HTMLButtonElement = el('button', { type: 'button', class: 'small su-copy-code', onclick: () => void this.copyOne(copyCode, this.codeOf(image)) }, this.s.t('results.copy-code'));
    return el(
      'li',
      { class: 'su-result' },
      el('a', { href: image.url_viewer, class: 'su-thumb', tabindex: '-1', 'aria-hidden': 'true' }, el('img', { src: thumb, alt: '', loading: 'lazy' })),
      el('div', { class: 'su-result-body' },
        el('a', { href: image.url_viewer, class: 'su-result-title' }, name),
        el('div', { class: 'su-result-links' },
          el('a', { href: image.url_viewer, class: 'su-link-viewer' }, this.config.embed.codes['viewer-links'] ?? 'Viewer'),
          el('a', { href: image.url, class: 'su-link-direct' }, this.config.embed.codes['direct-links'] ?? 'Direct')),
        el('div', { class: 'su-result-copy' }, copyLink, copyCode)),
    );
  }

  /** The formats any uploaded file has, grouped as on the viewer page; the current choice is kept. */
  private refreshFormats(): void {
    const previous = this.formatSelect.value || 'viewer-links';
    const groups = new Map<string, Set<string>>();
    for (const done of this.done) {
      for (const group of done.groups) {
        const ids = groups.get(group.id) ?? new Set<string>();
        group.codes.forEach((c) => ids.add(c.id));
        groups.set(group.id, ids);
      }
    }
    this.formatSelect.replaceChildren(
      ...[...groups].map(([groupId, ids]) =>
        el('optgroup', { label: this.config.embed.groups[groupId] ?? groupId },
          ...[...ids].map((id) => el('option', { value: id }, this.config.embed.codes[id] ?? id)))),
    );
    this.formatSelect.value = previous;
    if (!this.formatSelect.value) this.formatSelect.selectedIndex = 0;
  }

  /** One line per file; a file without the chosen code (a video has no plain <img>) uses its group's first. */
  private renderCodes(): void {
    const chosen = this.formatSelect.value;
    const lines = this.done.map(({ groups }) => {
      for (const group of groups) {
        const code = group.codes.find((c) => c.id === chosen);
        if (code) return code.value;
      }
      const groupOfChoice = groups.find((g) => this.groupHas(g.id, chosen));
      return groupOfChoice?.codes[0]?.value ?? groups[0].codes[0].value;
    });
    this.codes.value = lines.join('\n');
    this.codes.rows = Math.min(Math.max(lines.length, 2), 10);
  }

  private groupHas(groupId: string, codeId: string): boolean {
    return this.done.some((d) => d.groups.some((g) => g.id === groupId && g.codes.some((c) => c.id === codeId)));
  }

  private async copyAll(): Promise<void> {
    const label = this.s.t('results.copy-all');
    try {
      await navigator.clipboard.writeText(this.codes.value);
      this.copyButton.textContent = this.s.t('results.copied');
    } catch {
      this.codes.focus();
      this.codes.select();
      this.copyButton.textContent = document.execCommand('copy') ? this.s.t('results.copied') : this.s.t('results.copy-failed');
    }
    setTimeout(() => {
      this.copyButton.textContent = label;
    }, 2000);
  }

  private renderSummary(): void {
    const s = this.s;
    this.heading.textContent = s.t('results.count', { count: this.done.length });
    this.albumBox.replaceChildren();
    const { user, guest } = this.config;
    if (user) {
      const albumIds = [...new Set(this.done.map((d) => d.albumId).filter((id): id is string => Boolean(id)))];
      for (const id of albumIds) {
        const album = user.albums.find((a) => a.id === id);
        if (album) this.albumBox.append(el('p', { class: 'su-album-added' }, ...linkInto(s.t('album.added', { album: '\u0000' }), album.name, album.url)));
      }
      if (this.createdAlbum) {
        this.albumBox.append(el('p', { class: 'su-album-created' }, s.t('album.created'), ' ', el('a', { href: this.createdAlbum.url }, this.createdAlbum.name)));
      } else {
        this.albumBox.append(this.newAlbumPrompt());
      }
    } else if (guest) {
      this.albumBox.append(
        el('p', { class: 'su-guest-save' }, s.t('guest.save-prompt'), ' ',
          guest.signupUrl ? el('a', { href: guest.signupUrl, class: 'button small primary' }, s.t('guest.signup')) : null, ' ',
          el('a', { href: guest.loginUrl, class: 'button small' }, s.t('guest.login'))),
      );
    }
  }

  private newAlbumPrompt(): HTMLElement {
    const s = this.s;
    const nameId = uid('su-album-name');
    const privacyId = uid('su-album-privacy');
    const message = el('p', { class: 'su-album-message', role: 'status' });
    const form = el(
      'form',
      { class: 'su-album-form row-form', hidden: true },
      el('div', { class: 'su-field' }, el('label', { for: nameId, class: 'label-text' }, s.t('album.name')),
        el('input', { id: nameId, name: 'name', required: true, maxlength: 100, autocomplete: 'off' })),
      el('div', { class: 'su-field' }, el('label', { for: privacyId, class: 'label-text' }, s.t('album.privacy')),
        el('select', { id: privacyId, name: 'privacy' },
          el('option', { value: 'public' }, s.t('album.privacy-public')),
          el('option', { value: 'unlisted' }, s.t('album.privacy-unlisted')),
          el('option', { value: 'private' }, s.t('album.privacy-private')))),
      el('button', { type: 'submit', class: 'primary' }, s.t('album.create-submit')),
      el('button', { type: 'button', onclick: () => { form.hidden = true; opener.hidden = false; opener.focus(); } }, s.t('album.cancel')),
    );
    const opener = el('button', {
      type: 'button',
      class: 'small su-album-open',
      onclick: () => {
        form.hidden = false;
        opener.hidden = true;
        (form.querySelector('input') as HTMLInputElement).focus();
      },
    }, s.t('album.create-button'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(form);
      void this.createAlbum(String(data.get('name') ?? ''), String(data.get('privacy') ?? 'public'), message);
    });
    return el('div', { class: 'su-album-new' }, el('p', {}, s.t('album.create-prompt'), ' ', opener), form, message);
  }

  private async createAlbum(name: string, privacy: string, message: HTMLElement): Promise<void> {
    try {
      const response = await fetch(this.config.endpoints.album, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ name, privacy, ids: this.uploadedIds }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok || !body?.album) throw new Error(body?.error?.message ?? response.statusText);
      this.createdAlbum = { name: body.album.name, url: body.album.url };
      this.config.user?.albums.push({ id: body.album.id_encoded, name: body.album.name, url: body.album.url });
      this.onAlbumCreated();
      this.renderSummary();
      (this.albumBox.querySelector('.su-album-created a') as HTMLElement | null)?.focus();
    } catch (error) {
      message.textContent = this.s.t('album.create-failed', { reason: (error as Error).message });
    }
  }
}

/** A sentence with a link in place of a marker (translations put the name wherever their grammar wants it). */
function linkInto(sentence: string, text: string, href: string): (string | Node)[] {
  const [before, after = ''] = sentence.split('\u0000');
  return [before, el('a', { href }, text), after];
}
