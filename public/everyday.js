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
    // Delegated, so tiles added by "load more" count too.
    document.addEventListener('click', (event) => {
      const box = event.target.closest && event.target.closest(`input[data-select][form="${form.id}"]`);
      if (!box || box.disabled) return;
      const all = boxes();
      if (event.shiftKey && last !== null && all.includes(last)) {
        const [from, to] = [all.indexOf(last), all.indexOf(box)].sort((a, b) => a - b);
        for (const other of all.slice(from, to + 1)) other.checked = box.checked;
      }
      last = box;
      update();
    });
    document.addEventListener('shoebox:tiles-added', update);
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
        // Not form.action: the form has a field named "action".
        const response = await fetch(form.getAttribute('action'), { method: 'POST', body, headers: { Accept: 'text/plain' }, credentials: 'same-origin' });
        if (response.ok && (await copyText(await response.text()))) flash(button, button.dataset.copied);
      });
    }
    update();
  }

  /** Copy-link on tiles: a button on hover and keyboard focus; a long press on a phone shows it. */
  function initTileCopy(root = document) {
    for (const button of root.querySelectorAll('[data-copy-text]')) {
      button.addEventListener('click', async (event) => {
        event.preventDefault();
        if (await copyText(button.dataset.copyText)) flash(button, button.dataset.copied);
      });
    }
    for (const tile of root.querySelectorAll('.tile')) {
      let timer = null;
      tile.addEventListener('touchstart', () => {
        timer = setTimeout(() => tile.classList.add('show-actions'), 500);
      }, { passive: true });
      for (const type of ['touchend', 'touchmove', 'touchcancel']) tile.addEventListener(type, () => clearTimeout(timer), { passive: true });
    }
    if (root !== document) return;
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

  const CONTEXT_KEY = 'shoebox-context';

  /** The lightbox over a listing: ←/→, Esc, actual size, swipe; the title links to the file's page. */
  function initLightbox(grid) {
    const links = () => [...grid.querySelectorAll('a[data-lightbox]')];
    // Remembered for the viewer page's previous/next: the listing it was opened from.
    const remember = () => {
      try {
        sessionStorage.setItem(CONTEXT_KEY, JSON.stringify({
          from: location.pathname + location.search,
          items: links().map((a) => ({ href: a.getAttribute('href'), title: a.dataset.title })),
          // The pages either side, so the viewer's previous/next can go past this page's edges.
          older: document.querySelector('.pager a[rel="next"]')?.getAttribute('href') || null,
          newer: document.querySelector('.pager a[rel="prev"]')?.getAttribute('href') || null,
        }));
      } catch { /* storage refused */ }
    };
    remember();
    document.addEventListener('shoebox:tiles-added', remember);

    const dialog = document.createElement('dialog');
    dialog.className = 'lightbox';
    dialog.innerHTML = `
      <div class="lightbox-bar">
        <a class="lightbox-title" data-lb-title></a>
        <span class="lightbox-position" data-lb-pos></span>
        <button type="button" class="lightbox-zoom" data-lb-zoom></button>
        <button type="button" class="lightbox-close" data-lb-close>×</button>
      </div>
      <div class="lightbox-stage" data-lb-stage></div>
      <button type="button" class="lightbox-prev" data-lb-prev>‹</button>
      <button type="button" class="lightbox-next" data-lb-next>›</button>`;
    document.body.append(dialog);
    const [title, pos, zoom, close, stage, prev, next] = ['title', 'pos', 'zoom', 'close', 'stage', 'prev', 'next'].map((n) => dialog.querySelector(`[data-lb-${n}]`));
    close.setAttribute('aria-label', grid.dataset.lbClose);
    close.title = grid.dataset.lbClose;
    prev.setAttribute('aria-label', grid.dataset.lbPrev);
    prev.title = grid.dataset.lbPrev;
    next.setAttribute('aria-label', grid.dataset.lbNext);
    next.title = grid.dataset.lbNext;
    title.title = grid.dataset.lbOpen;
    let index = 0;
    let zoomed = false;

    const show = (i) => {
      const all = links();
      index = (i + all.length) % all.length;
      const a = all[index];
      zoomed = false;
      dialog.classList.remove('zoomed');
      zoom.textContent = grid.dataset.lbZoom;
      stage.replaceChildren();
      if (a.dataset.video) {
        const video = document.createElement('video');
        video.src = a.dataset.full;
        video.controls = true;
        video.playsInline = true;
        stage.append(video);
        zoom.hidden = true;
      } else {
        const img = document.createElement('img');
        img.src = a.dataset.medium || a.dataset.full;
        if (a.dataset.medium) img.srcset = `${a.dataset.medium} 500w, ${a.dataset.full} ${a.closest('.tile').dataset.w}w`;
        img.sizes = '100vw';
        img.alt = a.dataset.title;
        stage.append(img);
        zoom.hidden = false;
      }
      title.textContent = a.dataset.title;
      title.href = a.getAttribute('href');
      dialog.setAttribute('aria-label', a.dataset.title);
      pos.textContent = grid.dataset.lbPosition.replace('{n}', String(index + 1)).replace('{total}', String(all.length));
      prev.hidden = next.hidden = all.length < 2;
    };
    const toggleZoom = () => {
      const img = stage.querySelector('img');
      if (!img) return;
      zoomed = !zoomed;
      dialog.classList.toggle('zoomed', zoomed);
      if (zoomed) {
        // A new element: the original at its own size (no srcset density left over).
        const full = document.createElement('img');
        full.src = links()[index].dataset.full;
        full.alt = img.alt;
        img.replaceWith(full);
      }
      zoom.textContent = zoomed ? grid.dataset.lbFit : grid.dataset.lbZoom;
    };
    prev.addEventListener('click', () => show(index - 1));
    next.addEventListener('click', () => show(index + 1));
    close.addEventListener('click', () => dialog.close());
    zoom.addEventListener('click', toggleZoom);
    dialog.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowLeft') { event.preventDefault(); show(index - 1); }
      else if (event.key === 'ArrowRight') { event.preventDefault(); show(index + 1); }
      else if (event.key === 'f' || event.key === 'F' || event.key === 'z') toggleZoom();
    });
    // Clicking the dark backdrop closes it.
    dialog.addEventListener('click', (event) => { if (event.target === dialog || event.target === stage) dialog.close(); });
    dialog.addEventListener('close', () => {
      stage.replaceChildren();
      links()[index]?.focus();
    });
    let touchX = null;
    let touchY = null;
    stage.addEventListener('touchstart', (event) => {
      if (event.touches.length !== 1) return;
      touchX = event.touches[0].clientX;
      touchY = event.touches[0].clientY;
    }, { passive: true });
    stage.addEventListener('touchend', (event) => {
      if (touchX === null || zoomed) return;
      const dx = event.changedTouches[0].clientX - touchX;
      const dy = event.changedTouches[0].clientY - touchY;
      touchX = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy)) show(dx < 0 ? index + 1 : index - 1);
    }, { passive: true });

    grid.addEventListener('click', (event) => {
      const a = event.target.closest('a[data-lightbox]');
      // New tab, a sensitive file (its page asks first) or a checkbox: the browser's own way.
      if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0 || a.dataset.nsfw) return;
      event.preventDefault();
      show(links().indexOf(a));
      dialog.showModal();
      close.focus();
    });
  }

  /** The tiles and page links of another page of a listing. */
  async function listingPage(href) {
    const response = await fetch(href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
    return {
      items: [...doc.querySelectorAll('[data-lightbox-grid] a[data-lightbox]')].map((a) => ({ href: a.getAttribute('href'), title: a.dataset.title })),
      older: doc.querySelector('.pager a[rel="next"]')?.getAttribute('href') || null,
      newer: doc.querySelector('.pager a[rel="prev"]')?.getAttribute('href') || null,
    };
  }

  /** Previous/next on a viewer page opened from a listing the server does not link through (explore, search, a tag): within that listing, kept by the listing page across its pages. From an album or a profile the server writes the links (`?from=`). */
  async function initViewerNav(nav) {
    let context = null;
    try { context = JSON.parse(sessionStorage.getItem(CONTEXT_KEY) || 'null'); } catch { /* none */ }
    if (!context || !Array.isArray(context.items)) return;
    const here = location.pathname;
    let i = context.items.findIndex((item) => item.href === here);
    if (i < 0) return;
    // At an edge of what the listing showed: fetch the page beyond it, once.
    try {
      if (i === context.items.length - 1 && context.older) {
        const page = await listingPage(context.older);
        context.items.push(...page.items.filter((item) => !context.items.some((known) => known.href === item.href)));
        context.older = page.older;
      }
      if (i === 0 && context.newer) {
        const page = await listingPage(context.newer);
        const before = page.items.filter((item) => !context.items.some((known) => known.href === item.href));
        context.items.unshift(...before);
        context.newer = page.newer;
        i += before.length;
      }
      sessionStorage.setItem(CONTEXT_KEY, JSON.stringify(context));
    } catch { /* offline: this page's neighbours only */ }
    const make = (item, rel, label) => {
      const a = document.createElement('a');
      a.className = `button viewer-${rel}`;
      a.rel = rel;
      a.href = item.href;
      a.textContent = rel === 'prev' ? `← ${label}` : `${label} →`;
      a.title = item.title;
      return a;
    };
    const prev = i > 0 ? make(context.items[i - 1], 'prev', nav.dataset.prevLabel) : null;
    const next = i < context.items.length - 1 ? make(context.items[i + 1], 'next', nav.dataset.nextLabel) : null;
    if (!prev && !next) return;
    const keys = document.createElement('span');
    keys.className = 'viewer-keys muted small';
    keys.textContent = nav.dataset.keys;
    nav.replaceChildren(prev || document.createElement('span'), keys, next || document.createElement('span'));
    nav.hidden = false;
  }

  /** Keyboard on the viewer page: ←/→ previous/next, F the file at full size. */
  function initViewerKeys() {
    document.addEventListener('keydown', (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target.closest && target.closest('input, textarea, select, [contenteditable], dialog')) return;
      if (event.key === 'ArrowLeft') document.querySelector('.viewer-prev')?.click();
      else if (event.key === 'ArrowRight') document.querySelector('.viewer-next')?.click();
      else if (event.key === 'f' || event.key === 'F') {
        const image = document.querySelector('[data-viewer-image]');
        if (image && !document.querySelector('.stage.is-sensitive:not(.revealed)')) location.href = image.href;
      }
    });
  }

  /** Square or justified (each picture at its own proportions) grid, remembered on this device. */
  function initGridLayout() {
    const grids = [...document.querySelectorAll('[data-lightbox-grid]')];
    if (grids.length === 0) return;
    let layout = 'square';
    try { layout = localStorage.getItem('shoebox-grid') || 'square'; } catch { /* storage refused */ }
    const apply = () => {
      for (const grid of grids) {
        grid.classList.toggle('justified', layout === 'justified');
        for (const tile of grid.querySelectorAll('.tile')) {
          tile.style.setProperty('--w', tile.dataset.w || '1');
          tile.style.setProperty('--h', tile.dataset.h || '1');
        }
      }
      for (const button of document.querySelectorAll('[data-grid-layout]')) button.setAttribute('aria-pressed', String(button.dataset.gridLayout === layout));
    };
    for (const button of document.querySelectorAll('[data-grid-layout]')) {
      button.addEventListener('click', () => {
        layout = button.dataset.gridLayout;
        try { localStorage.setItem('shoebox-grid', layout); } catch { /* this page only */ }
        apply();
      });
    }
    apply();
  }

  /** "Load more": the next page's tiles appended in place (the page links stay for going without JavaScript). */
  function initLoadMore() {
    for (const button of document.querySelectorAll('[data-load-more]')) {
      const grid = document.querySelector('[data-lightbox-grid]');
      if (!grid) continue;
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          const response = await fetch(button.dataset.loadMore, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
          const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
          const tiles = [...doc.querySelectorAll('[data-lightbox-grid] > li')];
          const holder = document.createElement('div');
          for (const tile of tiles) {
            const adopted = document.importNode(tile, true);
            holder.append(adopted);
          }
          initTileCopy(holder);
          for (const tile of [...holder.children]) {
            tile.style.setProperty('--w', tile.dataset.w || '1');
            tile.style.setProperty('--h', tile.dataset.h || '1');
            grid.append(tile);
          }
          const nextButton = doc.querySelector('[data-load-more]');
          const older = document.querySelector('.pager a[rel="next"]');
          if (nextButton) {
            button.dataset.loadMore = nextButton.dataset.loadMore;
            if (older) older.href = nextButton.dataset.loadMore;
            button.disabled = false;
          } else {
            button.remove();
            older?.remove();
          }
          document.dispatchEvent(new CustomEvent('shoebox:tiles-added'));
          grid.querySelectorAll('a[data-lightbox]')[grid.querySelectorAll('a[data-lightbox]').length - tiles.length]?.focus();
        } catch {
          button.disabled = false;
        }
      });
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    initTheme();
    initLoadMore();
    initShare();
    for (const grid of document.querySelectorAll('[data-lightbox-grid]')) initLightbox(grid);
    for (const nav of document.querySelectorAll('[data-viewer-nav]')) void initViewerNav(nav);
    if (document.querySelector('[data-viewer-nav], [data-server-nav]')) initViewerKeys();
    initGridLayout();
    for (const form of document.querySelectorAll('form[data-bulk]')) initBulk(form);
    initTileCopy();
  });
})();
