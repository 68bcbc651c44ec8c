const QR_CACHE_SIZE = 2000;
const qrCache = new Map<string, string>();

/**
 * The QR code of a link as an SVG element (drawn by the `qrcode` package on the server, so
 * it needs no script and passes the Content-Security-Policy). Links are public URLs and the
 * drawing is pure, so the last few thousand are kept.
 */
export async function qrSvgOf(url: string, label: string): Promise<string> {
  const key = `${url}\u0000${label}`;
  const known = qrCache.get(key);
  if (known !== undefined) return known;
  // qrcode is loaded on the first share box drawn, not at start.
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(url, { type: 'svg', margin: 2, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } });
  // An accessible name for the picture; the label is escaped (it comes from a translation).
  const named = svg.replace('<svg ', `<svg role="img" aria-label="${escapeAttribute(label)}" class="qr-code" `);
  if (qrCache.size >= QR_CACHE_SIZE) qrCache.delete(qrCache.keys().next().value!);
  qrCache.set(key, named);
  return named;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
