// End-to-end tests of the teaching page (web/app/teach.html, served by `bin/emc2 serve`) in headless
// Chromium, on Mesa lavapipe (as the trainer's tests) and again without WebGPU (the page needs none):
//
//   - the page loads both parts with no console error and no request outside its origin;
//   - stepping the chain (Step button, → key, Play) moves it exactly as core/mcmc does natively for
//     the same seed: every decision equals the one web/internal/teachref computes;
//   - at β = 2 the TV distance the page reports falls with chain length and equals the native one;
//   - β in the URL changes the target (to the native target for that β); keys and language work;
//   - part 3's live training run (core/teach.Live on the CPU backend, in the worker) steps by button,
//     key and Play, follows a clicked anchor's chain, and shows per decision exactly what a native run
//     of the same setting does (web/internal/teachref -live), with α = min(1, exp(q − score)); the
//     fresh and the paper sampler, on lavapipe and without WebGPU;
//   - screenshots of each part land in web/build/screenshots/teach-*.png (part 3: teach-part3*.png).
//
// Every wait is on page state, with generous ceilings. Needs bin/emc2 built with the web app and
// its encoder asset (`make build`). Usage: node web/test/teach_test.mjs
// Environment: CHROMIUM (default /usr/bin/chromium); CI=true turns a missing browser into a failure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { adapters, baseArgs, chromiumPath, loadChromium, serve, stopServer } from './browser.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/emc2');
const teachref = path.join(repo, 'web/build/teachref');
const shots = path.join(repo, 'web/build/screenshots');
const lavapipe = adapters.find((a) => a.name === 'lavapipe');

const chromium = await loadChromium('teaching page tests');
for (const [f, how] of [[bin, 'make build'], [teachref, 'go build -o web/build/teachref ./web/internal/teachref']]) {
  if (!existsSync(f)) {
    console.error(`teach_test: ${path.relative(repo, f)} is missing; run \`${how}\` (make test-teach does both)`);
    process.exit(2);
  }
}
mkdirSync(shots, { recursive: true });

// native runs web/internal/teachref: core/teach's chain, natively.
function native(setting, steps, lengths) {
  const args = ['-points', setting.points, '-beta', setting.beta, '-burnin', setting.burnin, '-seed', setting.seed,
    '-steps', steps, '-lengths', lengths.join(',')].map(String);
  const r = spawnSync(teachref, args, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `teachref failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

// nativeLive runs web/internal/teachref -live: part 3's training run, natively on the CPU backend.
function nativeLive(cfg, steps) {
  const args = ['-live', '-images', cfg.images, '-batch', cfg.batch, '-epochs', cfg.epochs, '-variant', cfg.variant,
    '-seed', cfg.seed, '-steps', steps].map(String);
  const r = spawnSync(teachref, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `teachref -live failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---- server, browsers ---------------------------------------------------------------------------------
let srv;
let base;
const browsers = [];
const requests = [];
const consoleErrors = [];

before(async () => {
  ({ srv, base } = await serve(bin));
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  stopServer(srv);
});

async function openPage(args, query) {
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args });
  browsers.push(browser);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await goto(page, query);
  return page;
}

async function goto(page, query) {
  await page.goto(`${base}teach.html?${new URLSearchParams(query)}`);
  await until(page, () => window.teach?.p2?.ready && window.teach.p1.ready, 180_000);
  assert.deepEqual(await page.evaluate(() => window.teach.errors), []);
}

const until = (page, fn, timeout = 120_000, arg = null) => page.waitForFunction(fn, arg, { timeout, polling: 100 });
const p2 = (page) => page.evaluate(() => ({ trace: window.teach.p2.trace, stats: window.teach.p2.stats, world: window.teach.p2.world }));

// close compares float64 values derived through math.Exp: Go's Exp is assembly on amd64 and pure Go
// in WebAssembly, so the last bit may differ. The decisions themselves must be identical.
const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} on the page, ${b} natively`);
const closeAll = (a, b, what) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => close(x, b[i], `${what}[${i}]`));
};

// sameStep compares a page step with a native one: every decision and float32 number exactly (the
// page runs the same Go code, compiled to WebAssembly), the displayed acceptance probability closely.
function sameStep(got, want, i) {
  for (const k of ['t', 'proposed', 'accepted', 'state', 'burn_in', 'q', 'score', 'u']) {
    assert.equal(got[k], want[k], `step ${i}: ${k} is ${got[k]} on the page, ${want[k]} natively`);
  }
  close(got.accept_prob, want.accept_prob, `step ${i}: acceptance probability`);
}

async function stepAndCompare(page, setting) {
  // 10 steps with the button, 10 with the → key, each waited for
  for (let i = 0; i < 20; i++) {
    if (i < 10) await page.click('#p2-step');
    else {
      await page.locator('#p2-circle').focus().catch(() => {});
      await page.keyboard.press('ArrowRight');
    }
    await until(page, (n) => window.teach.p2.trace.length === n, 30_000, i + 1);
  }
  // then play at 1,000 steps per second (the speed slider, by keyboard: 20 → 100 → 1,000) to 1,500 steps
  await page.focus('#p2-speed');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.inputValue('#p2-speed'), '4');
  await page.click('#p2-play');
  await until(page, () => window.teach.p2.stats.t >= 1500, 120_000);
  await page.click('#p2-play');
  await until(page, () => document.querySelector('#p2-play').getAttribute('aria-pressed') === 'false' && !window.teach.p2.busy, 30_000);
  const s = await p2(page);
  assert.equal(s.trace.length, s.stats.t, 'every step was recorded');
  const ref = native(setting, s.stats.t, [s.stats.t]);
  s.trace.forEach((st, i) => sameStep(st, ref.steps[i], i));
  close(s.stats.tv, ref.tv[0], 'TV after the same steps');
  assert.equal(s.stats.accept_rate, ref.accept_rate[0]);
  return s;
}

const setting = { points: 40, beta: 2, burnin: 100, seed: 1 };
const query = { ...setting, run: 0 };

// ---- lavapipe ------------------------------------------------------------------------------------------
let page;
test('the page loads both parts (lavapipe)', async () => {
  const t0 = Date.now();
  page = await openPage([...baseArgs, ...lavapipe.args], query);
  console.log(`# both parts ready ${Date.now() - t0} ms after launch`);
  const g = await page.evaluate(() => window.teach.p1.gallery);
  assert.equal(g.pool, 300);
  const v = await page.evaluate(() => window.teach.p1.view);
  assert.equal(v.hard.length, 6);
  assert.equal(v.random.length, 6);
  for (let i = 0; i < v.hard.length; i++) {
    assert.notEqual(v.hard[i].label, v.anchor.label, 'hard negatives are of other classes');
    if (i > 0) assert.ok(v.hard[i].sim <= v.hard[i - 1].sim);
  }
  assert.match(await page.textContent('#p1-summary'), /Pool of 300 images/);
  const s = await p2(page);
  assert.equal(s.stats.t, 0);
  assert.equal(s.world.target.length, 40);
  assert.match(await page.textContent('#p2-decision'), /No step yet/);
  await page.locator('#part1').screenshot({ path: path.join(shots, 'teach-1-negatives.png') });
});

test('stepping moves the chain exactly as core/mcmc does natively', async () => {
  const s = await stepAndCompare(page, setting);
  assert.match(await page.textContent('#p2-decision'), /Step \d+: proposed point \d+ .* → (accepted|rejected)/);
  console.log(`# ${s.stats.t} steps identical to the native chain; acceptance ${(100 * s.stats.accept_rate).toFixed(1)}%, TV ${s.stats.tv.toFixed(4)}`);
  await page.locator('#part2').screenshot({ path: path.join(shots, 'teach-2-chain.png') });
});

test('at β = 2 the TV distance falls with chain length and matches the native one', async () => {
  await page.click('#p2-reset');
  await until(page, () => window.teach.p2.ready && window.teach.p2.stats.t === 0, 30_000);
  await page.focus('#p2-speed');
  await page.keyboard.press('End');
  assert.equal(await page.inputValue('#p2-speed'), '5');
  await page.click('#p2-play');
  const seen = [];
  for (const L of [1000, 10000, 60000]) {
    await until(page, (n) => window.teach.p2.stats.t >= n, 300_000, L);
    seen.push(await page.evaluate(() => ({ t: window.teach.p2.stats.t, tv: window.teach.p2.stats.tv })));
  }
  await page.click('#p2-play');
  await until(page, () => !window.teach.p2.busy, 30_000);
  const ref = native(setting, 0, seen.map((x) => x.t));
  seen.forEach((x, i) => close(x.tv, ref.tv[i], `TV at ${x.t} steps`));
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].tv < seen[i - 1].tv, `TV falls: ${JSON.stringify(seen)}`);
  console.log(`# TV at β = 2: ${seen.map((x) => `${x.t} steps ${x.tv.toFixed(4)}`).join(', ')}`);
});

test('β in the URL sets the target', async () => {
  await goto(page, { ...query, beta: 5 });
  const w = (await p2(page)).world;
  const ref = native({ ...setting, beta: 5 }, 0, [0]);
  closeAll(w.target, ref.target, 'target at β = 5');
  const ref2 = native(setting, 0, [0]);
  const tv = w.target.reduce((a, p, i) => a + Math.abs(p - ref2.target[i]) / 2, 0);
  assert.ok(Math.max(...w.target) > Math.max(...ref2.target) && tv > 0.1, `β = 5 concentrates the target more than β = 2 (TV between them ${tv})`);
  assert.equal(await page.inputValue('#p2-beta'), '5');
});

test('keys play, pause and reset; the language switches; part 3 is shown', async () => {
  await goto(page, { ...query, speed: 2 });
  await page.locator('#p2-circle').click();
  await page.keyboard.press(' ');
  await until(page, () => window.teach.p2.stats.t > 5, 30_000);
  await page.keyboard.press(' ');
  await until(page, () => document.querySelector('#p2-play').getAttribute('aria-pressed') === 'false', 10_000);
  await page.keyboard.press('r');
  await until(page, () => window.teach.p2.ready && window.teach.p2.stats.t === 0, 30_000);
  await page.selectOption('#lang', 'ja');
  await until(page, () => document.documentElement.lang === 'ja', 10_000);
  assert.match(await page.textContent('h1'), /ハードネガティブ/);
  assert.match(page.url(), /lang=ja/);
  await page.locator('#part3').screenshot({ path: path.join(shots, 'teach-3-training.png') });
  // a projector view: part 2 in Japanese, after a few hundred steps at β = 5
  await goto(page, { ...query, beta: 5, run: 400, lang: 'ja', part: 2 });
  await page.click('#p2-step');
  await until(page, () => window.teach.p2.stats.t === 401, 30_000);
  await page.locator('#part2').screenshot({ path: path.join(shots, 'teach-2-chain-ja.png') });
  await page.selectOption('#lang', 'en');
});

// ---- without WebGPU ------------------------------------------------------------------------------------
test('without WebGPU the page works the same', async () => {
  const plain = await openPage(baseArgs.filter((a) => !/webgpu/.test(a)), query);
  assert.equal(await plain.evaluate(async () => !!navigator.gpu && !!(await navigator.gpu.requestAdapter().catch(() => null))), false, 'no WebGPU adapter');
  await stepAndCompare(plain, setting);
  assert.equal((await plain.evaluate(() => window.teach.p1.view)).hard.length, 6);
  await plain.context().close();
});

// ---- part 3: the chains inside training ---------------------------------------------------------------
const p3 = (page) => page.evaluate(() => window.teach.p3.report);
const p3Idle = (page, n) => until(page, (k) => window.teach.p3.steps === k && !window.teach.p3.busy, 120_000, n);

// checkWalk checks the followed chain's decisions on the page: a sweep's 2·2B of them, the table's rows,
// α against the shown q and score, and each decision against the native run's, field by field.
async function checkWalk(page, rep, ref, B) {
  const f = rep.follow;
  const r = f.replay;
  assert.equal(r.decisions.length, 4 * B, 'two views × 2B proposals');
  assert.equal(r.decisions.filter((d) => d.own).length, 4, 'the anchor\'s own two views, in each view\'s sweep');
  const acc = r.decisions.filter((d) => d.accepted).length;
  assert.equal(r.decisions.filter((d) => d.recorded).length, 2 * r.norm, 'M recorded per view');
  assert.equal(r.decisions.filter((d) => d.burn_in).length, 2 * r.burn_in, 'P burn-in steps per view');
  rep.follow_alpha.forEach((a, i) => {
    const d = r.decisions[i];
    if (d.own) return assert.equal(a, 0);
    // q and score reach JSON as float32s written shortest, which parse a hair off their exact values
    const want = Math.min(1, Math.exp(d.q - d.score));
    assert.ok(Math.abs(a - want) <= 1e-5 * want, `decision ${i}: α ${a}, min(1, exp(q − score)) = ${want}`);
    if (Math.abs(Math.log(d.u) - (d.q - d.score)) > 1e-5) assert.equal(d.accepted, d.u <= a, `decision ${i}: accepted ⇔ u ≤ α`);
  });
  const rows = await page.$$eval('#p3-walk tbody tr', (trs) => trs.map((tr) => ({ cls: tr.className, cells: [...tr.cells].map((c) => c.textContent) })));
  assert.equal(rows.length, 4 * B, 'a table row per decision');
  rows.forEach((row, i) => {
    const d = r.decisions[i];
    assert.match(row.cls, d.own ? /own/ : d.accepted ? /ok/ : /no/, `row ${i}`);
    if (!d.own) assert.equal(row.cells[3], d.q.toFixed(3), `row ${i}: q shown`);
    if (!d.own) assert.equal(row.cells[5], rep.follow_alpha[i].toFixed(3), `row ${i}: α shown`);
  });
  // natively, the same step of the same run: every decision identical
  const tr = ref.traces[f.step];
  assert.equal(tr.step, f.step);
  assert.deepEqual(rep.batch.map((c) => c.image), ref.traces.at(-1).batch, 'the same batches (the same shuffle)');
  const want = tr.chains.find((c) => c.image === f.anchor);
  assert.ok(want, `image ${f.anchor} is in the native batch of step ${f.step}`);
  sameSweep(r, want, `step ${f.step}, chain of #${f.anchor}`);
  assert.deepEqual(f.columns.slice(0, 2 * B), tr.batch.concat(tr.batch));
  return acc;
}

// near compares float32 scores: training goes through math.Exp and Log, assembly natively and Go in
// WebAssembly, so the weights (and so the similarities) may differ in the last bits of a float32.
const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} on the page, ${b} natively`);

// sameSweep compares a chain's sweep with the native one: every decision (proposal, draw u,
// acceptance, state, recording) exactly, the scores to float32 precision.
function sameSweep(got, want, what) {
  for (const k of ['chain', 'image', 'variant', 'burn_in', 'norm', 'column']) assert.equal(got[k], want[k], `${what}: ${k}`);
  for (const k of ['before', 'after']) {
    assert.equal(got[k].index, want[k].index, `${what}: ${k} state`);
    near(got[k].score, want[k].score, `${what}: ${k} score`);
  }
  assert.equal(got.decisions.length, want.decisions.length);
  got.decisions.forEach((d, i) => {
    const w = want.decisions[i];
    for (const k of ['view', 'row', 'j', 'column', 'own', 'u', 'accepted', 'state', 'recorded', 'burn_in', 'dropped']) {
      assert.equal(d[k], w[k], `${what}, decision ${i}: ${k} is ${d[k]} on the page, ${w[k]} natively`);
    }
    near(d.q, w.q, `${what}, decision ${i}: q`);
    near(d.score, w.score, `${what}, decision ${i}: score`);
  });
}

// checkRun compares the page's per-step history and chain summaries with the native run.
function checkRun(rep, ref) {
  assert.equal(rep.history.length, ref.history.length);
  rep.history.forEach((h, i) => {
    const w = ref.history[i];
    for (const k of ['step', 'accepted', 'proposals', 'with_state']) assert.equal(h[k], w[k], `step ${i}: ${k}`);
    assert.equal(h.accept_rate, w.accept_rate, `step ${i}: acceptance`); // counts: exact
    assert.equal(h.accept_rate, h.accepted / h.proposals, `step ${i}: the trainer's statistic is the replays' count`);
    // the loss goes through math.Exp and Log (assembly natively, Go in WebAssembly) into a float32
    assert.ok(Math.abs(h.loss - w.loss) <= 1e-6 * Math.max(1, w.loss), `step ${i}: loss ${h.loss} vs ${w.loss}`);
    assert.ok(Math.abs(h.stale_gap - w.stale_gap) <= 1e-4 * Math.max(1, w.stale_gap), `step ${i}: stale gap ${h.stale_gap} vs ${w.stale_gap}`);
  });
  const last = ref.batches[ref.batches.length - 1];
  rep.batch.forEach((c, k) => {
    for (const key of ['k', 'image', 'label', 'step', 'accepted', 'recorded', 'before', 'after', 'has_state', 'stored_age', 'fresh_kind']) {
      assert.equal(c[key], last[k][key], `chain ${k}: ${key}`);
    }
    near(c.stored, last[k].stored, `chain ${k}: stored score`);
    near(c.fresh, last[k].fresh, `chain ${k}: fresh score`);
  });
}

const live = { images: 64, batch: 8, epochs: 10, seed: 7 };
const liveQuery = (variant, extra = {}) => ({ ...query, part: 3, v3: variant, n3: live.images, b3: live.batch, seed3: live.seed, ...extra });

// livePart3 drives part 3 on a page: steps by button, key and Play, follows a clicked anchor to its next
// visit, and compares everything with the native run. Returns what a learner saw, for the log.
async function livePart3(page, variant, shot) {
  await goto(page, liveQuery(variant));
  await until(page, () => window.teach.p3.ready && !window.teach.p3.busy, 180_000);
  let rep = await p3(page);
  assert.equal(rep.step, 0);
  assert.equal(rep.variant, variant);
  assert.match(await page.textContent('#p3-anchors'), /No step yet/);
  await page.click('#p3-step');
  await p3Idle(page, 1);
  await page.keyboard.press('t');
  await p3Idle(page, 2);
  await page.focus('#p3-step');
  await page.keyboard.press('ArrowRight'); // inside part 3, → trains a step (part 2 ignores it)
  await p3Idle(page, 3);
  assert.equal((await page.evaluate(() => window.teach.p2.stats.t)), 0, 'part 2 did not move');
  await page.click('#p3-play');
  await until(page, () => window.teach.p3.steps >= 5, 120_000);
  await page.keyboard.press('p');
  await until(page, () => document.querySelector('#p3-play').getAttribute('aria-pressed') === 'false' && !window.teach.p3.busy, 120_000);
  rep = await p3(page);
  assert.equal(rep.batch.length, live.batch);
  // follow the third anchor of the batch: click its thumbnail, then train to its next visit by key
  const a = rep.batch[2].image;
  await page.click(`#p3-anchors button[data-image="${a}"]`);
  await until(page, (i) => window.teach.p3.report.follow?.anchor === i && !window.teach.p3.busy, 60_000, a);
  assert.match(page.url(), new RegExp(`follow=${a}`));
  assert.equal(await page.getAttribute(`#p3-anchors button[data-image="${a}"]`, 'aria-pressed'), 'true');
  rep = await p3(page);
  const next = rep.follow.next;
  assert.ok(next >= rep.step, `its next visit (${next}) is ahead`);
  await page.keyboard.press('n');
  await until(page, (s) => window.teach.p3.report.follow?.step === s && !window.teach.p3.busy, 300_000, next);
  rep = await p3(page);
  assert.equal(rep.step, next + 1);
  assert.equal(rep.follow.anchor, a);
  assert.ok(rep.follow.visits.length >= 2, 'two visits of the chain');
  assert.equal(rep.follow.visits.at(-1).step, next);
  const ref = nativeLive({ ...live, variant }, rep.step);
  const acc = await checkWalk(page, rep, ref, live.batch);
  checkRun(rep, ref);
  // the walk seen over the whole run: some decisions accepted and some rejected
  const all = rep.follow.visits.reduce((n, v) => n + v.accepted, 0);
  assert.ok(all > 0, 'some proposals accepted');
  assert.ok(rep.history.some((h) => h.accepted < h.proposals), 'some proposals rejected');
  const fc = rep.follow_chain;
  assert.ok(fc.has_state, 'in its second visit the chain has a state');
  assert.equal(fc.stored, rep.follow.replay.before.score, 'the stored score is the state the sweep started from');
  if (variant === 'fresh') assert.equal(fc.fresh, rep.follow.replay.decisions[0].score, 'fresh: the sweep starts from the re-score');
  assert.match(await page.textContent('#p3-scores'), /Stored score .* fresh score/);
  await page.locator('#part3').screenshot({ path: path.join(shots, shot) });
  return { steps: rep.step, acc, rates: rep.history.map((h) => h.accept_rate), gap: fc.stored - fc.fresh, stored: fc.stored, fresh: fc.fresh, anchor: a };
}

const logLive = (variant, s) => console.log(`# part 3 (${variant}): ${s.steps} steps, every decision identical to the native run's (scores to float32 precision); followed #${s.anchor}: ` +
  `${s.acc} accepted in its last sweep, stored ${s.stored.toFixed(3)} vs fresh ${s.fresh.toFixed(3)} (gap ${s.gap.toFixed(3)}); ` +
  `acceptance per step ${s.rates.map((r) => (100 * r).toFixed(0)).join(' ')} %`);

test('part 3: the live run follows a chain decision by decision, as natively (lavapipe, fresh)', async () => {
  page ??= await openPage([...baseArgs, ...lavapipe.args], query); // when run alone (--test-name-pattern)
  logLive('fresh', await livePart3(page, 'fresh', 'teach-part3-fresh.png'));
});

test('part 3: the paper sampler, in Japanese, opened at a later step from the URL (lavapipe)', async () => {
  await goto(page, liveQuery('paper', { at: 12, lang: 'ja' }));
  await until(page, () => window.teach.p3.ready && !window.teach.p3.busy && window.teach.p3.steps === 12, 300_000);
  const rep = await p3(page);
  assert.equal(await page.inputValue('#p3-variant'), 'paper');
  const ref = nativeLive({ ...live, variant: 'paper' }, 12);
  checkRun(rep, ref);
  await checkWalk(page, rep, ref, live.batch);
  assert.ok(rep.batch.every((c) => c.fresh_kind === 'plain'));
  assert.ok(rep.batch.some((c) => c.has_state && c.stored !== c.fresh));
  assert.match(await page.textContent('#p3-walk-title'), /の連鎖/);
  await page.locator('#part3').screenshot({ path: path.join(shots, 'teach-part3-paper-ja.png') });
  await page.selectOption('#lang', 'en');
});

test('part 3 without WebGPU (paper sampler)', async () => {
  const plain = await openPage(baseArgs.filter((a) => !/webgpu/.test(a)), liveQuery('paper'));
  logLive('paper, no WebGPU', await livePart3(plain, 'paper', 'teach-part3-paper.png'));
  await plain.context().close();
});

test('no request left the page origin, and the console stayed clean', () => {
  const origin = new URL(base).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, []);
  assert.ok(requests.some((u) => u.endsWith('/dist/emc2.wasm')), 'the engine was fetched from the origin');
  assert.ok(requests.some((u) => u.endsWith('/teach/encoder.safetensors')), 'the encoder was fetched from the origin');
  assert.deepEqual(consoleErrors, []);
});
