// The embedding view: a scatter plot of held-out images projected on their first two principal
// components, coloured by class ('embedding' events, sent after each evaluation).
import { app } from '../state.js';
import { $ } from '../ui.js';
import { newChart, palette, redraw } from '../charts.js';

const caption = 'Embedding of held-out images (PCA)';
let chart = null; // null without Chart.js

export function initEmbedding() {
  chart = newChart('chart-embed', {
    type: 'scatter',
    data: { datasets: [] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { labels: { boxWidth: 8 } } }, scales: { x: { title: { display: true, text: 'PC 1' } }, y: { title: { display: true, text: 'PC 2' } } } },
  });
}

export function showEmbedding(e) {
  app.embedding = e;
  $('embed-caption').textContent = `Embedding of ${e.points.length} held-out images at step ${e.step} (PCA: ${(100 * e.explained[0]).toFixed(0)} % + ${(100 * e.explained[1]).toFixed(0)} % of the variance)`;
  if (!chart) return;
  const classes = app.data?.classes ?? [];
  const groups = new Map(); // label → points; -1 for unlabeled data
  e.points.forEach(([x, y], i) => {
    const l = e.labels ? e.labels[i] : -1;
    if (!groups.has(l)) groups.set(l, []);
    groups.get(l).push({ x, y });
  });
  chart.data.datasets = [...groups.keys()].sort((a, b) => a - b).map((l) => ({
    label: l < 0 ? 'unlabeled' : classes[l] ?? `class ${l}`,
    data: groups.get(l),
    backgroundColor: l < 0 ? '#888' : palette[l % palette.length],
    pointRadius: 2,
  }));
  redraw(chart);
}

// clearEmbedding removes the plot and its legend (new data: the old run is gone).
export function clearEmbedding() {
  $('embed-caption').textContent = caption;
  if (!chart) return;
  chart.data.datasets = [];
  chart.update();
}
