// Part 2: one Metropolis–Hastings chain in a toy world, step by step. The chain is core/mcmc's
// (mcmc.Walk through core/teach), run by the Go engine in the worker; this module only draws it:
// the circle with the target, the last decision, the histogram of visits, the acceptance rate and
// the TV distance, and SimCLR's in-batch softmax beside it.
import { t } from './i18n.js';
import { $, fmt, burnInBand, colors } from './ui.js';

const speeds = [1, 5, 20, 100, 1000, 10000]; // steps per second, by the speed slider's position
const batchSizes = [2, 4, 8, 16, 32, 64, 128, 256];
const traceCap = 20000; // steps kept for inspection (tests read window.teach.p2.trace)
const chartEveryMs = 100;
const maxPerCall = 1000; // the engine returns every step of a call this short, so the trace stays whole

export class Part2 {
  constructor(engine, state, onState, onError) {
    this.engine = engine;
    this.s = state;
    this.onState = onState;
    this.onError = onError;
    this.world = null;
    this.trace = [];
    this.stats = null;
    this.last = null;
    this.playing = false;
    this.busy = false;
    this.generation = 0; // bumps on every reset, so stale answers are ignored
    this.rateSeries = [];
    this.tvSeries = [];
    this.indepSeries = [];
    this.lastChart = 0;
    this.hook = { ready: false, busy: false, world: null, trace: this.trace, stats: null, generation: 0 };
  }

  // ---- controls ---------------------------------------------------------------------------------
  bind() {
    const s = this.s;
    const sliders = [
      ['p2-beta', 'beta', true],
      ['p2-burnin', 'burnin', true],
      ['p2-points', 'points', true],
      ['p2-speed', 'speed', false],
    ];
    for (const [id, key, restart] of sliders) {
      const el = $(id);
      el.value = s[key];
      el.addEventListener('input', () => {
        s[key] = Number(el.value);
        this.showValues();
        this.onState();
        if (restart) this.scheduleReset();
      });
    }
    $('p2-seed').value = s.seed;
    $('p2-seed').addEventListener('change', () => {
      s.seed = Math.max(0, Math.round(Number($('p2-seed').value) || 0));
      this.onState();
      this.reset();
    });
    $('p2-b').addEventListener('change', () => {
      s.b = Number($('p2-b').value);
      this.onState();
      this.drawSimCLR();
    });
    $('p2-play').addEventListener('click', () => this.toggle());
    $('p2-step').addEventListener('click', () => this.steps(1));
    $('p2-reset').addEventListener('click', () => this.reset());
    document.addEventListener('keydown', (e) => {
      if (e.target.closest?.('input, select, textarea') || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.target.closest?.('#part3')) return; // part 3 has keys of its own
      if (e.key === ' ' && !e.target.closest?.('button')) {
        e.preventDefault();
        this.toggle();
      } else if (e.key === 'ArrowRight') {
        e.preventDefault();
        this.steps(1);
      } else if (e.key === 'r' || e.key === 'R') {
        this.reset();
      }
    });
    this.showValues();
  }

  showValues() {
    const s = this.s;
    $('p2-beta-out').value = s.beta;
    $('p2-burnin-out').value = s.burnin;
    $('p2-points-out').value = s.points;
    $('p2-speed-out').value = t('speed_value', { n: speeds[s.speed] });
    $('p2-play').textContent = t(this.playing ? 'pause' : 'play');
    $('p2-play').setAttribute('aria-pressed', String(this.playing));
  }

  scheduleReset() {
    clearTimeout(this.resetTimer);
    this.resetTimer = setTimeout(() => this.reset(), 150);
  }

  // ---- the engine -------------------------------------------------------------------------------
  async reset(initialSteps = 0) {
    const gen = ++this.generation;
    this.hook.ready = false;
    this.pause();
    const s = this.s;
    const config = { points: s.points, beta: s.beta, burn_in: s.burnin, seed: s.seed };
    let world;
    try {
      world = await this.engine.call('teach-toy', { config, batches: batchSizes.concat([s.points]) }, 'teach-toy');
    } catch (e) {
      this.onError(e);
      return;
    }
    if (gen !== this.generation) return;
    this.world = world;
    this.trace.length = 0;
    this.stats = { t: 0, kept: 0, accepted: 0, accept_rate: 0, tv: 1, counts: new Array(s.points).fill(0) };
    this.last = null;
    this.rateSeries = [];
    this.tvSeries = [];
    this.indepSeries = [];
    this.fillBatchSelect();
    this.makeCharts();
    this.render(true);
    Object.assign(this.hook, { world, stats: this.stats, generation: gen });
    // the opening run, in fifty calls, so the charts show its curves
    const chunk = Math.min(maxPerCall, Math.max(1, Math.ceil(initialSteps / 50)));
    for (let done = 0; done < initialSteps && gen === this.generation; done += chunk) await this.steps(Math.min(chunk, initialSteps - done));
    this.hook.ready = true;
  }

  async steps(n) {
    if (!this.world || this.busy) return;
    this.busy = this.hook.busy = true;
    const gen = this.generation;
    try {
      const r = await this.engine.call('teach-step', { n }, 'teach-steps');
      if (gen !== this.generation) return;
      if (r.t !== this.stats.t + n) throw new Error(`the chain is at step ${r.t}, the page expected ${this.stats.t + n}`);
      for (const st of r.steps) if (this.trace.length < traceCap) this.trace.push(st);
      this.last = r.steps[r.steps.length - 1];
      this.stats = r;
      this.hook.stats = r;
      this.rateSeries.push({ x: r.t, y: r.accept_rate });
      if (r.kept > 0) {
        this.tvSeries.push({ x: r.t, y: r.tv });
        this.indepSeries.push({ x: r.t, y: r.independent_tv });
      }
      for (const series of [this.rateSeries, this.tvSeries, this.indepSeries]) thin(series);
      this.render(false);
    } catch (e) {
      this.onError(e);
      this.pause();
    } finally {
      this.busy = this.hook.busy = false;
    }
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (this.playing) return;
    this.playing = true;
    this.showValues();
    let prev = 0;
    let owed = 0;
    const frame = (ts) => {
      if (!this.playing) return;
      const rate = speeds[this.s.speed];
      if (prev) owed = Math.min(owed + ((ts - prev) / 1000) * rate, Math.max(1, rate / 2));
      else owed = 1;
      prev = ts;
      const n = Math.min(maxPerCall, Math.floor(owed));
      if (n >= 1 && !this.busy) {
        owed -= n;
        this.steps(n);
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.showValues();
  }

  // ---- drawing ----------------------------------------------------------------------------------
  render(force) {
    this.drawCircle();
    this.drawDecision();
    const now = performance.now();
    if (force || now - this.lastChart > chartEveryMs || !this.playing) {
      this.lastChart = now;
      this.updateCharts();
    }
  }

  drawDecision() {
    const st = this.stats;
    $('p2-t').textContent = String(st.t);
    $('p2-rate').textContent = st.t ? `${fmt(100 * st.accept_rate, 1)}%` : '–';
    $('p2-tv').textContent = st.kept ? fmt(st.tv, 4) : '–';
    const d = this.last;
    const p = $('p2-decision');
    if (!d) {
      p.textContent = t('decision_none');
      p.className = '';
      $('p2-alpha').style.width = '0%';
      $('p2-u').hidden = true;
      return;
    }
    const empty = d.score < -1e30;
    p.textContent = t('decision', {
      t: d.t + 1,
      burn: d.burn_in ? t('decision_burn') : '',
      j: d.proposed,
      sim: fmt(this.world.sims[d.proposed], 3),
      q: fmt(d.q, 3),
      score: empty ? t('empty_score') : fmt(d.score, 3),
      alpha: fmt(d.accept_prob, 4),
      u: fmt(d.u, 4),
      verdict: t(d.accepted ? 'accepted' : 'rejected'),
    });
    p.className = d.accepted ? 'ok' : 'no';
    $('p2-alpha').style.width = `${100 * d.accept_prob}%`;
    $('p2-u').hidden = false;
    $('p2-u').style.left = `${100 * d.u}%`;
    $('p2-u').className = `u ${d.accepted ? 'ok' : 'no'}`;
  }

  drawCircle() {
    const cv = $('p2-circle');
    const ctx = cv.getContext('2d');
    const W = cv.width;
    const scale = W / Math.max(1, cv.clientWidth || W);
    const font = parseFloat(getComputedStyle(document.body).fontSize) * scale;
    const cx = W / 2;
    const cy = W / 2;
    const R = W * 0.36;
    ctx.clearRect(0, 0, W, W);
    ctx.lineWidth = 1.5 * scale;
    ctx.strokeStyle = colors.line;
    ctx.beginPath();
    ctx.arc(cx, cy, R, 0, 2 * Math.PI);
    ctx.stroke();
    const w = this.world;
    if (!w) return;
    const pos = (a, r = R) => [cx + r * Math.cos(a), cy - r * Math.sin(a)];
    // the anchor, at angle 0
    ctx.setLineDash([6 * scale, 6 * scale]);
    ctx.beginPath();
    ctx.moveTo(cx, cy);
    ctx.lineTo(...pos(0, R * 1.16));
    ctx.stroke();
    ctx.setLineDash([]);
    star(ctx, ...pos(0, R * 1.2), 14 * scale, colors.anchor);
    const pmax = Math.max(...w.target);
    const counts = this.stats.counts;
    const kept = Math.max(1, this.stats.kept);
    w.angles.forEach((a, j) => {
      const [x, y] = pos(a);
      const r = (3 + 13 * Math.sqrt(w.target[j] / pmax)) * scale;
      ctx.fillStyle = colors.target;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fill();
      // visits: a bar outward, as long as the visit share relative to the largest target
      const share = counts[j] / kept / pmax;
      if (share > 0) {
        ctx.strokeStyle = colors.visits;
        ctx.lineWidth = 4 * scale;
        ctx.beginPath();
        ctx.moveTo(...pos(a, R + r + 2 * scale));
        ctx.lineTo(...pos(a, R + r + 2 * scale + share * R * 0.18));
        ctx.stroke();
      }
    });
    const d = this.last;
    if (d) {
      const prevState = d.accepted ? this.prevState(d) : d.state;
      const col = d.accepted ? colors.ok : colors.no;
      ctx.lineWidth = 3 * scale;
      ctx.strokeStyle = col;
      if (prevState >= 0 && prevState !== d.proposed) {
        ctx.beginPath();
        ctx.moveTo(...pos(w.angles[prevState]));
        ctx.lineTo(...pos(w.angles[d.proposed]));
        ctx.stroke();
      }
      ring(ctx, ...pos(w.angles[d.proposed]), 12 * scale, col, 3 * scale);
      if (d.state >= 0) ring(ctx, ...pos(w.angles[d.state]), 18 * scale, colors.fg, 3 * scale);
    }
    ctx.fillStyle = colors.fg;
    ctx.font = `${font}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    ctx.fillText(`t = ${this.stats.t}`, 8 * scale, 8 * scale);
    ctx.fillText(`β = ${w.config.beta}`, 8 * scale, 8 * scale + font * 1.3);
  }

  // prevState is the state before an accepted step: the state after the step before it.
  prevState(d) {
    const i = this.trace.length - 1;
    if (this.trace[i] === d && i > 0) return this.trace[i - 1].state;
    return -1;
  }

  // ---- charts -----------------------------------------------------------------------------------
  makeCharts() {
    if (typeof Chart === 'undefined') return;
    for (const c of Object.values(this.charts ?? {})) c.destroy();
    const w = this.world;
    const labels = w.angles.map((a) => Math.round((a * 180) / Math.PI));
    const burn = () => this.s.burnin;
    this.charts = {
      hist: new Chart($('p2-hist'), {
        data: {
          labels,
          datasets: [
            { type: 'bar', label: t('hist_visits'), data: labels.map(() => 0), backgroundColor: colors.visits },
            { type: 'line', label: t('hist_target'), data: w.target, borderColor: colors.fg, pointRadius: 0, borderWidth: 2 },
          ],
        },
        options: { animation: false, maintainAspectRatio: false, scales: { x: { title: { display: true, text: t('hist_x') } } } },
      }),
      rate: new Chart($('p2-rate-chart'), {
        type: 'line',
        data: { datasets: [{ label: t('rate_label'), data: [], borderColor: colors.accent, pointRadius: 0, borderWidth: 2 }] },
        options: {
          animation: false, maintainAspectRatio: false, parsing: false,
          scales: { x: { type: 'linear', min: 0, title: { display: true, text: t('chain_length') } }, y: { min: 0, max: 1 } },
          plugins: { burnin: { until: burn, label: t('burnin_band') } },
        },
        plugins: [burnInBand],
      }),
      tv: new Chart($('p2-tv-chart'), {
        type: 'line',
        data: {
          datasets: [
            { label: t('tv_chain'), data: [], borderColor: colors.accent, pointRadius: 0, borderWidth: 2 },
            { label: t('tv_indep'), data: [], borderColor: colors.muted, borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
          ],
        },
        options: {
          animation: false, maintainAspectRatio: false, parsing: false,
          scales: { x: { type: 'logarithmic', min: 1, title: { display: true, text: t('chain_length') } }, y: { type: 'logarithmic', max: 1 } },
          plugins: { burnin: { until: burn, label: t('burnin_band') } },
        },
        plugins: [burnInBand],
      }),
      simclr: new Chart($('p2-simclr'), {
        data: {
          labels,
          datasets: [
            { type: 'bar', label: t('simclr_weight'), data: [], backgroundColor: colors.simclr },
            { type: 'line', label: t('hist_target'), data: w.target, borderColor: colors.fg, pointRadius: 0, borderWidth: 2 },
          ],
        },
        options: { animation: false, maintainAspectRatio: false, scales: { x: { title: { display: true, text: t('hist_x') } } } },
      }),
      simclrTV: new Chart($('p2-simclr-tv'), {
        type: 'line',
        data: {
          labels: w.in_batch.map((b) => b.b),
          datasets: [
            { label: t('simclr_tv'), data: w.in_batch.map((b) => b.tv), borderColor: colors.simclr, borderWidth: 2 },
            { label: t('simclr_chain'), data: [], borderColor: colors.accent, borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
          ],
        },
        options: { animation: false, maintainAspectRatio: false, scales: { x: { title: { display: true, text: t('batch') } }, y: { min: 0 } } },
      }),
    };
    this.drawSimCLR();
  }

  updateCharts() {
    const c = this.charts;
    if (!c) return;
    const st = this.stats;
    c.hist.data.datasets[0].data = st.counts.map((n) => (st.kept ? n / st.kept : 0));
    c.hist.update('none');
    c.rate.data.datasets[0].data = this.rateSeries;
    c.rate.options.scales.x.max = Math.max(st.t, this.s.burnin, 10);
    c.rate.update('none');
    c.tv.data.datasets[0].data = this.tvSeries;
    c.tv.data.datasets[1].data = this.indepSeries;
    c.tv.options.scales.x.max = Math.max(st.t, this.s.burnin * 2, 10);
    c.tv.update('none');
    c.simclrTV.data.datasets[1].data = st.kept ? this.world.in_batch.map(() => st.tv) : [];
    c.simclrTV.update('none');
  }

  fillBatchSelect() {
    const sel = $('p2-b');
    sel.replaceChildren();
    for (const b of this.world.in_batch) {
      const o = document.createElement('option');
      o.value = b.b;
      o.textContent = b.b === this.world.config.points ? `${b.b} (all)` : String(b.b);
      sel.append(o);
    }
    const have = this.world.in_batch.map((b) => b.b);
    if (!have.includes(this.s.b)) this.s.b = have.reduce((a, b) => (Math.abs(b - this.s.b) < Math.abs(a - this.s.b) ? b : a), have[0]);
    sel.value = this.s.b;
  }

  drawSimCLR() {
    const ib = this.world?.in_batch.find((b) => b.b === this.s.b);
    if (!ib) return;
    $('p2-simclr-out').textContent = t('p2_simclr_out', { b: ib.b, tv: fmt(ib.tv, 3), bias: fmt(ib.log_z_bias, 3) });
    if (this.charts) {
      this.charts.simclr.data.datasets[0].data = ib.weights;
      this.charts.simclr.update('none');
    }
  }

  relabel() {
    if (this.world) this.makeCharts();
    this.showValues();
    if (this.stats) this.render(true);
  }
}

// thin halves a series once it grows past 2,000 points, keeping the latest.
function thin(series) {
  if (series.length <= 2000) return;
  const kept = series.filter((_, i) => i % 2 === 0 || i === series.length - 1);
  series.splice(0, series.length, ...kept);
}

function ring(ctx, x, y, r, color, width) {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.stroke();
}

function star(ctx, x, y, r, color) {
  ctx.fillStyle = color;
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const rr = i % 2 ? r * 0.45 : r;
    ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
  ctx.fill();
}
