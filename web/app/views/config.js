// The training form, mirrored in the address bar: the URL's settings fill the form at load, every
// edit rewrites the URL (so a copied link reproduces the run), and a run's own config fills the form.
import { params } from '../state.js';
import { $ } from '../ui.js';

const numeric = new Set(['batch', 'epochs', 'beta', 'lr', 'mcmc_burn_in', 'sogclr_gamma', 'seed', 'train_subset', 'eval_subset']);
// Settings only the URL carries (the tests use them for short, cheap runs).
const hidden = { log_every: 10, global_size: 256, eval_every: 1, test_subset: 0 };

const form = () => $('config-form');

export function initConfig() {
  for (const el of form().elements) {
    if (params.has(el.name)) el.value = params.get(el.name);
  }
  for (const k of Object.keys(hidden)) if (params.has(k)) hidden[k] = Number(params.get(k));
  form().addEventListener('input', syncURL);
  syncURL();
}

// config is the run the form describes, as the engine's 'start' command takes it.
export function config() {
  const c = {};
  for (const el of form().elements) c[el.name] = numeric.has(el.name) ? Number(el.value) : el.value;
  return { ...c, ...hidden };
}

// setForm shows a run's config (a started or restored run) in the form and the URL.
export function setForm(c) {
  for (const el of form().elements) if (c[el.name] !== undefined) el.value = c[el.name];
  syncURL();
}

function syncURL() {
  const u = new URLSearchParams(params);
  for (const el of form().elements) u.set(el.name, el.value);
  history.replaceState(null, '', `?${u}`);
}
