/**
 * Loaded on every page (small): mounts the uploader on /upload, and elsewhere turns the links
 * to /upload (the header's Upload button) into a modal uploader. The uploader itself (Uppy
 * and its styles) is fetched the first time it is needed. Without JavaScript the links still
 * lead to the page.
 */
const here = new URL(import.meta.url);
const basePath = here.pathname.replace(/\/assets\/uploader\/[^/]*$/, '');
const defaultConfigUrl = `${basePath}/upload/config.json`;
const uploadPath = `${basePath}/upload`;

const loadApp = () => import('./app.js');

function start(): void {
  const mount = document.getElementById('shoebox-uploader');
  if (mount) {
    void loadApp().then((app) => app.mountUploader(mount, mount.dataset.configUrl || defaultConfigUrl));
    return;
  }
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
    if (!link) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname.replace(/\/$/, '') !== uploadPath) return;
    event.preventDefault();
    link.setAttribute('aria-busy', 'true');
    void loadApp()
      .then((app) => app.openUploaderModal(defaultConfigUrl, link))
      .catch(() => {
        window.location.href = link.href;
      })
      .finally(() => link.removeAttribute('aria-busy'));
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
