// The metric charts: training loss, exact global loss, probe and k-NN accuracy (with the raw-pixel
// floor), MH acceptance, and the representation's health. Fed by the engine's progress, eval and
// floor events, and by the history a resumed run brings back from browser storage.
import { app } from '../state.js';
import { lineChart, palette, redraw, resetCharts } from '../charts.js';

const charts = {}; // by canvas id; all null without Chart.js

export function initMetrics() {
  charts.loss = lineChart('chart-loss', [{ label: 'loss', points: 0 }]);
  charts.global = lineChart('chart-global', [{ label: 'global loss' }]);
  charts.acc = lineChart('chart-acc', [
    { label: 'probe' }, { label: '1-NN' }, { label: '10-NN' },
    { label: 'probe, raw pixels', dash: true, points: 0, color: palette[0] },
    { label: '10-NN, raw pixels', dash: true, points: 0, color: palette[2] },
  ]);
  charts.accept = lineChart('chart-accept', [{ label: 'acceptance', points: 0 }, { label: 'stale share', points: 0 }]);
  charts.health = lineChart('chart-health', [{ label: 'alignment' }, { label: 'uniformity' }, { label: 'effective rank', y2: true }], { y2: true });
}

// push adds {x, y} to dataset i of a chart in step order: the random-init evaluation (step 0)
// arrives after the first epoch's (nothing without Chart.js).
function push(chart, i, x, y) {
  const d = chart?.data.datasets[i].data;
  if (!d) return;
  let k = d.length;
  while (k > 0 && d[k - 1].x > x) k--;
  d.splice(k, 0, { x, y });
}

export function addProgress(p) {
  push(charts.loss, 0, p.step, p.loss);
  redraw(charts.loss);
  if ((app.run?.config ?? app.savedConfig)?.method === 'emc2') {
    push(charts.accept, 0, p.step, p.accept_rate);
    push(charts.accept, 1, p.step, p.stale_share);
    redraw(charts.accept);
  }
}

export function addEval(r) {
  if (r.global_loss) {
    push(charts.global, 0, r.step, r.global_loss);
    redraw(charts.global);
  }
  if (r.labeled) {
    push(charts.acc, 0, r.step, r.probe_test_acc);
    push(charts.acc, 1, r.step, r.knn1_acc);
    push(charts.acc, 2, r.step, r.knn10_acc);
    extendFloors();
    redraw(charts.acc);
  }
  push(charts.health, 0, r.step, r.alignment);
  push(charts.health, 1, r.step, r.uniformity);
  push(charts.health, 2, r.step, r.eff_rank);
  redraw(charts.health);
}

export function addFloor(f) {
  app.floors.push(f);
  extendFloors();
  redraw(charts.acc);
}

// extendFloors draws the raw-pixel floor as a horizontal line across the steps evaluated so far.
function extendFloors() {
  if (!charts.acc) return;
  const f = app.floors.find((x) => x.name === 'raw pixels');
  const a = charts.acc.data.datasets;
  const steps = a[0].data.map((p) => p.x);
  if (!f || steps.length === 0) return;
  const span = [Math.min(...steps), Math.max(...steps, app.run?.total_steps ?? 0)];
  a[3].data = span.map((x) => ({ x, y: f.probe_test_acc }));
  a[4].data = span.map((x) => ({ x, y: f.knn10_acc }));
}

// showHistory redraws a run's metrics from the history its 'started' event carries (a new run's is
// empty; a restored run's holds everything before the checkpoint).
export function showHistory(h) {
  resetCharts();
  Object.assign(app, { progress: [], evals: [], floors: [] });
  for (const p of h.progress ?? []) {
    app.progress.push(p);
    addProgress(p);
  }
  for (const r of h.evals ?? []) {
    app.evals.push(r);
    addEval(r);
  }
  for (const f of h.floors ?? []) addFloor(f);
}
