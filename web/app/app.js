// The trainer page: capability report, data, configuration (mirrored in the URL), controls, live
// charts (Chart.js), the embedding view, the chain inspector, checkpoints and exports. All the work
// happens in worker.js (the Go core on WebGPU); this file only draws and sends commands.
//
// window.emc2 is the page's state, read by the browser tests (web/test/trainer_test.mjs).
'use strict';

const $ = (id) => document.getElementById(id);
const q = new URLSearchParams(location.search);
const app = (window.emc2 = {
  caps: null,
  data: null,
  run: null,
  state: 'empty',
  progress: [],
  evals: [],
  floors: [],
  checkpoints: [],
  stored: null,
  errors: [],
  files: [],
  chain: null,
  embedding: null,
  firstStepMs: null, // navigation → first progress event
  saved: undefined, // the saved run in OPFS (null: none), once the worker has looked
});
let worker = null;

// ---- helpers ------------------------------------------------------------------------------------
function showError(msg) {
  app.errors.push(msg);
  const p = document.createElement('p');
  p.textContent = msg;
  $('errors').replaceChildren(p);
}

function clearError() {
  $('errors').replaceChildren();
}

function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  const i = Math.min(u.length - 1, Math.floor(Math.log2(n) / 10));
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${u[i]}`;
}

function fmtTime(s) {
  if (!Number.isFinite(s)) return '—';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

// drawImages paints n images (h×w×c bytes each) into a canvas row, scaled to cell pixels.
function drawImages(canvas, pix, n, h, w, c, cell, perRow) {
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

function download(name, mime, bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- configuration, mirrored in the URL ---------------------------------------------------------
const form = $('config-form');
const numeric = new Set(['batch', 'epochs', 'beta', 'lr', 'mcmc_burn_in', 'sogclr_gamma', 'seed', 'train_subset', 'eval_subset']);
// Settings only the URL carries (the tests use them for short, cheap runs).
const hidden = { log_every: 10, global_size: 256, eval_every: 1, test_subset: 0 };

for (const el of form.elements) {
  if (q.has(el.name)) el.value = q.get(el.name);
}
for (const k of Object.keys(hidden)) if (q.has(k)) hidden[k] = Number(q.get(k));

function config() {
  const c = {};
  for (const el of form.elements) c[el.name] = numeric.has(el.name) ? Number(el.value) : el.value;
  return { ...c, ...hidden };
}

function syncURL() {
  const u = new URLSearchParams(q);
  for (const el of form.elements) u.set(el.name, el.value);
  history.replaceState(null, '', `?${u}`);
}
form.addEventListener('input', syncURL);
syncURL();

function setForm(c) {
  for (const el of form.elements) if (c[el.name] !== undefined) el.value = c[el.name];
  syncURL();
}

// ---- charts -------------------------------------------------------------------------------------
const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const charts = {};

function lineChart(id, series, { y2 = false, yLabel = '' } = {}) {
  const datasets = series.map((s, i) => ({
    label: s.label,
    data: [],
    borderColor: s.color ?? palette[i],
    backgroundColor: s.color ?? palette[i],
    borderDash: s.dash ? [6, 4] : [],
    pointRadius: s.points ?? 2,
    borderWidth: 1.5,
    yAxisID: s.y2 ? 'y2' : 'y',
  }));
  const scales = {
    x: { type: 'linear', title: { display: true, text: 'step' } },
    y: { title: { display: Boolean(yLabel), text: yLabel } },
  };
  if (y2) scales.y2 = { position: 'right', grid: { drawOnChartArea: false } };
  charts[id] = new Chart($(id), {
    type: 'line',
    data: { datasets },
    options: { animation: false, parsing: false, normalized: true, maintainAspectRatio: false, scales, plugins: { legend: { labels: { boxWidth: 12 } } } },
  });
  return charts[id];
}

function initCharts() {
  lineChart('chart-loss', [{ label: 'loss', points: 0 }]);
  lineChart('chart-global', [{ label: 'global loss' }]);
  lineChart('chart-acc', [
    { label: 'probe' }, { label: '1-NN' }, { label: '10-NN' },
    { label: 'probe, raw pixels', dash: true, points: 0, color: palette[0] },
    { label: '10-NN, raw pixels', dash: true, points: 0, color: palette[2] },
  ]);
  lineChart('chart-accept', [{ label: 'acceptance', points: 0 }, { label: 'stale share', points: 0 }]);
  lineChart('chart-health', [{ label: 'alignment' }, { label: 'uniformity' }, { label: 'effective rank', y2: true }], { y2: true });
  charts['chart-embed'] = new Chart($('chart-embed'), {
    type: 'scatter',
    data: { datasets: [] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { labels: { boxWidth: 8 } } }, scales: { x: { title: { display: true, text: 'PC 1' } }, y: { title: { display: true, text: 'PC 2' } } } },
  });
  charts['chart-chain'] = new Chart($('chart-chain'), {
    type: 'line',
    data: { datasets: [
      { label: 'similarity now', data: [], borderColor: palette[0], backgroundColor: palette[0], pointRadius: 0, borderWidth: 1.5 },
      { label: 'state changed', data: [], borderColor: palette[3], backgroundColor: palette[3], showLine: false, pointRadius: 4, pointStyle: 'triangle' },
    ] },
    options: { animation: false, parsing: false, maintainAspectRatio: false, scales: { x: { type: 'linear', title: { display: true, text: 'step' } } } },
  });
}

function resetCharts() {
  for (const c of Object.values(charts)) {
    for (const d of c.data.datasets) d.data = [];
    c.update();
  }
}

// Redraws are batched to one per animation frame however fast the events come.
const dirty = new Set();
function touch(id) {
  if (dirty.size === 0) requestAnimationFrame(() => {
    for (const d of dirty) charts[d].update('none');
    dirty.clear();
  });
  dirty.add(id);
}

function addProgress(p) {
  const ds = charts['chart-loss'].data.datasets;
  ds[0].data.push({ x: p.step, y: p.loss });
  touch('chart-loss');
  if ((app.run?.config ?? app.savedConfig)?.method === 'emc2') {
    const a = charts['chart-accept'].data.datasets;
    a[0].data.push({ x: p.step, y: p.accept_rate });
    a[1].data.push({ x: p.step, y: p.stale_share });
    touch('chart-accept');
  }
}

function addEval(r) {
  if (r.global_loss) {
    charts['chart-global'].data.datasets[0].data.push({ x: r.step, y: r.global_loss });
    touch('chart-global');
  }
  if (r.labeled) {
    const a = charts['chart-acc'].data.datasets;
    a[0].data.push({ x: r.step, y: r.probe_test_acc });
    a[1].data.push({ x: r.step, y: r.knn1_acc });
    a[2].data.push({ x: r.step, y: r.knn10_acc });
    extendFloors();
    touch('chart-acc');
  }
  const h = charts['chart-health'].data.datasets;
  h[0].data.push({ x: r.step, y: r.alignment });
  h[1].data.push({ x: r.step, y: r.uniformity });
  h[2].data.push({ x: r.step, y: r.eff_rank });
  touch('chart-health');
}

// The raw-pixel floor is a horizontal line across the steps evaluated so far.
function extendFloors() {
  const f = app.floors.find((x) => x.name === 'raw pixels');
  const a = charts['chart-acc'].data.datasets;
  const steps = a[0].data.map((p) => p.x);
  if (!f || steps.length === 0) return;
  const span = [Math.min(...steps), Math.max(...steps, app.run?.total_steps ?? 0)];
  a[3].data = span.map((x) => ({ x, y: f.probe_test_acc }));
  a[4].data = span.map((x) => ({ x, y: f.knn10_acc }));
}

function showEmbedding(e) {
  app.embedding = e;
  const classes = app.data?.classes ?? [];
  const groups = new Map();
  e.points.forEach(([x, y], i) => {
    const l = e.labels ? e.labels[i] : -1;
    if (!groups.has(l)) groups.set(l, []);
    groups.get(l).push({ x, y });
  });
  charts['chart-embed'].data.datasets = [...groups.keys()].sort((a, b) => a - b).map((l) => ({
    label: l < 0 ? 'unlabeled' : classes[l] ?? `class ${l}`,
    data: groups.get(l),
    backgroundColor: l < 0 ? '#888' : palette[l % palette.length],
    pointRadius: 2,
  }));
  $('embed-caption').textContent = `Embedding of ${e.points.length} held-out images at step ${e.step} (PCA: ${(100 * e.explained[0]).toFixed(0)} % + ${(100 * e.explained[1]).toFixed(0)} % of the variance)`;
  touch('chart-embed');
}

// ---- capability report --------------------------------------------------------------------------
async function capabilities() {
  const compat = q.get('compat') === '1';
  if (!navigator.gpu) return { ok: false, why: 'navigator.gpu is missing.' };
  const opts = { powerPreference: 'high-performance' };
  if (compat) opts.featureLevel = 'compatibility';
  const a = await navigator.gpu.requestAdapter(opts);
  if (!a) return { ok: false, why: 'the browser has WebGPU but found no usable adapter (GPU blocklisted or drivers missing).' };
  const i = a.info ?? {};
  const lim = a.limits;
  return {
    ok: true, compat,
    adapter: [i.vendor, i.architecture, i.description].filter(Boolean).join(' · ') || 'unnamed adapter',
    fallback: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter),
    features: [...a.features].sort(),
    limits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    },
  };
}

function showCaps(c) {
  app.caps = c;
  if (!c.ok) {
    $('caps-status').textContent = 'WebGPU: not available.';
    $('caps-why').textContent = `(${c.why})`;
    $('caps-missing').hidden = false;
    return;
  }
  $('caps-status').textContent = `WebGPU adapter: ${c.adapter}${c.fallback ? ' (software fallback: slow)' : ''}${c.compat ? ' (compatibility mode)' : ''}`;
  const dl = $('caps-list');
  const rows = [
    ['Max storage binding', fmtBytes(c.limits.maxStorageBufferBindingSize)],
    ['Max buffer', fmtBytes(c.limits.maxBufferSize)],
    ['Invocations per workgroup', c.limits.maxComputeInvocationsPerWorkgroup],
    ['Workgroup memory', fmtBytes(c.limits.maxComputeWorkgroupStorageSize)],
    ['Storage buffers per stage', c.limits.maxStorageBuffersPerShaderStage],
    ['Features', c.features.join(', ') || 'none'],
  ];
  dl.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
  dl.hidden = false;
}

// ---- state and buttons --------------------------------------------------------------------------
function setState(s) {
  app.state = s.state;
  const running = s.state === 'running';
  const hasRun = s.state === 'paused' || s.state === 'done';
  $('train').disabled = running || !app.data;
  $('pause').disabled = !running;
  $('stop').disabled = !(running || s.state === 'paused');
  $('resume').disabled = s.state !== 'paused';
  for (const id of ['export-checkpoint', 'export-safetensors', 'export-csv']) $(id).disabled = !hasRun;
  for (const id of ['data-default', 'pick-files', 'pick-folder', 'upload-checkpoint']) $(id).disabled = running;
  $('anchor-watch').disabled = !(app.run && app.run.config.method === 'emc2');
  $('anchor-random').disabled = $('anchor-watch').disabled;
  if (s.message) $('run-status').textContent = s.message;
}

// showDataStatus describes the loaded data (again, after a failed load replaced the text).
function showDataStatus() {
  $('data-status').textContent = app.dataStatus ?? 'No data loaded.';
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// clearRun empties the run's views: new data means the old run is gone.
function clearRun() {
  Object.assign(app, { run: null, progress: [], evals: [], floors: [], checkpoints: [], chain: null, embedding: null });
  resetCharts();
  charts['chart-embed'].data.datasets = [];
  charts['chart-embed'].update();
  for (const id of ['chain-anchor', 'chain-neg']) $(id).getContext('2d').clearRect(0, 0, $(id).width, $(id).height);
  for (const id of ['chain-text', 'chain-anchor-cap', 'chain-neg-cap']) $(id).textContent = '';
  $('progress').value = 0;
  $('run-status').textContent = 'Ready to train.';
  $('embed-caption').textContent = 'Embedding of held-out images (PCA)';
}

function showData(d, pix) {
  if (app.run) clearRun();
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
  $('anchor').max = d.train - 1;
}

function showProgress(p) {
  app.progress.push(p);
  if (app.firstStepMs === null) {
    app.firstStepMs = performance.now(); // since navigation start (performance.timeOrigin)
  }
  $('progress').max = p.total;
  $('progress').value = p.step;
  $('run-status').textContent = `step ${p.step} / ${p.total} · epoch ${p.epoch.toFixed(2)} · loss ${p.loss.toFixed(4)} · ${p.images_per_sec.toFixed(0)} images/s · ETA ${fmtTime(p.eta_s)}`;
  $('memory').textContent = `memory: GPU buffers ${fmtBytes(app.run?.gpu_bytes)} · engine (wasm) ${fmtBytes(p.wasm_bytes)} · data ${fmtBytes(app.data?.bytes)}`;
  addProgress(p);
}

function showChain(rep, pix) {
  app.chain = rep;
  if (rep.error) {
    $('chain-text').textContent = rep.error;
    return;
  }
  const d = app.data;
  const n = d.h * d.w * d.c;
  const name = (l) => (l >= 0 && d.classes?.[l]) || (l >= 0 ? `class ${l}` : '');
  drawImages($('chain-anchor'), pix.subarray(0, n), 1, d.h, d.w, d.c, 96, 1);
  $('chain-anchor-cap').textContent = `anchor #${rep.anchor} ${name(rep.anchor_label)}`;
  const last = rep.samples[rep.samples.length - 1];
  if (last && last.state >= 0) {
    drawImages($('chain-neg'), pix.subarray(n, 2 * n), 1, d.h, d.w, d.c, 96, 1);
    $('chain-neg-cap').textContent = `negative #${last.state} ${name(rep.state_label)}`;
    $('chain-text').textContent = `similarity now ${last.similarity.toFixed(3)} · when scored ${last.stored.toFixed(3)} · state changed at ${rep.moves} of ${rep.samples.length - 1} looks`;
  } else {
    $('chain-neg').getContext('2d').clearRect(0, 0, 96, 96);
    $('chain-neg-cap').textContent = 'no state yet';
    $('chain-text').textContent = 'The chain has not accepted a state yet (its image has not been in a batch).';
  }
  const ds = charts['chart-chain'].data.datasets;
  ds[0].data = rep.samples.filter((s) => s.state >= 0).map((s) => ({ x: s.step, y: s.similarity }));
  ds[1].data = rep.samples.filter((s) => s.moved).map((s) => ({ x: s.step, y: s.similarity }));
  touch('chart-chain');
}

// ---- worker -------------------------------------------------------------------------------------
function send(m, transfer) {
  worker.postMessage(m, transfer ?? []);
}

function onEvent({ type, data, bytes }) {
  switch (type) {
    case 'booted':
      app.bootedMs = performance.now(); // the engine is compiled and running
      break;
    case 'error':
      showError(data.message);
      if (data.cmd === 'load' || data.cmd === 'load-files') showDataStatus();
      break;
    case 'decode':
      $('data-status').textContent = `Decoding images: ${data.done} / ${data.total}…`;
      break;
    case 'data':
      clearError();
      showData(data, bytes);
      if (q.get('autostart') === '1' && !app.autostarted) {
        app.autostarted = true; // ?autostart=1 trains as soon as the data is in (a shared link's run)
        send({ cmd: 'start', config: config() });
      }
      break;
    case 'started':
      app.run = data;
      if (data.step === 0) {
        Object.assign(app, { progress: [], evals: [], floors: [], checkpoints: [] });
        resetCharts();
      }
      setForm(data.config);
      $('memory').textContent = `memory: GPU buffers ${fmtBytes(data.gpu_bytes)} · engine (wasm) ${fmtBytes(data.wasm_bytes)} · data ${fmtBytes(data.data.bytes)}`;
      break;
    case 'history':
      app.savedConfig = data.config; // the run's config, until the restore's 'started' event
      resetCharts();
      Object.assign(app, { progress: [], evals: [], floors: data.floors ?? [] });
      for (const p of data.progress) {
        app.progress.push(p);
        addProgress(p);
      }
      for (const r of data.evals) {
        app.evals.push(r);
        addEval(r);
      }
      break;
    case 'state':
      setState(data);
      break;
    case 'progress':
      showProgress(data);
      break;
    case 'eval':
      app.evals.push(data);
      addEval(data);
      break;
    case 'floor':
      app.floors.push(data);
      extendFloors();
      touch('chart-acc');
      break;
    case 'embedding':
      showEmbedding(data);
      break;
    case 'chain':
      showChain(data, bytes);
      break;
    case 'checkpoint':
      app.checkpoints.push(data);
      if (data.error) showError(`checkpoint at step ${data.step} failed: ${data.error}`);
      break;
    case 'stored':
      app.stored = data;
      $('stored').textContent = `Checkpoint saved in this browser at step ${data.step} of ${data.total} (${fmtBytes(data.bytes)}); a reload offers to resume it.`;
      break;
    case 'saved':
      app.saved = data;
      if (data) {
        const c = data.config ?? {};
        $('saved-text').textContent = `A run saved in this browser can be resumed: ${c.method ?? '?'}, batch ${c.batch ?? '?'}, step ${data.step} of ${data.total}, on ${data.data === 'default' ? 'the built-in data' : data.data.replace(/^upload:/, '').replace(/#.*/, '')}, saved ${new Date(data.saved_at).toLocaleString()}.`;
      }
      $('saved').hidden = !data;
      break;
    case 'file':
      app.files.push({ ...data, size: bytes.length });
      download(data.name, data.mime, bytes);
      break;
  }
}

// ---- files from the user ------------------------------------------------------------------------
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

function wire() {
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
  $('train').addEventListener('click', () => {
    clearError();
    send({ cmd: 'start', config: config() });
  });
  $('pause').addEventListener('click', () => send({ cmd: 'pause' }));
  $('resume').addEventListener('click', () => send({ cmd: 'resume' }));
  $('stop').addEventListener('click', () => send({ cmd: 'stop' }));
  $('anchor-watch').addEventListener('click', () => send({ cmd: 'watch', anchor: Number($('anchor').value) }));
  $('anchor-random').addEventListener('click', () => {
    $('anchor').value = Math.floor(Math.random() * (app.run?.train_images ?? 1));
    send({ cmd: 'watch', anchor: Number($('anchor').value) });
  });
  $('export-checkpoint').addEventListener('click', () => send({ cmd: 'export', kind: 'checkpoint' }));
  $('export-safetensors').addEventListener('click', () => send({ cmd: 'export', kind: 'safetensors' }));
  $('export-csv').addEventListener('click', () => send({ cmd: 'export', kind: 'csv' }));
  $('upload-checkpoint').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (!f) return;
    if (!app.data) {
      showError('Load the data the checkpoint was trained on first, then upload it.');
      return;
    }
    const bytes = new Uint8Array(await f.arrayBuffer());
    send({ cmd: 'restore', bytes }, [bytes.buffer]);
  });
  $('saved-resume').addEventListener('click', () => {
    $('saved').hidden = true;
    app.resumeAfterRestore = true;
    send({ cmd: 'resume-saved' });
  });
  $('saved-discard').addEventListener('click', () => send({ cmd: 'discard-saved' }));
  $('use-cpu').addEventListener('click', () => {
    $('caps-missing').hidden = true;
    $('caps-status').textContent = 'Training on the CPU (WebAssembly, one thread): expect about 10× slower than a GPU.';
    boot('cpu');
  });
}

// ---- boot ---------------------------------------------------------------------------------------
function boot(backend) {
  worker = new Worker('worker.js');
  worker.onmessage = (e) => {
    onEvent(e.data);
    // "Resume it" loads the saved run's data, restores the checkpoint, then continues the run (one
    // saved when it had finished restores as done and stays so).
    if (app.resumeAfterRestore && e.data.type === 'state' && ['paused', 'done'].includes(e.data.data.state)) {
      app.resumeAfterRestore = false;
      if (e.data.data.state === 'paused') send({ cmd: 'resume' });
    }
    if (e.data.type === 'error' && e.data.data.cmd === 'resume-saved') app.resumeAfterRestore = false;
  };
  worker.onerror = (e) => showError(`The training worker failed: ${e.message}`);
  send({ cmd: 'init', backend, compat: q.get('compat') === '1' });
  send({ cmd: 'saved' });
  if (q.get('data') !== 'none') send({ cmd: 'load', default: true });
}

async function main() {
  if (typeof Chart !== 'function') {
    showError('dist/chart.umd.js did not load: build the page with `make web`.');
    return;
  }
  initCharts();
  wire();
  setState({ state: 'empty' });
  let caps;
  try {
    caps = await capabilities();
  } catch (e) {
    caps = { ok: false, why: e.message };
  }
  showCaps(caps);
  if (caps.ok) boot('gpu');
}

main();
