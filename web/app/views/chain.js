// The chain inspector: each training image has a Metropolis–Hastings chain whose state is its current
// hard negative. The user picks an anchor; the engine then reports that chain ('chain' events): the
// anchor, its negative, and the similarity between them over the steps.
import { app } from '../state.js';
import { $, clearCanvas, drawImages } from '../ui.js';
import { send } from '../engine.js';
import { newChart, palette, redraw } from '../charts.js';

let chart = null; // similarity over steps; null without Chart.js

export function initChain() {
  chart = newChart('chart-chain', {
    type: 'line',
    data: { datasets: [
      { label: 'similarity now', data: [], borderColor: palette[0], backgroundColor: palette[0], pointRadius: 0, borderWidth: 1.5 },
      { label: 'state changed', data: [], borderColor: palette[3], backgroundColor: palette[3], showLine: false, pointRadius: 4, pointStyle: 'triangle' },
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

// chainState enables the buttons: only EMC² runs have chains.
export function chainState() {
  $('anchor-watch').disabled = !(app.run && app.run.config.method === 'emc2');
  $('anchor-random').disabled = $('anchor-watch').disabled;
}

// chainData bounds the anchor input by the new data's training images.
export function chainData(d) {
  $('anchor').max = d.train - 1;
}

// showChain draws a chain report; pix holds the anchor's pixels, then its negative's.
export function showChain(rep, pix) {
  app.chain = rep;
  if (rep.error) {
    $('chain-text').textContent = rep.error;
    return;
  }
  const d = app.data;
  const n = d.h * d.w * d.c;
  const name = (l) => (l >= 0 && d.classes?.[l]) || (l >= 0 ? `class ${l}` : '');
  drawImages($('chain-anchor'), pix.subarray(0, n), 1, d.h, d.w, d.c, 96, 1);
  $('chain-anchor-cap').textContent = `anchor #${rep.anchor} ${name(rep.anchor_label)}`;
  const last = rep.samples[rep.samples.length - 1];
  if (last && last.state >= 0) {
    drawImages($('chain-neg'), pix.subarray(n, 2 * n), 1, d.h, d.w, d.c, 96, 1);
    $('chain-neg-cap').textContent = `negative #${last.state} ${name(rep.state_label)}`;
    $('chain-text').textContent = `similarity now ${last.similarity.toFixed(3)} · when scored ${last.stored.toFixed(3)} · state changed at ${rep.moves} of ${rep.samples.length - 1} looks`;
  } else {
    clearCanvas('chain-neg');
    $('chain-neg-cap').textContent = 'no state yet';
    $('chain-text').textContent = 'The chain has not accepted a state yet (its image has not been in a batch).';
  }
  if (!chart) return;
  const ds = chart.data.datasets;
  ds[0].data = rep.samples.filter((s) => s.state >= 0).map((s) => ({ x: s.step, y: s.similarity }));
  ds[1].data = rep.samples.filter((s) => s.moved).map((s) => ({ x: s.step, y: s.similarity }));
  redraw(chart);
}

// clearChain empties the inspector (new data: the old run is gone). Its chart is cleared with the
// others by resetCharts.
export function clearChain() {
  for (const id of ['chain-anchor', 'chain-neg']) clearCanvas(id);
  for (const id of ['chain-text', 'chain-anchor-cap', 'chain-neg-cap']) $(id).textContent = '';
}
