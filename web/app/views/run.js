// The run controls and what they report: Train, Pause, Resume, Stop, the progress bar, the status
// line (step, loss, speed, ETA) and the memory line (GPU buffers, engine, data).
import { app } from '../state.js';
import { $, clearError, fmtBytes, fmtTime } from '../ui.js';
import { send } from '../engine.js';
import { config } from './config.js';

export function initRun() {
  $('train').addEventListener('click', () => {
    clearError();
    send({ cmd: 'start', config: config() });
  });
  $('pause').addEventListener('click', () => send({ cmd: 'pause' }));
  $('resume').addEventListener('click', () => send({ cmd: 'resume' }));
  $('stop').addEventListener('click', () => send({ cmd: 'stop' }));
}

// runState enables the buttons that fit the engine's state ('state' event) and shows its message.
export function runState(s) {
  const running = s.state === 'running';
  $('train').disabled = running || !app.data;
  $('pause').disabled = !running;
  $('stop').disabled = !(running || s.state === 'paused');
  $('resume').disabled = s.state !== 'paused';
  if (s.message) $('run-status').textContent = s.message;
}

export function showMemory(gpuBytes, wasmBytes, dataBytes) {
  $('memory').textContent = `memory: GPU buffers ${fmtBytes(gpuBytes)} · engine (wasm) ${fmtBytes(wasmBytes)} · data ${fmtBytes(dataBytes)}`;
}

// showProgress reports a training step ('progress' event).
export function showProgress(p) {
  $('progress').max = p.total;
  $('progress').value = p.step;
  $('run-status').textContent = `step ${p.step} / ${p.total} · epoch ${p.epoch.toFixed(2)} · loss ${p.loss.toFixed(4)} · ${p.images_per_sec.toFixed(0)} images/s · ETA ${fmtTime(p.eta_s)}`;
  showMemory(app.run?.gpu_bytes, p.wasm_bytes, app.data?.bytes);
}

// clearProgress: new data, no run yet.
export function clearProgress() {
  $('progress').value = 0;
  $('run-status').textContent = 'Ready to train.';
}
