// The trainer page's entry point. It sets up the views, checks for WebGPU, starts the engine (the Go
// core in worker.js) and routes each event the engine sends to the views that show it. All the work
// happens in the worker; the page only draws and sends commands.
//
//   boot.js    (a classic script run first) starts the worker early
//   state.js   window.emc2, the page's state (the browser tests read it)   ui.js      shared helpers
//   engine.js  the worker: restart() and send()                              charts.js  Chart.js
//   views/     caps, data, config, run, metrics, embedding, chain, compare, exports, saved: one section each
import { app, params } from './state.js';
import { $, clearError, showError, showNotice } from './ui.js';
import { restart, send } from './engine.js';
import { loadChartJs, resetCharts } from './charts.js';
import { capabilities, showCaps, showKernels, showProfile } from './views/caps.js';
import { dataState, initData, showData, showDataStatus, showDecoding } from './views/data.js';
import { config, initConfig, markInvalid, setForm, showMethods } from './views/config.js';
import { clearProgress, initRun, runState, showMemory, showProgress } from './views/run.js';
import { addEval, addFloor, addProgress, initMetrics, showHistory } from './views/metrics.js';
import { clearEmbedding, initEmbedding, showEmbedding } from './views/embedding.js';
import { chainData, chainState, clearChain, initChain, showChain } from './views/chain.js';
import { exportFailed, exportsState, initExports, showCheckpoint, showFile, showStored } from './views/exports.js';
import { initSaved, resumeSaved, savedFailed, showSaved } from './views/saved.js';
import { compareState, initCompare, showCompareProgress, showCompareReport, showCompareSaved, showMethods as compareMethods } from './views/compare.js';

let autostarted = false; // ?autostart=1 trains once, as soon as the first data is in
let recovering = false; // a run was training when the GPU device was lost: resume it once the new engine has looked in storage
const maxLosses = 3; // lost devices a page recovers from before it stops trying

// setState: the engine's state changed; each view enables what fits it.
function setState(s) {
  app.state = s.state;
  runState(s);
  exportsState(s);
  dataState(s.state === 'running');
  chainState();
  compareState(s);
}

// showAlarm shows (or hides) the banner for an evaluation's collapse alarm.
function showAlarm(msg) {
  $('alarm').textContent = msg ? `Warning: ${msg}.` : '';
  $('alarm').hidden = !msg;
}

// clearRun empties the run's views: new data means the old run is gone.
function clearRun() {
  Object.assign(app, { run: null, progress: [], evals: [], floors: [], checkpoints: [], chain: null, embedding: null });
  resetCharts();
  showAlarm('');
  clearEmbedding();
  clearChain();
  clearProgress();
}

// onEvent routes one event from the engine ({type, data, bytes}; see worker.js) to the views.
function onEvent({ type, data, bytes }) {
  switch (type) {
    case 'booted':
      app.bootedMs = performance.now(); // the engine is compiled and running
      break;
    case 'error':
      showError(data.message);
      if (data.cmd === 'start' || data.cmd === 'compare') markInvalid(data.message);
      if (data.cmd === 'load' || data.cmd === 'load-files') showDataStatus();
      if (data.cmd === 'export') exportFailed();
      if (data.cmd === 'profile') showProfile(null);
      if (data.cmd === 'resume-saved' || data.cmd === 'restore') savedFailed();
      break;
    case 'methods':
      app.methods = data;
      showMethods(data);
      compareMethods(data);
      break;
    case 'status':
      // What the engine is doing while it trains, or before (compiling the GPU kernels after a load).
      if (app.state === 'running' || app.state === 'ready') $('run-status').textContent = `${data.message[0].toUpperCase()}${data.message.slice(1)}…`;
      break;
    case 'decode':
      showDecoding(data);
      break;
    case 'data':
      app.dataMs ??= performance.now();
      clearError();
      if (app.run) clearRun();
      showData(data, bytes);
      chainData(data);
      if (params.get('autostart') === '1' && !autostarted) {
        autostarted = true; // a shared link's run
        send({ cmd: 'start', config: config() });
      }
      break;
    case 'started':
      // A run starts, resumes or is restored: its history (empty for a new run) redraws the charts.
      app.run = data;
      app.checkpoints = [];
      showHistory(data.history);
      showAlarm(data.history.evals?.at(-1)?.alarm);
      markInvalid('');
      setForm(data.config);
      showMemory(data.gpu_bytes, data.wasm_bytes, data.data.bytes);
      showKernels(data.gpu_kernels);
      chainState();
      break;
    case 'state':
      if (data.message === 'Ready to train.') app.readyMs ??= performance.now();
      setState(data);
      break;
    case 'progress':
      app.progress.push(data);
      if (app.firstStepMs === null) app.firstStepMs = performance.now(); // since navigation start
      showProgress(data);
      addProgress(data);
      break;
    case 'eval':
      app.evals.push(data);
      addEval(data);
      showAlarm(data.alarm);
      break;
    case 'floor':
      addFloor(data);
      break;
    case 'profile':
      showProfile(data);
      break;
    case 'embedding':
      showEmbedding(data);
      break;
    case 'chain':
      showChain(data, bytes);
      break;
    case 'checkpoint':
      showCheckpoint(data);
      break;
    case 'stored':
      showStored(data);
      break;
    case 'saved':
      showSaved(data);
      if (recovering) resumeAfterLoss(data);
      break;
    case 'device-lost':
      deviceLost(data);
      break;
    case 'compare':
      showCompareProgress(data);
      break;
    case 'compare-report':
      showCompareReport(data);
      break;
    case 'compare-saved':
      showCompareSaved(data);
      break;
    case 'file':
      showFile(data, bytes);
      break;
  }
}

// deviceLost: the GPU device is gone (a driver reset, the GPU process crashed, destroy()), and with
// it the engine's run. A fresh engine starts; a run that was training resumes from its last
// checkpoint in this browser (a paused one is offered, as after a reload).
function deviceLost({ reason, message }) {
  app.deviceLost.push({ reason, message, step: app.progress.at(-1)?.step ?? 0 });
  const what = `The GPU device was lost (${reason || 'no reason given'}${message ? `: ${message}` : ''})`;
  if (app.deviceLost.length > maxLosses) {
    showError(`${what}, ${app.deviceLost.length} times in this page: the page stops restarting the engine. Reload the page to try again; your last checkpoint stays in this browser.`);
    setState({ state: 'empty' });
    return;
  }
  // The engine may already have reported the run's failed GPU work (state 'ready'): what counts is
  // that a run was under way, neither paused nor done.
  recovering = app.run !== null && !app.comparing && !['paused', 'done'].includes(app.state);
  const next = recovering ? 'resuming the run from its last checkpoint in this browser' : app.comparing ? 'the comparison can be continued from its finished runs' : 'nothing was lost';
  showNotice(`${what}. The engine restarted; ${next}.`);
  Object.assign(app, { data: null, saved: undefined, compareSaved: undefined, comparing: false });
  setState({ state: 'empty' });
  $('run-status').textContent = 'Restarting the engine after a lost GPU device…';
  boot('gpu');
}

// resumeAfterLoss resumes the run from the checkpoint the new engine found ('saved' event).
function resumeAfterLoss(saved) {
  recovering = false;
  if (saved && saved.step < saved.total) resumeSaved();
  else showNotice('No checkpoint of the run was stored before the device was lost: press Train to start it again.');
}

// boot starts the engine (the worker boot.js started, or a fresh one if one ran) on a backend ('gpu'
// or 'cpu'), asks for a saved run, and loads the built-in data unless the URL says data=none.
function boot(backend) {
  restart(onEvent);
  send({ cmd: 'init', backend, compat: params.get('compat') === '1' });
  send({ cmd: 'saved' });
  if (params.get('data') !== 'none') send({ cmd: 'load', default: true });
}

// chartsMissing tells the user that the page runs without charts, and why.
function chartsMissing() {
  showNotice('Charts are off: dist/chart.umd.js did not load (run `npm ci`, then `make web`). Training, the chain inspector and the exports work without them.');
  $('charts-off').hidden = false;
  for (const el of document.querySelectorAll('#charts .grid, #chain figure.wide')) el.hidden = true;
}

async function main() {
  // Chart.js loads while the page asks for an adapter; the worker has been starting since boot.js.
  const asked = capabilities();
  const chartsLoaded = await loadChartJs();
  if (!chartsLoaded) chartsMissing();
  initConfig();
  initData();
  initRun();
  initMetrics();
  initEmbedding();
  initChain();
  initExports();
  initSaved();
  initCompare();
  app.charts = chartsLoaded; // the charts exist now (or never will)
  setState({ state: 'empty' });
  const caps = await asked;
  showCaps(caps, () => boot('cpu'));
  if (caps.ok) boot('gpu');
}

main().catch((e) => showError(`The page failed to start: ${e.message}`));
