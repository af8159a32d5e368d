// Chart.js, loaded defensively, and what every chart on the page shares: the palette, line-chart
// defaults, one batched redraw per animation frame, and clearing them all. Chart.js comes from
// dist/chart.umd.js (copied from node_modules by `make web`); when that file is missing the page
// works without charts: newChart returns null and the views skip their drawing.

export const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const all = []; // every chart made, for resetCharts

// loadChartJs adds dist/chart.umd.js to the page and resolves true once window.Chart exists, or
// false when the file failed to load. It never rejects.
export function loadChartJs() {
  return new Promise((resolve) => {
    if (typeof window.Chart === 'function') {
      resolve(true);
      return;
    }
    const s = document.createElement('script');
    s.src = 'dist/chart.umd.js';
    s.onload = () => resolve(typeof window.Chart === 'function');
    s.onerror = () => resolve(false);
    document.head.append(s);
  });
}

// newChart makes a Chart.js chart on the canvas with this id, or returns null without Chart.js.
export function newChart(id, config) {
  if (typeof window.Chart !== 'function') return null;
  const c = new window.Chart(document.getElementById(id), config);
  all.push(c);
  return c;
}

// lineChart makes a line chart over steps, one dataset per entry of series:
// {label, color, dash, points (marker radius), y2 (plot on the right-hand axis)}.
export function lineChart(id, series, { y2 = false, yLabel = '' } = {}) {
  const datasets = series.map((s, i) => ({
    label: s.label,
    data: [],
    borderColor: s.color ?? palette[i],
    backgroundColor: s.color ?? palette[i],
    borderDash: s.dash ? [6, 4] : [],
    pointRadius: s.points ?? 2,
    borderWidth: 1.5,
    yAxisID: s.y2 ? 'y2' : 'y',
  }));
  const scales = {
    x: { type: 'linear', title: { display: true, text: 'step' } },
    y: { title: { display: Boolean(yLabel), text: yLabel } },
  };
  if (y2) scales.y2 = { position: 'right', grid: { drawOnChartArea: false } };
  return newChart(id, {
    type: 'line',
    data: { datasets },
    options: { animation: false, parsing: false, normalized: true, maintainAspectRatio: false, scales, plugins: { legend: { labels: { boxWidth: 12 } } } },
  });
}

// redraw asks for a chart to be drawn again; however fast events come, each chart is drawn at most
// once per animation frame. A null chart (no Chart.js) is ignored.
const dirty = new Set();
export function redraw(chart) {
  if (!chart) return;
  if (dirty.size === 0) {
    requestAnimationFrame(() => {
      for (const c of dirty) c.update('none');
      dirty.clear();
    });
  }
  dirty.add(chart);
}

// resetCharts empties every dataset of every chart (a new run starts).
export function resetCharts() {
  for (const c of all) {
    for (const d of c.data.datasets) d.data = [];
    c.update();
  }
}
