// The page's shared state. window.emc2 is what the browser tests read (web/test/*.mjs): keep its
// fields' names and meanings stable. Every view module imports `app` from here and updates it.

// The page's address: the run's settings, plus test switches (compat=1, data=none, autostart=1).
export const params = new URLSearchParams(location.search);

export const app = (window.emc2 = {
  caps: null, // the WebGPU capability report (views/caps.js)
  data: null, // the loaded dataset, as the engine described it
  run: null, // the current run (its 'started' event)
  state: 'empty', // the engine's state: empty, ready, running, paused, done
  progress: [], // 'progress' events of the run
  evals: [], // 'eval' events of the run
  floors: [], // 'floor' events (raw-pixel and random-init baselines)
  checkpoints: [], // 'checkpoint' events
  stored: null, // the last checkpoint saved in this browser (OPFS)
  errors: [], // every error message shown, oldest first
  files: [], // files the engine exported (and the page downloaded)
  chain: null, // the last chain report of the chain inspector
  embedding: null, // the last PCA embedding
  dataMs: null, // navigation → the first data shown
  readyMs: null, // navigation → the engine warm after that data ("Ready to train.": GPU kernels compiled)
  firstStepMs: null, // navigation → first progress event
  saved: undefined, // the saved run in OPFS (null: none), once the worker has looked
  methods: null, // the engine's method table ('methods' event)
  compare: null, // Compare mode: {report, progress} of the comparison shown
  compareSaved: undefined, // a comparison kept in OPFS ({plan, done}; null: none), once the worker has looked
  comparing: false, // a comparison is running
  deviceLost: [], // each lost GPU device: {reason, message, step}

  // Readiness signals for tests and tools; the page itself does not read them.
  charts: null, // true once Chart.js is loaded and the charts exist, false when it failed to load
  events: {}, // how many events of each type came from the worker, e.g. events.file
  exporting: null, // the export kind asked for ('csv', …) until its file (or error) arrives
});
