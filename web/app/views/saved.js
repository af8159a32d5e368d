// The resume offer: a run saved in this browser (by the worker, in OPFS) is offered after a reload.
// "Resume it" sends one command: Go restores the checkpoint onto its data (the built-in set or the
// stored upload) and trains on; a run saved when it had finished restores as done.
import { app } from '../state.js';
import { $ } from '../ui.js';
import { send } from '../engine.js';

export function initSaved() {
  $('saved-resume').addEventListener('click', resumeSaved);
  $('saved-discard').addEventListener('click', () => send({ cmd: 'discard-saved' }));
}

// resumeSaved resumes the saved run (the offer's button, or the page after a lost GPU device).
export function resumeSaved() {
  $('saved').hidden = true;
  send({ cmd: 'resume-saved' });
}

// showSaved describes the saved run ({step, total, data, name, saved_at}), or hides the offer when
// there is none ('saved' event).
export function showSaved(s) {
  app.saved = s;
  if (s) {
    const data = s.data === 'default' ? 'the built-in data' : s.data.replace(/^upload:/, '').replace(/#.*/, '');
    $('saved-text').textContent = `A run saved in this browser can be resumed: ${s.name ?? 'a run'}, step ${s.step} of ${s.total}, on ${data}, saved ${new Date(s.saved_at).toLocaleString()}.`;
  }
  $('saved').hidden = !s;
}

// savedFailed shows the offer again when the resume could not start.
export function savedFailed() {
  if (app.saved) $('saved').hidden = false;
}
