// The link to the training engine: worker.js runs the Go core (WebAssembly on WebGPU) off the page's
// thread. Views send commands with send(); every event the worker posts goes to the one listener
// main.js gives start(). The messages are listed at the top of worker.js.
import { app } from './state.js';
import { showError } from './ui.js';

let worker = null;

// start launches the worker, or adopts the one boot.js started with what it said so far; onEvent
// gets each {type, data, bytes} it posts.
function start(onEvent) {
  const early = window.emc2Early;
  window.emc2Early = null;
  worker = early?.worker ?? new Worker('worker.js');
  worker.onmessage = (e) => {
    try {
      onEvent(e.data);
    } finally {
      app.events[e.data.type] = (app.events[e.data.type] ?? 0) + 1; // counted once handled
    }
  };
  worker.onerror = (e) => showError(`The training worker failed: ${e.message}`);
  for (const e of early?.messages ?? []) worker.onmessage(e);
  for (const e of early?.errors ?? []) worker.onerror(e);
}

// restart ends the worker (and the engine in it, with its GPU device) and launches a fresh one; the
// first call adopts the worker boot.js started.
export function restart(onEvent) {
  worker?.terminate();
  start(onEvent);
}

// send posts a command; transfer lists buffers to move rather than copy.
export function send(m, transfer) {
  worker.postMessage(m, transfer ?? []);
}
