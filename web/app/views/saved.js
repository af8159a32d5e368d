// The resume offer: a run saved in this browser (by the worker, in OPFS) is offered after a reload.
// "Resume it" has the worker load the run's data and restore its checkpoint, then continues the run;
// one saved when it had finished restores as done and stays so.
import { app } from '../state.js';
import { $ } from '../ui.js';
import { send } from '../engine.js';

let resumeAfterRestore = false;

export function initSaved() {
  $('saved-resume').addEventListener('click', () => {
    $('saved').hidden = true;
    resumeAfterRestore = true;
    send({ cmd: 'resume-saved' });
  });
  $('saved-discard').addEventListener('click', () => send({ cmd: 'discard-saved' }));
}

// showSaved describes the saved run, or hides the offer when there is none ('saved' event).
export function showSaved(s) {
  app.saved = s;
  if (s) {
    const c = s.config ?? {};
    const data = s.data === 'default' ? 'the built-in data' : s.data.replace(/^upload:/, '').replace(/#.*/, '');
    $('saved-text').textContent = `A run saved in this browser can be resumed: ${c.method ?? '?'}, batch ${c.batch ?? '?'}, step ${s.step} of ${s.total}, on ${data}, saved ${new Date(s.saved_at).toLocaleString()}.`;
  }
  $('saved').hidden = !s;
}

// savedState continues a restored run once the engine reports it paused ('state' event).
export function savedState(s) {
  if (!resumeAfterRestore || !['paused', 'done'].includes(s.state)) return;
  resumeAfterRestore = false;
  if (s.state === 'paused') send({ cmd: 'resume' });
}

// savedFailed gives up resuming when the worker could not restore the run.
export function savedFailed() {
  resumeAfterRestore = false;
}
