// The page's first act, a classic script ahead of its modules: start the training worker, so that
// the engine's download and compile (about a second) and the built-in data's fetch overlap the
// loading of the page's modules, Chart.js and the WebGPU check. engine.js adopts this worker and
// replays what it said meanwhile.
'use strict';
(() => {
  const early = { worker: new Worker('worker.js'), messages: [], errors: [] };
  early.worker.onmessage = (e) => early.messages.push(e);
  early.worker.onerror = (e) => early.errors.push(e);
  window.emc2Early = early;
})();
