// The chain inspector: each training image has a Metropolis–Hastings chain whose state is its current
// hard negative. The user picks an anchor; each epoch, the step whose batch holds it is traced and
// every decision of its chain in that step comes back ('chain' events): which column was proposed,
// its similarity, the stored score it was compared with, the acceptance probability, the uniform
// draw, accepted or not, and whether the step counted (after burn-in). The decisions are replayed in
// Go (core/mcmc.ReplayChain) from the step's own similarity matrix, so they are the step's.
import { app } from '../state.js';
import { $, clearCanvas, drawImages } from '../ui.js';
import { send } from '../engine.js';
import { newChart, palette, redraw } from '../charts.js';

let chart = null; // accepted proposals per visit; null without Chart.js

export function initChain() {
  chart = newChart('chart-chain', {
    type: 'line',
    data: { datasets: [
      { label: 'accepted proposals', data: [], borderColor: palette[2], backgroundColor: palette[2], pointRadius: 3, borderWidth: 1.5 },
      { label: 'recorded into the loss', data: [], borderColor: palette[0], backgroundColor: palette[0], pointRadius: 3, borderWidth: 1.5 },
    ] },
    options: { animation: false, parsing: false, maintainAspectRatio: false, scales: { x: { type: 'linear', title: { display: true, text: 'step' } } } },
  });
  const watch = () => send({ cmd: 'watch', anchor: Number($('anchor').value) });
  $('anchor-watch').addEventListener('click', watch);
  $('anchor-random').addEventListener('click', () => {
    $('anchor').value = Math.floor(Math.random() * (app.run?.train_images ?? 1));
    watch();
  });
}

// chainState enables the buttons: only runs whose method keeps chains can be followed.
export function chainState() {
  $('anchor-watch').disabled = !(app.run && app.run.has_chains);
  $('anchor-random').disabled = $('anchor-watch').disabled;
}

// chainData bounds the anchor input by the new data's training images.
export function chainData(d) {
  $('anchor').max = d.train - 1;
}

// showChain draws a chain report; pix holds the pixels of the report's columns, in order.
export function showChain(rep, pix) {
  app.chain = rep;
  const table = $('chain-steps').tBodies[0];
  if (rep.error) {
    $('chain-text').textContent = rep.error;
    table.replaceChildren();
    return;
  }
  const d = app.data;
  const n = d.h * d.w * d.c;
  const name = (l) => (l >= 0 && d.classes?.[l]) || (l >= 0 ? `class ${l}` : '');
  const next = rep.next >= 0 ? ` The next step that holds it is step ${rep.next + 1}.` : '';
  if (!rep.replay) {
    clearCanvas('chain-cols');
    table.replaceChildren();
    $('chain-text').textContent = `Following image #${rep.anchor} ${name(rep.anchor_label)}: no step of it traced yet.${next}`;
    return;
  }
  const r = rep.replay;
  const cols = rep.columns.length;
  drawImages($('chain-cols'), pix, cols, d.h, d.w, d.c, 40, Math.min(cols, 24));
  const acc = r.decisions.filter((x) => x.accepted).length;
  const proposals = r.decisions.filter((x) => !x.own).length;
  const state = r.column >= 0 ? `#${rep.columns[r.column]} ${name(rep.labels[r.column])}` : 'last step’s negative (kept)';
  $('chain-text').textContent =
    `Step ${rep.step + 1} (epoch ${rep.epoch.toFixed(2)}), image #${rep.anchor} ${name(rep.anchor_label)}, ${r.variant} sampler: ` +
    `${acc} of ${proposals} proposals accepted; burn-in ${r.burn_in} per view, each recorded step weighs 1/${r.norm}. Its negative after the step: ${state}.${next}`;
  // One row per decision: the sweep proposes the columns in order (view 1's row, then view 2's).
  const beta = rep.beta;
  table.replaceChildren(
    ...r.decisions.map((x) => {
      const tr = document.createElement('tr');
      const img = rep.columns[x.column];
      const verdict = x.own ? 'own view: skipped' : x.accepted ? 'accepted' : 'rejected';
      const counted = x.recorded ? (x.dropped ? 'dropped (stale)' : 'recorded') : x.burn_in ? 'burn-in' : '';
      tr.className = x.own ? 'own' : x.accepted ? 'accepted' : 'rejected';
      const cells = [
        `${x.view + 1}`,
        `${x.j}`,
        `#${img} ${name(rep.labels[x.column])}`,
        x.own ? '' : (x.q / beta).toFixed(3),
        x.score < -1e30 ? 'none' : (x.score / beta).toFixed(3),
        x.own ? '' : Math.min(1, Math.exp(x.q - x.score)).toFixed(3),
        x.own ? '' : x.u.toFixed(3),
        verdict,
        counted,
      ];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.append(td);
      }
      return tr;
    }),
  );
  if (!chart) return;
  chart.data.datasets[0].data = rep.visits.map((v) => ({ x: v.step + 1, y: v.accepted }));
  chart.data.datasets[1].data = rep.visits.map((v) => ({ x: v.step + 1, y: v.recorded }));
  redraw(chart);
}

// clearChain empties the inspector (new data: the old run is gone). Its chart is cleared with the
// others by resetCharts.
export function clearChain() {
  clearCanvas('chain-cols');
  $('chain-steps').tBodies[0].replaceChildren();
  $('chain-text').textContent = '';
}
