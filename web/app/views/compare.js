// Compare mode: run a plan of methods × batch sizes × seeds on the loaded data, one run after
// another in the worker, and show the table, the reading and an overlay chart as the runs finish.
// The table and the reading are made in Go (core/compare, the same code as `emc2 compare`'s
// report.md); this view only lays them out. Finished runs are kept in the browser's storage by the
// worker, so a reloaded page continues the plan.
import { app } from '../state.js';
import { $, fmtTime, plural } from '../ui.js';
import { send } from '../engine.js';
import { newChart, palette, redraw } from '../charts.js';
import { config } from './config.js';

let chart = null;

export function initCompare() {
  $('cmp-start').addEventListener('click', () => startCompare(null));
  $('cmp-continue').addEventListener('click', () => startCompare(app.compareSaved));
  $('cmp-stop').addEventListener('click', () => send({ cmd: 'stop' }));
  $('cmp-md').addEventListener('click', () => exportReport('compare-report'));
  $('cmp-csv').addEventListener('click', () => exportReport('compare-csv'));
  chart = newChart('cmp-chart', {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      parsing: false,
      maintainAspectRatio: false,
      scales: { x: { type: 'linear', title: { display: true, text: 'training seconds' } }, y: { title: { display: true, text: 'probe accuracy' } } },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
  });
}

// showMethods fills the method boxes from the engine's method table (train.MethodTable).
export function showMethods(methods) {
  const box = $('cmp-methods');
  box.replaceChildren();
  for (const m of methods) {
    for (const name of m.has_chains ? m.variants.map((v) => `${m.name}-${v}`) : [m.name]) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = name;
      input.checked = name === 'simclr' || (m.has_chains && name === `${m.name}-${m.variants[0]}`); // SimCLR beside the default sampler
      label.append(input, ` ${name}`);
      box.append(label);
    }
  }
}

// plan reads the form: the trainer's settings are the runs' shared base.
function plan() {
  const list = (id) => $(id).value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return {
    methods: [...$('cmp-methods').querySelectorAll('input:checked')].map((i) => i.value),
    batches: list('cmp-batches'),
    seeds: list('cmp-seeds'),
    budget_s: 60 * Number($('cmp-budget').value || 0),
    base: config(),
  };
}

// startCompare runs a new plan, or continues a saved one ({plan, done}).
function startCompare(saved) {
  app.compare = { report: null, progress: null, done: saved ? saved.done.length : 0 };
  const p = saved ? saved.plan : plan();
  send({ cmd: 'compare', plan: p, done: saved ? saved.done : [] });
  $('cmp-status').textContent = 'starting the comparison …';
}

function exportReport(kind) {
  app.exporting = kind;
  send({ cmd: 'export', kind });
}

// showCompareProgress: one step of the plan (a compare.Event).
export function showCompareProgress(e) {
  app.compare = { ...(app.compare ?? {}), progress: e };
  const pct = Math.round(100 * e.done);
  $('cmp-bar').value = pct;
  const what = e.status && e.status !== 'training' ? ` — ${e.status}` : '';
  $('cmp-status').textContent =
    `run ${e.index + 1} of ${e.runs}: ${e.run.method} at B = ${e.run.batch}, seed ${e.run.seed}, step ${e.step} of ${e.total}${what} · ${pct} % of the plan · ETA ${fmtTime(e.eta_s)}`;
}

// showCompareReport lays out the report Go made: floors and rows, the reading, the chart.
export function showCompareReport(r) {
  app.compare = { ...(app.compare ?? {}), report: r };
  $('cmp-reading').textContent = r.reading;
  const pct = (s) => (s && s.n ? (100 * s.mean).toFixed(1) + (s.n > 1 ? ` ± ${(100 * s.sd).toFixed(1)}` : '') : '—');
  const num = (s, d) => (s && s.n ? s.mean.toFixed(d) + (s.n > 1 ? ` ± ${s.sd.toFixed(d)}` : '') : '—');
  const rows = [];
  for (const f of r.floors ?? []) rows.push([`floor: ${f.name}`, '', pct(f.probe_test_acc), pct(f.knn1_acc), pct(f.knn10_acc), '', '', '', '', '']);
  for (const x of r.rows ?? []) {
    rows.push([
      x.method,
      String(x.batch),
      x.labeled ? pct(x.probe_test_acc) : '—',
      x.labeled ? pct(x.knn1_acc) : '—',
      x.labeled ? pct(x.knn10_acc) : '—',
      num(x.global_loss, 3),
      num(x.median_step_ms, 1),
      x.step_ratio_to_simclr ? x.step_ratio_to_simclr.toFixed(2) : '—',
      x.device_mib.toFixed(1),
      x.state_bytes_per_image.toFixed(0),
    ]);
  }
  const body = $('cmp-table').tBodies[0];
  body.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.append(td);
      }
      return tr;
    }),
  );
  $('cmp-kept').textContent = `${plural((r.results ?? []).length, 'run')} finished, ${plural((r.missing ?? []).length, 'run')} to go`;
  if (chart) {
    chart.data.datasets = (r.results ?? []).map((res, i) => ({
      label: `${res.method} B=${res.batch} s${res.seed}`,
      data: res.summary.history.map((e) => ({ x: e.train_s, y: e.probe_test_acc })),
      borderColor: palette[i % palette.length],
      backgroundColor: palette[i % palette.length],
      pointRadius: 3,
      borderWidth: 1.5,
    }));
    redraw(chart);
  }
}

// showCompareSaved offers to continue a plan the worker found in storage ({plan, done}, or null).
export function showCompareSaved(saved) {
  app.compareSaved = saved;
  const left = saved ? saved.plan.methods.length * saved.plan.batches.length * saved.plan.seeds.length - saved.done.length : 0;
  $('cmp-continue').hidden = !(saved && left > 0);
  if (saved && left > 0) $('cmp-continue').textContent = `Continue the comparison (${plural(saved.done.length, 'run')} kept, ${left} to go)`;
}

// compareState enables the buttons for the engine's state.
export function compareState(s) {
  const busy = s.state === 'running';
  const comparing = busy && (s.message ?? '').startsWith('compar');
  if (busy && !comparing) app.comparing = false;
  if (comparing) app.comparing = true;
  $('cmp-start').disabled = busy || !app.data;
  $('cmp-continue').disabled = busy || !app.data;
  $('cmp-stop').disabled = !(busy && app.comparing);
  const has = Boolean(app.compare?.report?.rows?.length);
  $('cmp-md').disabled = busy || !has;
  $('cmp-csv').disabled = busy || !has;
  if (!busy && s.message && s.message.startsWith('compar')) {
    app.comparing = false;
    $('cmp-status').textContent = s.message;
  }
}
