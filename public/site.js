// Shoebox: small progressive enhancements. Every page works without this file.
document.documentElement.classList.add('js');

document.addEventListener('DOMContentLoaded', () => {
  // Copy buttons: data-copy names the input whose value to copy.
  for (const button of document.querySelectorAll('[data-copy]')) {
    button.addEventListener('click', async () => {
      const field = document.getElementById(button.dataset.copy);
      if (!field) return;
      try {
        await navigator.clipboard.writeText(field.value);
      } catch {
        field.select();
        document.execCommand('copy');
      }
      const label = button.textContent;
      button.textContent = button.dataset.copied || label;
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }

  // Read-only codes select themselves, ready for Ctrl+C.
  for (const field of document.querySelectorAll('input.code, textarea.code')) {
    field.addEventListener('focus', () => field.select());
  }

  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form.requestSubmit());
  }

  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // The album password field only matters for password-protected albums.
  for (const select of document.querySelectorAll('select[data-toggles]')) {
    const target = document.getElementById(select.dataset.toggles);
    if (!target) continue;
    const update = () => { target.hidden = select.value !== target.dataset.shownFor; };
    select.addEventListener('change', update);
    update();
  }

  // A sensitive file on its own page is blurred until the visitor clicks it.
  for (const stage of document.querySelectorAll('.stage.is-sensitive')) {
    stage.addEventListener('click', (event) => {
      if (stage.classList.contains('revealed')) return;
      event.preventDefault();
      stage.classList.add('revealed');
    }, true);
  }
});
