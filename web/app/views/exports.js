// Checkpoints and exports: the checkpoint kept in this browser (OPFS, saved by the worker), the
// downloads (checkpoint, safetensors weights, CSV embeddings), and uploading a checkpoint back.
// app.exporting names the export asked for until its file arrives: a signal for tests and tools.
import { app } from '../state.js';
import { $, download, fmtBytes, showError } from '../ui.js';
import { send } from '../engine.js';

const buttons = { 'export-checkpoint': 'checkpoint', 'export-safetensors': 'safetensors', 'export-csv': 'csv' };

export function initExports() {
  for (const [id, kind] of Object.entries(buttons)) {
    $(id).addEventListener('click', () => {
      app.exporting = kind;
      send({ cmd: 'export', kind });
    });
  }
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
}

// exportsState: exports need a run that is paused or done; no upload while training.
export function exportsState(s) {
  const hasRun = s.state === 'paused' || s.state === 'done';
  for (const id of Object.keys(buttons)) $(id).disabled = !hasRun;
  $('upload-checkpoint').disabled = s.state === 'running';
}

// showFile downloads a file the engine exported ('file' event).
export function showFile(f, bytes) {
  app.files.push({ ...f, size: bytes.length });
  app.exporting = null;
  download(f.name, f.mime, bytes);
}

// exportFailed ends the export in flight after an error event for it.
export function exportFailed() {
  app.exporting = null;
}

// showCheckpoint records a checkpoint the engine took ('checkpoint' event).
export function showCheckpoint(c) {
  app.checkpoints.push(c);
  if (c.error) showError(`checkpoint at step ${c.step} failed: ${c.error}`);
}

// showStored reports the checkpoint the worker saved in this browser ('stored' event).
export function showStored(s) {
  app.stored = s;
  $('stored').textContent = `Checkpoint saved in this browser at step ${s.step} of ${s.total} (${fmtBytes(s.bytes)}); a reload offers to resume it.`;
}
