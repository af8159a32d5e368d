// The training worker: it runs the Go core (dist/emc2.wasm, built from wasm/) on WebGPU off the page's
// thread, decodes the user's image files, and keeps the run's checkpoint in the origin-private file
// system (OPFS) so a reloaded page can resume it.
//
// The run itself, its history included, lives in Go (core/session, core/run); the worker only decodes
// files and keeps what Go hands it (checkpoints, finished comparison runs) in storage. It also fetches
// the built-in dataset, which is not inside the engine, and hands it to Go before any command.
//
// Page → worker messages: {cmd, ...} for the Go core (init, load, start, pause, resume, stop, watch,
// inspect, export, compare, restore with {bytes}), plus these the worker handles itself:
//   {cmd: 'load-files', files: [{path, file}], image_size}  decode images, then load them in Go
//   {cmd: 'saved'}                                          describe what is stored (→ 'saved', 'compare-saved')
//   {cmd: 'resume-saved'}                                   one 'restore' command: the checkpoint, its data, resume
//   {cmd: 'discard-saved'}                                  delete the saved run
// Worker → page messages: {type, data, bytes} for every Go event (see core/session), and
// {type: 'decode', done, total}, {type: 'saved', ...}, {type: 'compare-saved', ...}, {type: 'stored', ...},
// {type: 'device-lost', reason, message}.
'use strict';

importScripts('dist/wasm_exec.js', 'dist/pass.js');

const opfsDir = 'emc2-run';
let ready = false;
const waiting = [];
let lastFiles = null; // files of the last successful user-data load, kept to store with checkpoints
let pendingFiles = null; // files of a load in flight
let storedSpec = ''; // dataset spec of the data files in OPFS
let saving = Promise.resolve(); // storage writes, one after another

function post(type, data, bytes) {
  if (bytes) self.postMessage({ type, data, bytes }, [bytes.buffer]);
  else self.postMessage({ type, data });
}

// ---- the Go side --------------------------------------------------------------------------------
// Go is ready once the built-in data has come (or failed to): it goes first, as {cmd: 'default-data'}
// with its files, then whatever the page sent meanwhile.
self.emc2Ready = () => {
  defaultData.then((files) => {
    if (files) self.emc2Command(JSON.stringify({ cmd: 'default-data' }), null, files);
    ready = true;
    for (const m of waiting.splice(0)) deliver(m);
  });
};

// deliver hands a command to Go: the JSON, plus a checkpoint's bytes or a list of files.
function deliver(m) {
  if (!ready) {
    waiting.push(m);
    return;
  }
  const { bytes = null, files = null, ...rest } = m;
  self.emc2Command(JSON.stringify(rest), bytes, files);
}

self.emc2Event = (type, json, bytes) => {
  const data = JSON.parse(json);
  if (type === 'data') {
    if (data.spec.startsWith('upload:')) lastFiles = pendingFiles;
    pendingFiles = null;
  }
  if (type === 'progress' || type === 'started') {
    data.wasm_bytes = globalThis.wasm.instance.exports.mem.buffer.byteLength;
  }
  if (type === 'checkpoint' && bytes) {
    // Store a copy: the original goes to the page (for its status line and tests).
    const copy = bytes.slice();
    store(() => save(data, copy), 'the checkpoint', copy.length);
  }
  if (type === 'compare-run') store(() => keepCompareRun(data), 'the finished comparison run');
  post(type, data, bytes || null);
};

// A lost GPU device (a driver reset, the GPU process crashing) ends this engine: once the storage
// writes in flight are done, the page hears of it, starts a fresh worker and resumes from the last
// stored checkpoint.
self.emc2DeviceLost = (reason, message) => {
  saving.finally(() => post('device-lost', { reason, message }));
};

// ---- OPFS ---------------------------------------------------------------------------------------
async function dir() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(opfsDir, { create: true });
}

// write replaces a file atomically: a writable stream writes to a swap file that replaces the real
// one only on close, so a crash never leaves half a checkpoint. data is a string, bytes or a list of
// byte arrays. The swap file is first given its full size, which asks for the space at once: a full
// storage is then always QuotaExceededError, where a write that outgrows the quota fails in
// Chromium as whatever broke first (NotReadableError for a Blob, "Failed to write data to data pipe").
async function write(d, name, data) {
  const parts = (Array.isArray(data) ? data : [data]).map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : p));
  const h = await d.getFileHandle(name, { create: true });
  const w = await h.createWritable();
  try {
    await w.truncate(parts.reduce((n, p) => n + p.length, 0));
    for (const p of parts) await w.write(p);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
}

// store queues a storage write of about `bytes`; a failure (a full quota, say) is reported, never
// swallowed.
function store(write, what, bytes = 0) {
  saving = saving.then(write).catch(async (e) => {
    const quota = (await storageFull(e, bytes)) ? ' (the browser storage for this site is full: free some space or discard the saved run)' : '';
    post('error', { cmd: 'storage', message: `saving ${what} in browser storage failed: ${e.message}${quota}` });
  });
}

// storageFull tells whether a failed write failed for want of space: Chromium names it
// QuotaExceededError; when the disk itself is full the estimate tells.
async function storageFull(e, bytes) {
  if (e.name === 'QuotaExceededError') return true;
  try {
    const { usage, quota } = await navigator.storage.estimate();
    return quota - usage < bytes + (1 << 20);
  } catch {
    return false;
  }
}

async function read(d, name) {
  const h = await d.getFileHandle(name);
  return h.getFile();
}

// packFiles stores a list of {path, bytes} as one file's parts plus an index.
function packFiles(files) {
  const index = files.map((f) => ({ path: f.path, size: f.bytes.length }));
  return { index, parts: files.map((f) => f.bytes) };
}

async function unpackFiles(index, file) {
  const buf = new Uint8Array(await file.arrayBuffer());
  let off = 0;
  return index.map((e) => {
    const bytes = buf.subarray(off, off + e.size);
    off += e.size;
    return { path: e.path, bytes };
  });
}

async function save(info, bytes) {
  const d = await dir();
  if (info.data !== storedSpec) {
    if (info.data.startsWith('upload:')) {
      if (!lastFiles) throw new Error('the uploaded data is no longer in memory');
      const { index, parts } = packFiles(lastFiles.files);
      await write(d, 'data.bin', parts);
      await write(d, 'data.json', JSON.stringify({ spec: info.data, image_size: lastFiles.image_size, index }));
    } else {
      await d.removeEntry('data.bin').catch(() => {});
      await d.removeEntry('data.json').catch(() => {});
    }
    storedSpec = info.data;
  }
  await write(d, 'checkpoint.emc2ckpt', bytes);
  // The description is written last; the checkpoint itself holds the run's config and history.
  await write(d, 'run.json', JSON.stringify({ ...info, saved_at: Date.now() }));
  post('stored', { step: info.step, total: info.total, bytes: bytes.length });
}

// The comparison in progress: its plan and finished runs, so a reloaded page continues it.
async function startCompareStore(plan) {
  const d = await dir();
  await write(d, 'compare.json', JSON.stringify({ plan, done: [] }));
}

async function keepCompareRun(result) {
  const d = await dir();
  const saved = JSON.parse(await (await read(d, 'compare.json')).text());
  saved.done.push(result);
  await write(d, 'compare.json', JSON.stringify(saved));
  post('compare-saved', saved); // kept: a reload from here on continues after this run
}

async function savedCompare() {
  try {
    return JSON.parse(await (await read(await dir(), 'compare.json')).text());
  } catch {
    return null;
  }
}

async function savedRun() {
  try {
    const d = await dir();
    const meta = JSON.parse(await (await read(d, 'run.json')).text());
    await read(d, 'checkpoint.emc2ckpt');
    return meta;
  } catch {
    return null;
  }
}

// resumeSaved hands Go one command: restore this checkpoint onto its data (the built-in set, or the
// stored upload) and train on.
async function resumeSaved() {
  const meta = await savedRun();
  if (!meta) throw new Error('no saved run in this browser');
  const d = await dir();
  const bytes = new Uint8Array(await (await read(d, 'checkpoint.emc2ckpt')).arrayBuffer());
  storedSpec = meta.data;
  if (meta.data === 'default') {
    deliver({ cmd: 'restore', resume: true, default: true, bytes });
    return;
  }
  const dj = JSON.parse(await (await read(d, 'data.json')).text());
  const files = await unpackFiles(dj.index, await read(d, 'data.bin'));
  pendingFiles = { files, image_size: dj.image_size };
  deliver({ cmd: 'restore', resume: true, image_size: dj.image_size, bytes, files });
}

// ---- decoding the user's files -------------------------------------------------------------------
const imageMagic = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x42, 0x4d], // BMP
];

async function isImage(file) {
  const h = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  if (h.length >= 12 && String.fromCharCode(...h.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...h.subarray(8, 12)) === 'WEBP') return true;
  return imageMagic.some((m) => m.every((b, i) => h[i] === b));
}

// decode turns an image file into size×size RGBA (center crop, then the browser's high-quality
// resize), wrapped in the raw format core/data reads (data.RawMagic). Files the browser cannot
// decode pass through unchanged, so the Go reader names the reason they are skipped.
async function decode(file, size) {
  if (!(await isImage(file))) return new Uint8Array(await file.arrayBuffer());
  let bmp;
  try {
    const full = await createImageBitmap(file);
    const s = Math.min(full.width, full.height);
    const sx = Math.floor((full.width - s) / 2);
    const sy = Math.floor((full.height - s) / 2);
    bmp = await createImageBitmap(full, sx, sy, s, s, { resizeWidth: size, resizeHeight: size, resizeQuality: 'high' });
    full.close();
  } catch {
    return new Uint8Array(await file.arrayBuffer());
  }
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const out = new Uint8Array(16 + rgba.length);
  out.set([..."EMC2RGBA"].map((c) => c.charCodeAt(0)), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, size, true);
  dv.setUint32(12, size, true);
  out.set(rgba, 16);
  return out;
}

async function loadFiles(list, size) {
  const files = new Array(list.length);
  let done = 0;
  let next = 0;
  const work = async () => {
    while (next < list.length) {
      const i = next++;
      files[i] = { path: list[i].path, bytes: await decode(list[i].file, size) };
      if (++done % 50 === 0 || done === list.length) post('decode', { done, total: list.length });
    }
  };
  await Promise.all([work(), work(), work(), work()]);
  pendingFiles = { files, image_size: size };
  deliver({ cmd: 'load', image_size: size, files });
}

// ---- messages from the page ---------------------------------------------------------------------
self.onmessage = (e) => {
  const m = e.data;
  const failed = (err) => post('error', { cmd: m.cmd, message: err.message ?? String(err) });
  switch (m.cmd) {
    case 'load-files':
      loadFiles(m.files, m.image_size || 32).catch(failed);
      break;
    case 'saved':
      savedRun().then((meta) => post('saved', meta)).catch(failed);
      savedCompare().then((c) => post('compare-saved', c)).catch(failed);
      break;
    case 'resume-saved':
      resumeSaved().catch(failed);
      break;
    case 'discard-saved':
      dir()
        .then((d) => Promise.all(['run.json', 'checkpoint.emc2ckpt', 'data.bin', 'data.json'].map((n) => d.removeEntry(n).catch(() => {}))))
        .then(() => {
          storedSpec = '';
          post('saved', null);
        })
        .catch(failed);
      break;
    case 'compare':
      if (!m.done || m.done.length === 0) store(() => startCompareStore(m.plan), 'the comparison plan');
      deliver(m);
      break;
    default:
      if (m.cmd === 'init' && m.compat) self.emc2Compat = true; // compatibility-mode adapter (tests)
      deliver(m);
  }
};

// ---- boot ---------------------------------------------------------------------------------------
// The built-in dataset is not inside the engine (it is built with -tags fetchdata): it is fetched
// from the server, beside the page, at the same time as the engine, through the browser's HTTP cache.
// If it fails, it is not handed over, and loading the built-in data says so (core/data).
const defaultDataNames = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'LICENSE'];
// The browser inflates the .gz files (natively, as they arrive; Go's inflate in WebAssembly took
// 0.3 s of the engine's start), and Go reads them by their plain names.
const defaultData = Promise.all(
  defaultDataNames.map(async (name) => {
    const r = await fetch(`data/default/${name}`);
    if (!r.ok) throw new Error(`data/default/${name}: ${r.status} ${r.statusText}`);
    if (name.endsWith('.gz') && typeof DecompressionStream === 'function') {
      const plain = new Response(r.body.pipeThrough(new DecompressionStream('gzip')));
      return { path: name.slice(0, -3), bytes: new Uint8Array(await plain.arrayBuffer()) };
    }
    return { path: name, bytes: new Uint8Array(await r.arrayBuffer()) };
  }),
).catch((e) => {
  console.warn(`the built-in data could not be fetched: ${e.message}`);
  return null;
});

const go = new Go();
WebAssembly.instantiateStreaming(fetch('dist/emc2.wasm'), go.importObject)
  .then((result) => {
    globalThis.wasm = result; // the WebGPU binding reads the wasm memory through it
    post('booted', { wasm_bytes: result.instance.exports.mem.buffer.byteLength });
    return go.run(result.instance);
  })
  .then(() => post('error', { cmd: 'engine', message: 'the engine stopped' }))
  .catch((e) => post('error', { cmd: 'engine', message: `the engine failed to start: ${e.message}` }));
