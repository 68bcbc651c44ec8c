// Shoebox, the everyday site (issue 19): theme, selection, lightbox, share. Pages work without it.
(() => {
  const THEME_KEY = 'shoebox-theme';

  function initTheme() {
    for (const select of document.querySelectorAll('select[data-theme-picker]')) {
      let current = 'system';
      try { current = localStorage.getItem(THEME_KEY) || 'system'; } catch { /* storage refused */ }
      select.value = ['light', 'dark'].includes(current) ? current : 'system';
      select.addEventListener('change', () => {
        const value = select.value;
        try {
          if (value === 'system') localStorage.removeItem(THEME_KEY);
          else localStorage.setItem(THEME_KEY, value);
        } catch { /* storage refused: this page only */ }
        if (value === 'system') delete document.documentElement.dataset.theme;
        else document.documentElement.dataset.theme = value;
      });
    }
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.append(area);
      area.select();
      const ok = document.execCommand('copy');
      area.remove();
      return ok;
    }
  }

  function flash(button, text) {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = text || label;
    setTimeout(() => { button.textContent = label; }, 1500);
  }

  /** The bulk bar: a count, select all, shift-click ranges, fields that fit the action, a confirm before deleting. */
  function initBulk(form) {
    const boxes = () => [...document.querySelectorAll(`input[data-select][form="${form.id}"]:not(:disabled)`)];
    const count = form.querySelector('.bulk-count');
    const selectAll = form.querySelector('[data-select-all]');
    const update = () => {
      const all = boxes();
      const n = all.filter((b) => b.checked).length;
      if (count) count.textContent = (n === 1 ? count.dataset.countTemplateOne : count.dataset.countTemplate).replace('{n}', String(n));
      if (selectAll) {
        selectAll.checked = n > 0 && n === all.length;
        selectAll.indeterminate = n > 0 && n < all.length;
      }
      for (const tile of document.querySelectorAll('.tile')) {
        const box = tile.querySelector('input[data-select]');
        tile.classList.toggle('is-selected', Boolean(box && box.checked && !box.disabled));
      }
      document.body.classList.toggle('has-selection', n > 0);
    };
    let last = null;
    for (const box of boxes()) {
      box.addEventListener('click', (event) => {
        const all = boxes();
        if (event.shiftKey && last !== null && all.includes(last)) {
          const [from, to] = [all.indexOf(last), all.indexOf(box)].sort((a, b) => a - b);
          for (const other of all.slice(from, to + 1)) other.checked = box.checked;
        }
        last = box;
        update();
      });
    }
    selectAll?.addEventListener('change', () => {
      for (const box of boxes()) box.checked = selectAll.checked;
      update();
    });
    const actionSelect = form.querySelector('[data-bulk-action]');
    const showFields = () => {
      for (const fieldLabel of form.querySelectorAll('[data-for-action]')) {
        fieldLabel.hidden = !actionSelect || !fieldLabel.dataset.forAction.split(' ').includes(actionSelect.value);
      }
    };
    actionSelect?.addEventListener('change', showFields);
    showFields();
    form.addEventListener('submit', (event) => {
      const submit = form.querySelector('button[type="submit"]');
      if (boxes().every((b) => !b.checked)) {
        event.preventDefault();
        if (submit?.dataset.nothing) window.alert(submit.dataset.nothing);
        return;
      }
      if (actionSelect?.value === 'delete') {
        if (!window.confirm(submit.dataset.confirmDelete)) {
          event.preventDefault();
          return;
        }
        form.elements.confirm.value = '1';
      }
    });
    // Copy the links (or another embed code) of the selection without leaving the page.
    for (const button of form.querySelectorAll('[data-copy-selection]')) {
      button.addEventListener('click', async () => {
        const chosen = boxes().filter((b) => b.checked);
        if (chosen.length === 0) {
          const submit = form.querySelector('button[type="submit"]');
          if (submit?.dataset.nothing) window.alert(submit.dataset.nothing);
          return;
        }
        const body = new URLSearchParams();
        body.append('_csrf', form.elements._csrf.value);
        body.append('action', 'embed');
        body.append('code', button.dataset.copySelection);
        for (const box of chosen) body.append('image', box.value);
        const response = await fetch(form.action, { method: 'POST', body, headers: { Accept: 'text/plain' }, credentials: 'same-origin' });
        if (response.ok && (await copyText(await response.text()))) flash(button, button.dataset.copied);
      });
    }
    update();
  }

  /** Copy-link on tiles: a button on hover and keyboard focus; a long press on a phone shows it. */
  function initTileCopy() {
    for (const button of document.querySelectorAll('[data-copy-text]')) {
      button.addEventListener('click', async (event) => {
        event.preventDefault();
        if (await copyText(button.dataset.copyText)) flash(button, button.dataset.copied);
      });
    }
    for (const tile of document.querySelectorAll('.tile')) {
      let timer = null;
      tile.addEventListener('touchstart', () => {
        timer = setTimeout(() => tile.classList.add('show-actions'), 500);
      }, { passive: true });
      for (const type of ['touchend', 'touchmove', 'touchcancel']) tile.addEventListener(type, () => clearTimeout(timer), { passive: true });
    }
    document.addEventListener('click', (event) => {
      for (const open of document.querySelectorAll('.tile.show-actions')) if (!open.contains(event.target)) open.classList.remove('show-actions');
    });
  }

  /** Share: the system's share sheet where there is one (phones), else the link is copied. */
  function initShare() {
    for (const button of document.querySelectorAll('[data-share]')) {
      button.addEventListener('click', async () => {
        const data = { title: button.dataset.shareTitle, url: button.dataset.shareUrl };
        if (navigator.share && (!navigator.canShare || navigator.canShare(data))) {
          try {
            await navigator.share(data);
            return;
          } catch (error) {
            if (error && error.name === 'AbortError') return;
          }
        }
        if (await copyText(data.url)) flash(button, button.dataset.copied);
      });
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    initTheme();
    initShare();
    for (const form of document.querySelectorAll('form[data-bulk]')) initBulk(form);
    initTileCopy();
  });
})();
