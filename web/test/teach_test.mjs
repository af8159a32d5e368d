// End-to-end tests of the teaching page (web/app/teach.html, served by `bin/emc2 serve`) in headless
// Chromium, on Mesa lavapipe (as the trainer's tests) and again without WebGPU (the page needs none):
//
//   - the page loads both parts with no console error and no request outside its origin;
//   - stepping the chain (Step button, → key, Play) moves it exactly as core/mcmc does natively for
//     the same seed: every decision equals the one web/internal/teachref computes;
//   - at β = 2 the TV distance the page reports falls with chain length and equals the native one;
//   - β in the URL changes the target (to the native target for that β); keys and language work;
//   - screenshots of each part land in web/build/screenshots/teach-*.png.
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

test('no request left the page origin, and the console stayed clean', () => {
  const origin = new URL(base).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, []);
  assert.ok(requests.some((u) => u.endsWith('/dist/emc2.wasm')), 'the engine was fetched from the origin');
  assert.ok(requests.some((u) => u.endsWith('/teach/encoder.safetensors')), 'the encoder was fetched from the origin');
  assert.deepEqual(consoleErrors, []);
});
