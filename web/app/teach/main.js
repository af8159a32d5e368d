// The teaching page: boots the engine (the trainer's worker running the Go core as WebAssembly),
// keeps the settings in the address bar, switches languages, and starts the parts.
import { apply, setLanguage, t } from './i18n.js';
import { read, write } from './state.js';
import { Engine } from './engine.js';
import { $, chartDefaults } from './ui.js';
import { Part1 } from './part1.js';
import { Part2 } from './part2.js';
import { Part3 } from './part3.js';

const state = read();
const hook = { errors: [], booted: false, state };
window.teach = hook;

function status(msg) {
  $('status').textContent = msg;
}

function showError(e) {
  const msg = e?.message ?? String(e);
  hook.errors.push(msg);
  const p = document.createElement('p');
  p.textContent = t('status_error', { msg });
  $('errors').append(p);
}

const saveState = () => write(state);

const engine = new Engine((data) => showError(new Error(`${data.cmd}: ${data.message}`)));
const part1 = new Part1(engine, state, saveState, showError, status);
const part2 = new Part2(engine, state, saveState, showError);
hook.p1 = part1.hook;
hook.p2 = part2.hook;
const part3 = new Part3(engine, state, saveState, showError);
hook.p3 = part3.hook;

function setLang(code) {
  state.lang = setLanguage(code);
  $('lang').value = state.lang;
  apply();
  document.title = t('title');
  part1.relabel();
  part2.relabel();
  part3.relabel();
  if (hook.booted) status(t('status_ready'));
}

function markPart(n) {
  for (const a of document.querySelectorAll('nav a[data-part]')) {
    if (Number(a.dataset.part) === n) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  }
}

async function main() {
  chartDefaults();
  setLang(state.lang);
  $('lang').addEventListener('change', () => {
    setLang($('lang').value);
    saveState();
  });
  for (const a of document.querySelectorAll('nav a[data-part]')) {
    a.addEventListener('click', () => {
      state.part = Number(a.dataset.part);
      markPart(state.part);
      saveState();
    });
  }
  markPart(state.part);
  if (state.part !== 1) $(`part${state.part}`).scrollIntoView();
  part1.bind();
  part2.bind();
  part3.bind();
  try {
    await engine.booted;
  } catch (e) {
    showError(e);
    return;
  }
  hook.booted = true;
  status(t('status_ready'));
  await part2.reset(state.run);
  await part3.reset();
  try {
    await part1.load();
    status(t('status_ready'));
  } catch (e) {
    showError(e);
  }
}

main();
