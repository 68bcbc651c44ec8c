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

  document.addEventListener('DOMContentLoaded', () => {
    initTheme();
  });
})();
