// Part 3: the chains inside a real training run. The Go engine in the worker (core/teach.Live) trains
// a small EMC² run on the CPU backend, one step at a time, and traces every step: core/train replays
// each chain's sweep with core/mcmc from the step's own similarity matrix. This module only draws
// what comes back — the batch's anchors, the candidate columns, the followed chain's decisions (the
// trainer's chain-inspector report, α included), the stored score beside the fresh one, and the
// per-step acceptance — and keeps the run's settings in the address bar.
import { t } from './i18n.js';
import { $, fmt, colors, drawThumb } from './ui.js';

const epochs = 10;
const maxPerCall = 128; // the engine's limit per teach-live-step

export class Part3 {
  constructor(engine, state, onState, onError) {
    this.engine = engine;
    this.s = state;
    this.onState = onState;
    this.onError = onError;
    this.rep = null;
    this.playing = false;
    this.generation = 0; // bumps on every restart, so answers for an older run are ignored
    this.queue = Promise.resolve(); // engine calls, one after another
    this.pending = 0;
    this.charts = null;
    this.hook = { ready: false, busy: false, report: null, steps: 0, follow: -1, generation: 0 };
  }

  // ---- controls ---------------------------------------------------------------------------------
  bind() {
    const s = this.s;
    const selects = [['p3-variant', 'v3', String], ['p3-images', 'n3', Number], ['p3-batch', 'b3', Number]];
    for (const [id, key, conv] of selects) {
      const el = $(id);
      if (![...el.options].some((o) => o.value === String(s[key]))) el.append(new Option(String(s[key]), String(s[key])));
      el.value = String(s[key]);
      el.addEventListener('change', () => {
        s[key] = conv(el.value);
        this.onState();
        this.reset();
      });
    }
    $('p3-seed').value = s.seed3;
    $('p3-seed').addEventListener('change', () => {
      const v = Math.round(Number($('p3-seed').value));
      if (!Number.isFinite(v) || v < 0) return;
      s.seed3 = v;
      this.onState();
      this.reset();
    });
    $('p3-play').addEventListener('click', () => this.toggle());
    $('p3-step').addEventListener('click', () => this.train(1));
    $('p3-next').addEventListener('click', () => this.trainToNext());
    $('p3-reset').addEventListener('click', () => this.reset());
    document.addEventListener('keydown', (e) => {
      if (e.target.closest?.('input, select, textarea') || e.altKey || e.ctrlKey || e.metaKey) return;
      const inside = !!e.target.closest?.('#part3');
      const onButton = !!e.target.closest?.('button');
      if (e.key === 't' || e.key === 'T' || (inside && e.key === 'ArrowRight')) {
        e.preventDefault();
        this.train(1);
      } else if (e.key === 'p' || e.key === 'P' || (inside && e.key === ' ' && !onButton)) {
        e.preventDefault();
        this.toggle();
      } else if (e.key === 'n' || e.key === 'N') {
        this.trainToNext();
      }
    });
    this.showPlay();
  }

  showPlay() {
    $('p3-play').textContent = t(this.playing ? 'pause' : 'p3_play');
    $('p3-play').setAttribute('aria-pressed', String(this.playing));
  }

  config() {
    const s = this.s;
    return { images: s.n3, batch: Math.min(s.b3, s.n3), epochs, variant: s.v3, seed: s.seed3 };
  }

  anchor() {
    return this.s.follow < this.s.n3 ? this.s.follow : -1;
  }

  // ---- the engine -------------------------------------------------------------------------------
  // call queues one engine call; the answer is drawn only if the run is still the one it was for.
  call(cmd, args) {
    const gen = this.generation;
    this.pending++;
    this.hook.busy = true;
    const p = this.queue.then(async () => {
      if (gen !== this.generation) return null;
      const rep = await this.engine.call(cmd, { ...args, anchor: this.anchor() }, 'teach-live');
      if (gen !== this.generation) return null;
      this.show(rep);
      return rep;
    });
    this.queue = p.catch((e) => {
      this.pause();
      this.onError(e);
    }).finally(() => {
      this.pending--;
      this.hook.busy = this.pending > 0;
    });
    return this.queue;
  }

  async reset() {
    this.generation++;
    this.hook.generation = this.generation;
    this.pause();
    this.hook.ready = false;
    this.rep = null;
    this.followSeries = null;
    await this.call('teach-live', { live: this.config() });
    for (let left = this.s.at; left > 0 && this.rep && this.rep.step < this.rep.total; left -= maxPerCall) {
      await this.call('teach-live-step', { n: Math.min(left, maxPerCall) });
    }
    if (this.rep) this.hook.ready = true;
  }

  train(n) {
    if (!this.rep || this.rep.step >= this.rep.total) return this.queue;
    return this.call('teach-live-step', { n: Math.min(n, maxPerCall) });
  }

  // trainToNext trains until the followed chain's image is in a batch again.
  async trainToNext() {
    const next = this.rep?.follow?.next;
    if (next === undefined || next < 0) return;
    while (this.rep && this.rep.step <= next) {
      const before = this.rep.step;
      await this.train(next + 1 - this.rep.step);
      if (!this.rep || this.rep.step === before) return;
    }
  }

  follow(image) {
    this.s.follow = image;
    this.hook.follow = image;
    this.onState();
    return this.call('teach-live-follow', {});
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  async play() {
    if (this.playing || !this.rep) return;
    this.playing = true;
    this.showPlay();
    const gen = this.generation;
    while (this.playing && gen === this.generation && this.rep && this.rep.step < this.rep.total) {
      await this.train(1);
      await new Promise((r) => requestAnimationFrame(r)); // let the page draw between steps
    }
    if (gen === this.generation) this.pause();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.showPlay();
  }

  // ---- drawing ----------------------------------------------------------------------------------
  show(rep) {
    this.rep = rep;
    this.hook.report = rep;
    this.hook.steps = rep.step;
    this.hook.follow = rep.follow ? rep.follow.anchor : -1;
    this.render();
  }

  cls(label) {
    return (label >= 0 && this.rep.classes?.[label]) || (label >= 0 ? `#${label}` : '');
  }

  thumb(i, px) {
    const cv = document.createElement('canvas');
    cv.width = cv.height = px;
    const pix = this.rep.images[String(i)];
    if (pix) drawThumb(cv, pix, this.rep.size);
    return cv;
  }

  render() {
    const rep = this.rep;
    if (!rep) return;
    const B = Math.min(this.s.b3, this.s.n3);
    $('p3-status').textContent = t('p3_status', {
      step: rep.step, total: rep.total, epoch: fmt(rep.step / rep.steps_per_epoch, 2), variant: rep.variant, b: B, p: rep.burn_in, m: rep.norm,
    });
    $('p3-step').disabled = $('p3-play').disabled = rep.step >= rep.total;
    $('p3-next').disabled = !(rep.follow && rep.follow.next >= 0);
    this.anchors();
    this.walk();
    this.chainTable();
    this.drawCharts();
  }

  anchors() {
    const rep = this.rep;
    const el = $('p3-anchors');
    el.replaceChildren();
    if (!rep.batch?.length) {
      const p = document.createElement('p');
      p.textContent = t('p3_no_step');
      el.append(p);
      return;
    }
    const followed = rep.follow?.anchor;
    for (const c of rep.batch) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'thumbbtn';
      b.dataset.image = c.image;
      b.setAttribute('aria-pressed', String(c.image === followed));
      const cap = document.createElement('span');
      cap.textContent = t('p3_anchor_cap', { k: c.k, i: c.image, cls: this.cls(c.label), acc: c.accepted });
      b.append(this.thumb(c.image, 84), cap);
      b.addEventListener('click', () => this.follow(c.image));
      el.append(b);
    }
  }

  walk() {
    const rep = this.rep;
    const f = rep.follow;
    const body = $('p3-walk').tBodies[0];
    body.replaceChildren();
    $('p3-columns').replaceChildren();
    $('p3-scores').textContent = '';
    if (!f) {
      $('p3-walk-title').textContent = t('p3_walk_title_none');
      $('p3-follow').textContent = '';
      return;
    }
    const name = `#${f.anchor} ${this.cls(f.anchor_label)}`;
    const next = f.next >= 0 ? t('p3_next_visit', { step: f.next + 1 }) : t('p3_no_next');
    if (!f.replay) {
      $('p3-walk-title').textContent = t('p3_walk_title_none');
      $('p3-follow').textContent = t('p3_follow_none', { name, next });
      return;
    }
    const r = f.replay;
    $('p3-walk-title').textContent = t('p3_walk_title', { name, step: f.step + 1 });
    const proposals = r.decisions.filter((d) => !d.own).length;
    const acc = r.decisions.filter((d) => d.accepted).length;
    const rec = r.decisions.filter((d) => d.recorded && !d.dropped).length;
    const drop = r.decisions.filter((d) => d.dropped).length;
    const after = r.after.index === 4294967295 ? t('p3_none') : `#${r.after.index}`;
    const where = f.step + 1 === rep.step ? '' : t('p3_older', { step: f.step + 1 });
    $('p3-follow').textContent = t('p3_follow_sum', { n: r.decisions.length, proposals, acc, rec, drop, after, next, where });
    const fc = rep.follow_chain;
    if (fc) {
      if (!fc.has_state) $('p3-scores').textContent = t('p3_scores_none');
      else {
        const key = fc.fresh_kind === 'sweep' ? 'p3_scores_sweep' : 'p3_scores_plain';
        $('p3-scores').textContent = t(key, { stored: fmt(fc.stored, 3), fresh: fmt(fc.fresh, 3), gap: fmt(fc.stored - fc.fresh, 3), age: fc.stored_age });
      }
    }
    this.columns(f, r);
    const alpha = rep.follow_alpha || [];
    r.decisions.forEach((d, i) => {
      const tr = document.createElement('tr');
      tr.className = d.own ? 'own' : d.accepted ? 'ok' : 'no';
      if (d.burn_in) tr.classList.add('burn');
      const img = f.columns[d.column];
      const colCell = document.createElement('td');
      colCell.className = 'colcell';
      const lab = document.createElement('span');
      lab.textContent = t('p3_col', { c: d.column, i: img, cls: this.cls(f.labels[d.column]) });
      colCell.append(this.thumb(img, 42), lab);
      const dec = d.own ? t('p3_own') : d.accepted ? t('p3_acc') : t('p3_rej');
      let inLoss = '—';
      if (d.recorded) inLoss = d.dropped ? t('p3_dropped') : t('p3_recorded', { c: d.state });
      else if (d.burn_in) inLoss = t('p3_burnin');
      const cells = [String(i + 1), String(d.view + 1), colCell, d.own ? '—' : fmt(d.q, 3), score(d.score),
        d.own ? '—' : fmt(alpha[i], 3), fmt(d.u, 3), dec, inLoss];
      for (const c of cells) {
        if (typeof c === 'string') {
          const td = document.createElement('td');
          td.textContent = c;
          tr.append(td);
        } else tr.append(c);
      }
      body.append(tr);
    });
  }

  // columns draws the candidates: the 2B in-batch views (and, for fresh, the B state images), with
  // the followed chain's own views, accepted proposals and final state marked.
  columns(f, r) {
    const B = r.decisions.length / 4; // a sweep makes 2B decisions per view
    const accepted = new Set(r.decisions.filter((d) => d.accepted).map((d) => d.column));
    const own = new Set(r.decisions.filter((d) => d.own).map((d) => d.column));
    const groups = [['p3_cols_v1', 0, B], ['p3_cols_v2', B, 2 * B]];
    if (f.columns.length > 2 * B) groups.push(['p3_cols_state', 2 * B, f.columns.length]);
    for (const [key, lo, hi] of groups) {
      const row = document.createElement('div');
      row.className = 'colrow';
      const h = document.createElement('span');
      h.className = 'rowlabel';
      h.textContent = t(key, { lo, hi: hi - 1 });
      row.append(h);
      for (let c = lo; c < hi; c++) {
        const fig = document.createElement('figure');
        fig.className = 'thumbfig small';
        if (own.has(c)) fig.classList.add('ownview');
        else if (accepted.has(c)) fig.classList.add('acc');
        if (c === r.column) fig.classList.add('final');
        const cap = document.createElement('figcaption');
        cap.textContent = `${c}`;
        fig.append(this.thumb(f.columns[c], 56), cap);
        row.append(fig);
      }
      $('p3-columns').append(row);
    }
    const legend = document.createElement('p');
    legend.className = 'note';
    legend.textContent = t('p3_cols_legend');
    $('p3-columns').append(legend);
  }

  chainTable() {
    const rep = this.rep;
    const body = $('p3-chains').tBodies[0];
    body.replaceChildren();
    for (const c of rep.batch || []) {
      const tr = document.createElement('tr');
      if (c.image === rep.follow?.anchor) tr.className = 'followed';
      const has = c.has_state;
      const cells = [String(c.k), `#${c.image} ${this.cls(c.label)}`, String(c.accepted), has ? fmt(c.stored, 3) : '—',
        has && c.stored_age >= 0 ? t('p3_age', { n: c.stored_age }) : '—', has ? fmt(c.fresh, 3) : '—', has ? fmt(c.stored - c.fresh, 3) : '—'];
      for (const x of cells) {
        const td = document.createElement('td');
        td.textContent = x;
        tr.append(td);
      }
      body.append(tr);
    }
  }

  drawCharts() {
    if (typeof Chart === 'undefined') return;
    const rep = this.rep;
    if (!this.charts) this.makeCharts();
    const B = Math.min(this.s.b3, this.s.n3);
    const perChain = 4 * (B - 1); // a chain's proposals in a step: 2B columns in two views, its own two views skipped
    const { accept, stale } = this.charts;
    accept.data.datasets[0].data = rep.history.map((h) => ({ x: h.step + 1, y: h.accept_rate }));
    accept.data.datasets[1].data = (rep.follow?.visits || []).map((v) => ({ x: v.step + 1, y: v.accepted / perChain }));
    accept.data.datasets[1].label = t('p3_chart_followed', { i: rep.follow?.anchor ?? '' });
    accept.update('none');
    stale.data.datasets[0].data = rep.history.filter((h) => h.with_state > 0).map((h) => ({ x: h.step + 1, y: h.stale_gap }));
    stale.update('none');
  }

  makeCharts() {
    this.charts?.accept.destroy();
    this.charts?.stale.destroy();
    const x = { type: 'linear', min: 1, title: { display: true, text: t('p3_chart_step') } };
    this.charts = {
      accept: new Chart($('p3-accept-chart'), {
        type: 'line',
        data: { datasets: [
          { label: t('p3_chart_batch'), data: [], borderColor: colors.accent, backgroundColor: colors.accent, pointRadius: 0, borderWidth: 2 },
          { label: t('p3_chart_followed', { i: '' }), data: [], borderColor: colors.anchor, backgroundColor: colors.anchor, showLine: false, pointRadius: 6 },
        ] },
        options: { animation: false, parsing: false, maintainAspectRatio: false,
          scales: { x, y: { min: 0, max: 1, title: { display: true, text: t('p3_chart_rate') } } } },
      }),
      stale: new Chart($('p3-stale-chart'), {
        type: 'line',
        data: { datasets: [
          { label: t('p3_chart_gap'), data: [], borderColor: colors.no, backgroundColor: colors.no, pointRadius: 2, borderWidth: 2 },
        ] },
        options: { animation: false, parsing: false, maintainAspectRatio: false,
          scales: { x, y: { min: 0, title: { display: true, text: t('p3_chart_gap_y') } } } },
      }),
    };
  }

  relabel() {
    this.showPlay();
    if (this.charts) this.makeCharts();
    this.render();
  }
}

// score shows a chain's stored log-score; a chain that has never accepted holds −MaxFloat32.
function score(x) {
  return x < -1e30 ? t('p3_none') : fmt(x, 3);
}
