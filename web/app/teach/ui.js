// Small helpers shared by the parts: element lookup, number formatting, the palette, Chart.js
// defaults (figure text as large as the body text), the burn-in band plugin and image thumbnails.
export const $ = (id) => document.getElementById(id);

export const colors = {
  fg: '#1b1f24',
  muted: '#5b6470',
  line: '#9aa4b0',
  accent: '#1f6feb',
  ok: '#1a7f37',
  no: '#cf222e',
  target: 'rgba(31, 111, 235, 0.55)',
  visits: 'rgba(154, 103, 0, 0.75)',
  simclr: 'rgba(130, 80, 223, 0.7)',
  anchor: '#bf8700',
  same: 'rgba(207, 34, 46, 0.7)',
  other: 'rgba(31, 111, 235, 0.7)',
};

export function fmt(x, digits) {
  if (!Number.isFinite(x)) return String(x);
  return x.toFixed(digits);
}

// chartDefaults makes every chart's text the body's size, so figures stay readable on a projector.
export function chartDefaults() {
  if (typeof Chart === 'undefined') return false;
  const px = parseFloat(getComputedStyle(document.body).fontSize) || 16;
  Chart.defaults.font.size = px;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = colors.fg;
  return true;
}

// burnInBand shades the chart area left of x = options.until() (the burn-in), labelled.
export const burnInBand = {
  id: 'burnin',
  beforeDatasetsDraw(chart, _args, opts) {
    const end = opts.until?.();
    if (!end) return;
    const { ctx, chartArea: a, scales } = chart;
    const px = Math.min(a.right, Math.max(a.left, scales.x.getPixelForValue(end)));
    if (px <= a.left) return;
    ctx.save();
    ctx.fillStyle = 'rgba(110, 118, 129, 0.18)';
    ctx.fillRect(a.left, a.top, px - a.left, a.bottom - a.top);
    if (opts.label && px - a.left > 60) {
      ctx.fillStyle = colors.muted;
      ctx.font = `${Chart.defaults.font.size}px ${Chart.defaults.font.family}`;
      ctx.textBaseline = 'top';
      ctx.fillText(opts.label, a.left + 6, a.top + 6);
    }
    ctx.restore();
  },
};

// drawThumb draws a base64 grayscale (or RGB) image of side size, scaled up without smoothing.
export function drawThumb(canvas, b64, size) {
  const raw = atob(b64);
  const c = raw.length / (size * size);
  const img = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    for (let k = 0; k < 3; k++) img.data[4 * i + k] = raw.charCodeAt(i * c + (c === 3 ? k : 0));
    img.data[4 * i + 3] = 255;
  }
  const tmp = new OffscreenCanvas(size, size);
  tmp.getContext('2d').putImageData(img, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}
