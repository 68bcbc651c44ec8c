import Uppy, { type UppyFile } from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import './uploader.css';
import type { UploaderConfig, UploaderUnavailable } from '../../src/web/uploader/uploader-config-types.js';
import { el, uid } from './dom.js';
import { expirationLabel, metaFieldsFor } from './meta-fields.js';
import { ResultsPanel, type UploadedImage } from './results.js';
import { Strings } from './strings.js';

type Meta = { name?: string; type?: string; title: string; description: string; tags: string; album_id: string; nsfw: string; expiration: string };
type Body = { xhr?: XMLHttpRequest };

/** Parameters sent with each file: the API's names, so the server parses them with the API's parser. */
const SENT_FIELDS = ['name', 'type', 'title', 'description', 'tags', 'album_id', 'nsfw', 'expiration'];

async function loadConfig(configUrl: string): Promise<UploaderConfig | UploaderUnavailable> {
  const response = await fetch(configUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  return (await response.json()) as UploaderConfig | UploaderUnavailable;
}

/** The JSON a Shoebox endpoint answered with (the API's envelope), if any. */
function responseJson(xhr: XMLHttpRequest | undefined): any {
  try {
    return xhr?.responseText ? JSON.parse(xhr.responseText) : null;
  } catch {
    return null;
  }
}

/** A labelled control: the label holds only its text, so the control's accessible name is exactly that. */
function field(control: HTMLElement & { id: string }, label: string): HTMLElement {
  return el('div', { class: 'su-field' }, el('label', { for: control.id, class: 'label-text' }, label), control);
}

/** On touch screens Uppy's "Drop files here, paste or browse from your computer" becomes "Choose files". */
function touchLocale<T extends { strings: Record<string, unknown> }>(locale: T, s: Strings | null): T {
  if (!s) return locale;
  return { ...locale, strings: { ...locale.strings, browseFiles: s.t('touch.browseFiles'), dropPasteFiles: s.t('touch.dropPasteFiles') } };
}

export interface UploaderHandle {
  uppy: Uppy<Meta, Body>;
  /** True while the uploader is on screen (always on the page; while the dialog is open for the modal). */
  setActive(active: boolean): void;
  focus(): void;
}

/**
 * Builds the uploader inside `root`: options for all files, Uppy's Dashboard (drop zone,
 * browse, paste, previews with per-file editing, progress, pause/resume/retry), add by URL,
 * a live status line, and the results with links and embed codes.
 */
export function createUploader(root: HTMLElement, config: UploaderConfig): UploaderHandle {
  const s = new Strings(config.strings, config.lang);
  let active = true;
  const touch = window.matchMedia?.('(pointer: coarse)').matches ?? false;

  const status = el('p', { class: 'su-status', role: 'status', 'aria-live': 'polite' });
  const dashboardEl = el('div', { class: 'su-dashboard' });
  const results = new ResultsPanel(config, s, () => refreshAlbumOptions());

  const uppy = new Uppy<Meta, Body>({
    id: uid('shoebox-uppy'),
    autoProceed: false,
    locale: touchLocale(s.uppyLocale({ types: config.typesLabel }), touch ? s : null) as never,
    restrictions: { maxFileSize: config.maxFileSize, allowedFileTypes: config.allowedFileTypes },
    // Files start NSFW when the site marks this visitor's uploads so by default.
    meta: { title: '', description: '', tags: '', album_id: '', nsfw: config.nsfwDefault ? '1' : '0', expiration: '' },
  });

  // Options for all files: each change is applied to every queued file (and to files added later).
  const options = el('fieldset', { class: 'su-options' }, el('legend', {}, s.t('options.title')), el('p', { class: 'hint' }, s.t('options.apply-hint')));
  const optionRow = el('div', { class: 'su-options-row' });
  options.append(optionRow);
  const albumSelect = el('select', { id: uid('su-all-album'), onchange: () => uppy.setMeta({ album_id: albumSelect.value }) });
  const refreshAlbumOptions = () => {
    const chosen = albumSelect.value;
    albumSelect.replaceChildren(
      el('option', { value: '' }, s.t('options.no-album')),
      ...(config.user?.albums ?? []).map((a) => el('option', { value: a.id }, a.name)),
    );
    albumSelect.value = chosen;
  };
  if (config.user) {
    refreshAlbumOptions();
    optionRow.append(field(albumSelect, s.t('options.album')));
    // "Upload into this album" on an album page opens /upload?album=<id>.
    const wanted = new URLSearchParams(window.location.search).get('album');
    if (wanted && config.user.albums.some((a) => a.id === wanted)) {
      albumSelect.value = wanted;
      uppy.setMeta({ album_id: wanted });
    }
  }
  const expirationSelect = el('select', { id: uid('su-all-expiration'), onchange: () => uppy.setMeta({ expiration: expirationSelect.value }) });
  if (config.user) {
    expirationSelect.append(el('option', { value: '' }, s.t('options.never')), ...config.expirations.map((c) => el('option', { value: c.value }, expirationLabel(s, c))));
  } else {
    // Guests' uploads expire on the site's schedule; the select only shows it.
    const forced = config.guest?.expiration;
    expirationSelect.append(el('option', { value: '' }, forced ? expirationLabel(s, forced) : s.t('options.never')));
    expirationSelect.disabled = true;
  }
  optionRow.append(field(expirationSelect, s.t('options.expiration')));
  // Tags for every file (a file's card can then change its own).
  const tagsInput = el('input', {
    id: uid('su-all-tags'), class: 'su-all-tags', placeholder: s.t('field.tags-placeholder'), autocomplete: 'off',
    // setMeta also sets it on the files already queued.
    onchange: () => uppy.setMeta({ tags: tagsInput.value }),
  });
  optionRow.append(field(tagsInput, s.t('options.tags')));
  const nsfwBox = el('input', { type: 'checkbox', id: uid('su-all-nsfw'), onchange: () => uppy.setMeta({ nsfw: nsfwBox.checked ? '1' : '0' }) });
  nsfwBox.checked = config.nsfwDefault;
  optionRow.append(el('label', { for: nsfwBox.id, class: 'check' }, nsfwBox, s.t('options.nsfw')));
  if (config.guest) {
    const period = config.guest.expiration;
    options.append(el('p', { class: 'su-guest-note hint' },
      period ? `${s.t('guest.expires', { period: s.t(`period.${period.unit}`, { count: period.count }) })} ` : '',
      s.t('guest.autodelete'), ' ',
      config.guest.signupUrl ? el('a', { href: config.guest.signupUrl }, s.t('guest.signup')) : null));
  }

  uppy.use(Dashboard<Meta, Body>, {
    inline: true,
    target: dashboardEl,
    width: '100%',
    // Shorter on phones, where the page scrolls anyway.
    height: window.innerWidth < 640 ? 320 : 380,
    note: config.limitsLabel,
    metaFields: metaFieldsFor(config, s),
    proudlyDisplayPoweredByUppy: false,
    hideProgressDetails: false,
    theme: 'auto',
    fileManagerSelectionType: 'files',
    doneButtonHandler: () => {
      uppy.clear();
      status.textContent = '';
    },
  });
  uppy.use(Tus<Meta, Body>, {
    endpoint: config.endpoints.tus,
    chunkSize: config.chunkSize,
    // Network failures and restarts are retried (then resumed from the server's offset); a 4xx is final.
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
    removeFingerprintOnSuccess: true,
    allowedMetaFields: SENT_FIELDS,
    limit: 3,
  });

  // Clicking or touching a preview opens that file's card, as the edit button does.
  dashboardEl.addEventListener('click', (event) => {
    const preview = (event.target as Element).closest('.uppy-Dashboard-Item-previewInnerWrap');
    const edit = preview?.closest('.uppy-Dashboard-Item')?.querySelector<HTMLButtonElement>('.uppy-Dashboard-Item-action--edit');
    if (edit && !(event.target as Element).closest('a, button')) edit.click();
  });

  const fileName = (file: UppyFile<Meta, Body> | undefined) => file?.name ?? file?.meta?.name ?? '?';
  uppy.on('restriction-failed', (file, error) => {
    if (file) results.addFailure({ name: fileName(file as UppyFile<Meta, Body>), reason: error.message, notSent: true });
  });
  uppy.on('upload', () => {
    status.textContent = s.t('status.queue');
  });
  uppy.on('progress', (percent) => {
    const uploading = uppy.getFiles().filter((f) => f.progress.uploadStarted && !f.progress.uploadComplete && !f.error).length;
    if (uploading > 0) status.textContent = s.t('status.uploading', { count: uploading, percent: Math.round(percent) });
  });
  uppy.on('upload-success', (file, response) => {
    void (async () => {
      let body = responseJson(response.body?.xhr);
      // A client that resumed an already complete upload gets no body: ask for the kept answer.
      if (!body?.image && response.uploadURL) {
        body = await fetch(`${response.uploadURL}/result`, { credentials: 'same-origin' }).then((r) => r.json()).catch(() => null);
      }
      if (body?.image) results.addSuccess(body.image as UploadedImage, file?.meta.album_id || null);
      else results.addFailure({ name: fileName(file), reason: body?.error?.message ?? s.t('errors.unknown') });
    })();
  });
  uppy.on('upload-error', (file, error, response) => {
    const body = responseJson(response?.body?.xhr);
    const reason: string = body?.error?.message ?? (error?.name === 'NetworkError' || /network|connection/i.test(error?.message ?? '') ? s.t('errors.network') : error?.message ?? s.t('errors.unknown'));
    // Uppy shows the tus protocol's wording on the file; the server's reason reads better.
    if (file) uppy.setFileState(file.id, { error: reason });
    if (file) results.addFailure({ name: fileName(file), reason });
  });
  uppy.on('complete', (result) => {
    const ok = result.successful?.length ?? 0;
    status.textContent = ok > 0 ? s.t('status.complete') : `${s.t('status.none')}. ${s.t('status.failed-all')}`;
    // Let the success handlers (which may fetch a kept answer) land before moving focus.
    setTimeout(() => results.focus(), 50);
  });

  // Add by URL: the server fetches it through the same pipeline (and the same safety checks) as the API.
  const urlInput = el('input', { type: 'url', id: uid('su-url'), placeholder: s.t('url.placeholder'), inputmode: 'url', autocomplete: 'off' });
  const urlButton = el('button', { type: 'submit' }, s.t('url.button'));
  const urlForm = el('form', { class: 'su-url' }, field(urlInput, s.t('url.label')), urlButton);
  urlForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void addByUrl(urlInput.value.trim());
  });
  const addByUrl = async (url: string) => {
    if (!/^https?:\/\/\S+$/i.test(url)) {
      status.textContent = s.t('url.invalid');
      urlInput.focus();
      return;
    }
    urlButton.disabled = true;
    status.textContent = s.t('url.fetching', { url });
    const meta = uppy.getState().meta as Partial<Meta>;
    try {
      const response = await fetch(config.endpoints.url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ url, album_id: meta.album_id ?? '', nsfw: meta.nsfw ?? '0', expiration: meta.expiration ?? '', tags: meta.tags ?? '' }),
      });
      const body = await response.json().catch(() => null);
      if (response.ok && body?.image) {
        results.addSuccess(body.image as UploadedImage, meta.album_id || null);
        status.textContent = s.t('status.complete');
        urlInput.value = '';
      } else {
        results.addFailure({ name: url, reason: body?.error?.message ?? response.statusText });
        status.textContent = s.t('status.failed-all');
      }
    } catch (error) {
      results.addFailure({ name: url, reason: s.t('errors.network') });
      status.textContent = s.t('status.failed-all');
    } finally {
      urlButton.disabled = false;
      results.focus();
    }
  };

  // Paste anywhere on the page (Uppy itself only listens while focus is inside its drop zone).
  document.addEventListener('paste', (event) => {
    if (!active) return;
    const target = event.target as Element | null;
    if ((target && dashboardEl.contains(target)) || dashboardEl.contains(document.activeElement)) return;
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length > 0) {
      event.preventDefault();
      for (const file of files) {
        try {
          uppy.addFile({ name: file.name || 'pasted-image', type: file.type, data: file, source: 'paste' });
        } catch {
          // Refused by a restriction: 'restriction-failed' has already reported it.
        }
      }
      return;
    }
    const text = event.clipboardData?.getData('text')?.trim() ?? '';
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || (target as HTMLElement | null)?.isContentEditable;
    if (config.urlUploads && !typing && /^https?:\/\/\S+$/i.test(text)) {
      event.preventDefault();
      urlInput.value = text;
      urlInput.focus();
    }
  });

  root.replaceChildren(
    el('div', { class: 'su' },
      options,
      dashboardEl,
      // Phones have no Ctrl+V; the limits line stays in sight under the drop zone there.
      el('p', { class: 'su-hints hint' }, s.t(touch ? 'customize-hint-touch' : 'customize-hint'), ...(touch ? [] : [' ', s.t('paste-hint')])),
      touch ? el('p', { class: 'su-limits hint' }, config.limitsLabel) : null,
      config.urlUploads ? urlForm : null,
      status,
      results.element),
  );

  return {
    uppy,
    setActive(value: boolean) {
      active = value;
    },
    focus() {
      dashboardEl.querySelector<HTMLElement>('.uppy-Dashboard-browse')?.focus();
    },
  };
}

/** The /upload page: the uploader in place. */
export async function mountUploader(root: HTMLElement, configUrl: string): Promise<void> {
  const config = await loadConfig(configUrl);
  if (!config.canUpload) {
    window.location.href = config.loginUrl;
    return;
  }
  createUploader(root, config);
}

let modal: { dialog: HTMLDialogElement; handle: UploaderHandle } | null = null;

/** Every other page: the same uploader in a dialog, opened from the header's Upload button. */
export async function openUploaderModal(configUrl: string, opener: HTMLElement | null): Promise<void> {
  if (!modal) {
    const config = await loadConfig(configUrl);
    if (!config.canUpload) {
      window.location.href = config.loginUrl;
      return;
    }
    const s = new Strings(config.strings, config.lang);
    const titleId = uid('su-modal-title');
    const body = el('div', { class: 'shoebox-uploader' });
    const dialog = el('dialog', { class: 'su-modal', 'aria-labelledby': titleId },
      el('div', { class: 'su-modal-head' },
        el('h2', { id: titleId }, s.t('modal.title')),
        el('button', { type: 'button', class: 'su-modal-close', 'aria-label': s.t('modal.close'), onclick: () => dialog.close() }, '×')),
      body);
    document.body.append(dialog);
    const handle = createUploader(body, config);
    // Uploads go on while the dialog is closed; paste only counts while it is open.
    dialog.addEventListener('close', () => {
      handle.setActive(false);
      opener?.focus();
    });
    modal = { dialog, handle };
  }
  modal.handle.setActive(true);
  modal.dialog.showModal();
  modal.handle.focus();
}
