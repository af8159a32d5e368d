// The link to the training engine: worker.js runs the Go core (WebAssembly on WebGPU) off the page's
// thread. Views send commands with send(); every event the worker posts goes to the one listener
// main.js gives restart() or, for an engine started before the views exist, listen(). The messages
// are listed at the top of worker.js.
import { app } from './state.js';
import { showError } from './ui.js';

let worker = null;
let listener = null; // null while the page is not ready for events: they wait in `held`
let held = [];

function deliver(d) {
  try {
    listener(d);
  } finally {
    app.events[d.type] = (app.events[d.type] ?? 0) + 1; // counted once handled
  }
}

// start launches the worker; onEvent gets each {type, data, bytes} it posts (or, when it is null,
// they wait for listen()).
function start(onEvent) {
  listener = onEvent;
  held = [];
  worker = new Worker('worker.js');
  worker.onmessage = (e) => (listener ? deliver(e.data) : held.push(e.data));
  worker.onerror = (e) => showError(`The training worker failed: ${e.message}`);
}

// restart ends the worker (and the engine in it, with its GPU device) and launches a fresh one.
export function restart(onEvent) {
  worker?.terminate();
  start(onEvent);
}

// listen hands the events that waited, then every later one, to onEvent.
export function listen(onEvent) {
  listener = onEvent;
  for (const d of held.splice(0)) deliver(d);
}

// stop ends the worker and drops the events that waited.
export function stop() {
  worker?.terminate();
  worker = null;
  held = [];
}

// send posts a command; transfer lists buffers to move rather than copy.
export function send(m, transfer) {
  worker.postMessage(m, transfer ?? []);
}
