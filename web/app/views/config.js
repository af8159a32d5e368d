// The training form, mirrored in the address bar: the URL's settings fill the form at load, every
// edit rewrites the URL (so a copied link reproduces the run), and a run's own config fills the form.
// The method and sampler menus come from the engine's method table ('methods' event), so a method
// added in Go appears here without a line of JavaScript. Settings the engine refuses are named as
// in the config's JSON (train.SettingError), which is also the name of their form field.
import { params } from '../state.js';
import { $ } from '../ui.js';

const numeric = new Set(['batch', 'epochs', 'beta', 'lr', 'mcmc_burn_in', 'sogclr_gamma', 'seed', 'train_subset', 'eval_subset']);
// Settings only the URL carries (the tests use them for short, cheap runs).
const hidden = { log_every: 10, global_size: 256, eval_every: 1, test_subset: 0 };

const form = () => $('config-form');

export function initConfig() {
  applyURL();
  for (const k of Object.keys(hidden)) if (params.has(k)) hidden[k] = Number(params.get(k));
  form().addEventListener('input', () => {
    samplerApplies();
    syncURL();
  });
  syncURL();
}

function applyURL() {
  for (const el of form().elements) {
    if (params.has(el.name)) el.value = params.get(el.name);
  }
}

// showMethods fills the method and sampler menus from the engine's table (train.MethodTable), then
// the URL's choice; the sampler menu applies only to methods with chains.
let table = [];
export function showMethods(methods) {
  table = methods;
  const f = form();
  const option = (value, text) => Object.assign(document.createElement('option'), { value, textContent: text });
  f.method.replaceChildren(...methods.map((m) => option(m.name, m.title)));
  const variants = methods.find((m) => m.has_chains)?.variants ?? [];
  f.emc2_variant.replaceChildren(...variants.map((v) => option(v, v)));
  f.method.value = methods.find((m) => m.has_chains)?.name ?? methods[0].name; // the default method
  applyURL();
  samplerApplies();
  syncURL();
}

function samplerApplies() {
  const m = table.find((x) => x.name === form().method.value);
  form().emc2_variant.disabled = !(m && m.has_chains);
}

// markInvalid highlights the field a refused setting names ("lr = 0: want …"), if the form has it.
export function markInvalid(message) {
  for (const el of form().elements) el.removeAttribute('aria-invalid');
  const m = /(?:^|: )([a-z_]+) = /.exec(message ?? '');
  const el = m && form().elements.namedItem(m[1]);
  if (el) {
    el.setAttribute('aria-invalid', 'true');
    el.focus();
  }
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
