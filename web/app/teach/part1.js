// Part 1: real negatives. The page fetches the trained encoder (teach/encoder.safetensors), the Go
// engine embeds a pool of the built-in Fashion-MNIST test images with it (core/teach), and for one
// anchor this module draws its two augmented views, random and hard negatives with their
// similarities and softmax weights, the histogram of all similarities, and the mini-batch bias.
import { t } from './i18n.js';
import { $, fmt, colors, drawThumb } from './ui.js';

const perKind = 6;
const thumbScale = 3;

export class Part1 {
  constructor(engine, state, onState, onError, onStatus) {
    this.engine = engine;
    this.s = state;
    this.onState = onState;
    this.onError = onError;
    this.onStatus = onStatus;
    this.view = null;
    this.gallery = null;
    this.hook = { ready: false, gallery: null, view: null };
  }

  bind() {
    $('p1-beta').value = this.s.beta1;
    $('p1-beta-out').value = this.s.beta1;
    $('p1-beta').addEventListener('input', () => {
      this.s.beta1 = Number($('p1-beta').value);
      $('p1-beta-out').value = this.s.beta1;
      this.onState();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.show(), 150);
    });
    $('p1-next').addEventListener('click', () => {
      if (!this.gallery) return;
      // the next anchor: a step through the pool that visits every class in turn
      this.s.anchor = (this.s.anchor + 37) % this.gallery.pool;
      this.onState();
      this.show();
    });
  }

  async load() {
    this.onStatus(t('status_loading_encoder', { n: 300 }));
    const res = await fetch('teach/encoder.safetensors');
    if (!res.ok) throw new Error(`teach/encoder.safetensors: HTTP ${res.status} (make teach-encoder builds it)`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    this.gallery = await this.engine.call('teach-encoder', {}, 'teach-gallery', bytes);
    this.hook.gallery = this.gallery;
    if (this.s.anchor >= this.gallery.pool) this.s.anchor = 0;
    await this.show();
  }

  async show() {
    if (!this.gallery) return;
    this.hook.ready = false;
    try {
      const args = { anchor: this.s.anchor, k: perKind, seed: this.s.seed, beta: this.s.beta1 };
      this.view = await this.engine.call('teach-negatives', args, 'teach-negatives');
    } catch (e) {
      this.onError(e);
      return;
    }
    this.hook.view = this.view;
    this.render();
    this.hook.ready = true;
  }

  render() {
    const v = this.view;
    if (!v) return;
    drawThumb($('p1-anchor'), v.anchor.pixels, v.size);
    $('p1-anchor-cap').textContent = t('p1_anchor', { cls: v.anchor.class });
    v.views.forEach((w, i) => {
      drawThumb($(`p1-view${i}`), w.pixels, v.size);
      $(`p1-view${i}-cap`).textContent = t('p1_view', { i: i + 1, sim: fmt(w.sim, 3) });
    });
    $('p1-positive').textContent = t('p1_positive', { pos: fmt(v.positive, 3) });
    this.strip($('p1-random'), v.random, v.anchor.label);
    this.strip($('p1-hard'), v.hard, v.anchor.label);
    const mass = (xs) => xs.reduce((a, x) => a + x.weight, 0);
    $('p1-summary').textContent = t('p1_summary', {
      n: v.pool, beta: v.beta, k: v.hard.length, hard: fmt(100 * v.hard_mass, 1), rand: fmt(100 * mass(v.random), 2), eff: fmt(v.effective_n, 1),
    });
    this.charts();
  }

  strip(el, thumbs, anchorLabel) {
    el.replaceChildren();
    for (const th of thumbs) {
      const fig = document.createElement('figure');
      fig.className = `thumbfig${th.label === anchorLabel ? ' same' : ''}`;
      const cv = document.createElement('canvas');
      cv.width = cv.height = this.view.size * thumbScale;
      drawThumb(cv, th.pixels, this.view.size);
      const cap = document.createElement('figcaption');
      cap.textContent = t('p1_thumb', { cls: th.class, sim: fmt(th.sim, 2), w: fmtWeight(th.weight) });
      fig.append(cv, cap);
      el.append(fig);
    }
  }

  charts() {
    if (typeof Chart === 'undefined') return;
    const v = this.view;
    const bins = 24;
    const lo = -1;
    const width = 2 / bins;
    const other = new Array(bins).fill(0);
    const same = new Array(bins).fill(0);
    v.sims.forEach((s, i) => {
      const b = Math.min(bins - 1, Math.max(0, Math.floor((s - lo) / width)));
      (v.same[i] ? same : other)[b]++;
    });
    const labels = other.map((_, b) => fmt(lo + (b + 0.5) * width, 2));
    this.hist?.destroy();
    this.hist = new Chart($('p1-hist'), {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: t('p1_hist_other'), data: other, backgroundColor: colors.other, stack: 's' },
          { label: t('p1_hist_same'), data: same, backgroundColor: colors.same, stack: 's' },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: { x: { stacked: true, title: { display: true, text: t('p1_hist_x') } }, y: { stacked: true, title: { display: true, text: t('p1_hist_y') } } },
      },
    });
    this.bias?.destroy();
    this.bias = new Chart($('p1-bias'), {
      type: 'line',
      data: {
        labels: v.batches.map((b) => b.b),
        datasets: [
          { label: t('p1_bias_logz'), data: v.batches.map((b) => b.log_z_bias), borderColor: colors.no, yAxisID: 'y', borderWidth: 2 },
          { label: t('p1_bias_tv'), data: v.batches.map((b) => b.tv), borderColor: colors.simclr, yAxisID: 'y1', borderWidth: 2 },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {
          x: { title: { display: true, text: t('p1_bias_x') } },
          y: { position: 'left', title: { display: true, text: t('p1_bias_logz') } },
          y1: { position: 'right', min: 0, grid: { drawOnChartArea: false }, title: { display: true, text: t('p1_bias_tv') } },
        },
      },
    });
  }

  relabel() {
    this.render();
  }
}

function fmtWeight(w) {
  return w >= 0.001 ? w.toFixed(3) : w.toExponential(1);
}
