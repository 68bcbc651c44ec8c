// Before the first paint: the light or dark look chosen on this device (else the system's).
try {
  const theme = localStorage.getItem('shoebox-theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch {
  // Storage refused (private mode): follow the system.
}
