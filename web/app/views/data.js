// The data section: the built-in dataset, files or a folder picked or dropped (the worker decodes
// images), the description of what loaded, the files skipped and why, and a preview row.
import { app } from '../state.js';
import { $, clearError, drawImages, fmtBytes, plural, showError } from '../ui.js';
import { send } from '../engine.js';

export function initData() {
  $('data-default').addEventListener('click', () => {
    clearError();
    send({ cmd: 'load', default: true });
  });
  $('pick-files').addEventListener('change', (e) => {
    loadFiles([...e.target.files].map((f) => ({ path: f.name, file: f })));
    e.target.value = '';
  });
  $('pick-folder').addEventListener('change', (e) => {
    loadFiles([...e.target.files].map((f) => ({ path: f.webkitRelativePath || f.name, file: f })));
    e.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const out = [];
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
    if (entries.length) for (const en of entries) await walk(en, out);
    else for (const f of e.dataTransfer.files) out.push({ path: f.name, file: f });
    loadFiles(out);
  });
}

// loadFiles sends the user's files ({path, file}) to the worker, which decodes and loads them.
function loadFiles(list) {
  if (list.length === 0) return;
  clearError();
  send({ cmd: 'load-files', files: list, image_size: Number($('image-size').value) || 32 });
}

// walk lists the files below a dropped directory entry, with their paths.
async function walk(entry, out) {
  if (entry.isFile) {
    out.push({ path: entry.fullPath.replace(/^\//, ''), file: await new Promise((res, rej) => entry.file(res, rej)) });
    return;
  }
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) await walk(e, out);
  }
}

// dataState: no new data while a run is training.
export function dataState(running) {
  for (const id of ['data-default', 'pick-files', 'pick-folder']) $(id).disabled = running;
}

export function showDecoding(d) {
  $('data-status').textContent = `Decoding images: ${d.done} / ${d.total}…`;
}

// showDataStatus describes the loaded data (again, after a failed load replaced the text).
export function showDataStatus() {
  $('data-status').textContent = app.dataStatus ?? 'No data loaded.';
}

// showData describes newly loaded data ('data' event); pix holds its preview images.
export function showData(d, pix) {
  app.data = d;
  const cls = d.classes?.length ? `${d.classes.length} classes` : d.labeled ? 'labeled' : 'unlabeled';
  const held = d.held_out ? ` (${d.held_out} held out from the training files)` : '';
  app.dataStatus = `${d.name}: ${d.train} training / ${d.test} test images${held}, ${d.w}×${d.h}×${d.c}, ${cls}, ${fmtBytes(d.bytes)} of pixels; ${plural(d.skipped_count, 'file')} skipped.`;
  showDataStatus();
  if (!d.scale.fits) showError(`This data does not fit the GPU: ${d.scale.why}`);
  $('skipped').hidden = d.skipped_count === 0;
  $('skipped-summary').textContent = `${plural(d.skipped_count, 'file')} skipped${d.skipped_count > (d.skipped?.length ?? 0) ? ` (first ${d.skipped.length} listed)` : ''}`;
  $('skipped-list').replaceChildren(...(d.skipped ?? []).map((k) => {
    const li = document.createElement('li');
    li.textContent = `${k.path}: ${k.reason}`;
    return li;
  }));
  $('preview').hidden = false;
  drawImages($('preview'), pix, d.preview, d.h, d.w, d.c, 32, 24);
}
