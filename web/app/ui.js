// Small helpers every view uses: element lookup, the error and notice areas, number and time
// formatting, drawing raw images into a canvas, and handing a file to the browser as a download.
import { app } from './state.js';

export const $ = (id) => document.getElementById(id);

// showError shows one message in the error area (replacing the last) and records it in app.errors.
export function showError(msg) {
  app.errors.push(msg);
  const p = document.createElement('p');
  p.textContent = msg;
  $('errors').replaceChildren(p);
}

export function clearError() {
  $('errors').replaceChildren();
}

// showNotice adds a lasting line under the run controls, for problems of the page itself (a
// missing file) that new data or a new run does not clear.
export function showNotice(msg) {
  const p = document.createElement('p');
  p.textContent = msg;
  $('notices').append(p);
}

export function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  const i = Math.min(u.length - 1, Math.floor(Math.log2(n) / 10));
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${u[i]}`;
}

// fmtTime writes seconds as 42s, 3m07s or 1h05m.
export function fmtTime(s) {
  if (!Number.isFinite(s)) return '—';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// drawImages paints n images (h×w×c bytes each) into a canvas, perRow to a row, cell pixels each.
export function drawImages(canvas, pix, n, h, w, c, cell, perRow) {
  const rows = Math.ceil(n / perRow);
  canvas.width = perRow * cell;
  canvas.height = rows * cell;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const img = new ImageData(w, h);
  const tmp = new OffscreenCanvas(w, h);
  const tctx = tmp.getContext('2d');
  for (let k = 0; k < n; k++) {
    const base = k * h * w * c;
    for (let p = 0; p < h * w; p++) {
      const r = pix[base + p * c];
      img.data[4 * p] = r;
      img.data[4 * p + 1] = c === 3 ? pix[base + p * c + 1] : r;
      img.data[4 * p + 2] = c === 3 ? pix[base + p * c + 2] : r;
      img.data[4 * p + 3] = 255;
    }
    tctx.putImageData(img, 0, 0);
    ctx.drawImage(tmp, (k % perRow) * cell, Math.floor(k / perRow) * cell, cell, cell);
  }
}

export function clearCanvas(id) {
  const c = $(id);
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
}

// download hands bytes to the browser as a file named name.
export function download(name, mime, bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
