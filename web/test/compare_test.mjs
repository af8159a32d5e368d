// End-to-end test of the page's Compare mode (web/app/views/compare.js, core/session Compare) in
// headless Chromium on lavapipe (WebGPU compatibility mode through ANGLE):
//
//   - a plan of two methods × one batch size × one seed on a small subset runs in the worker;
//   - a reload after the first finished run continues the plan from the browser's storage (OPFS)
//     without training that run again;
//   - the finished table (accuracies, global loss, health, floors) equals a native
//     `emc2 compare --backend gpu` of the same plan, with the trainer test's tolerance;
//   - the report downloads as Markdown and CSV, with the native report's columns.
//
// Every wait is tied to the page's state (window.emc2) with one generous ceiling, as in
// trainer_test.mjs. Usage: node web/test/compare_test.mjs [--adapter=lavapipe|swiftshader]

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, after, before } from 'node:test';
import { baseArgs, chromiumPath, pageTest, rel, serve, stopServer } from './browser.mjs';

const { bin, shots, ad, patience, chromium } = await pageTest('browser compare tests');

// The shared settings of every run (the page's training form, from the URL) and the plan: 320
// images, B = 16, 2 epochs (40 steps), evaluated every epoch on 200 held-out images.
const base = { batch: 16, epochs: 2, seed: 7, train_subset: 320, eval_subset: 320, test_subset: 200, global_size: 64, log_every: 5 };
const plan = { methods: ['simclr', 'emc2-fresh'], batches: [16], seeds: [7] };
// The trainer test's tolerance for evaluations (relative): both sides compute in fp32 on lavapipe
// through different shader compilers (see trainer_test.mjs).
const evalTol = 1e-3;

// nativeCompare runs `emc2 compare` on the same plan and returns its compare.json and compare.csv.
function nativeCompare() {
  const out = mkdtempSync(path.join(os.tmpdir(), 'emc2-compare-'));
  const flags = ['compare', '--backend', 'gpu', '--out', out, '--eval-every', '1',
    '--methods', plan.methods.join(','), '--batches', plan.batches.join(','), '--seeds', plan.seeds.join(','),
    '--epochs', base.epochs, '--train-subset', base.train_subset, '--eval-subset', base.eval_subset,
    '--test-subset', base.test_subset, '--global-size', base.global_size, '--log-every', base.log_every].map(String);
  const r = spawnSync(bin, flags, { encoding: 'utf8', timeout: patience });
  assert.equal(r.status, 0, `native compare failed (${r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`)}):\n${r.stderr}`);
  const dir = path.join(out, readdirSync(out)[0]);
  const res = {
    report: JSON.parse(readFileSync(path.join(dir, 'compare.json'), 'utf8')),
    csv: readFileSync(path.join(dir, 'compare.csv'), 'utf8'),
  };
  rmSync(out, { recursive: true, force: true });
  return res;
}

let srv;
let url;
let browser;
let page;
const consoleErrors = [];
const requests = [];
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: patience, polling: 250 });

function pageURL() {
  const u = new URL(url);
  for (const [k, v] of Object.entries(base)) u.searchParams.set(k, v);
  if (ad.compat) u.searchParams.set('compat', '1');
  return u.href;
}

let native;
before(async () => {
  native = nativeCompare();
  ({ srv, base: url } = await serve(bin));
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: [...baseArgs, ...ad.args], timeout: patience });
  const context = await browser.newContext({ acceptDownloads: true });
  context.setDefaultTimeout(patience);
  context.on('request', (r) => requests.push(r.url()));
  page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
});

after(async () => {
  await browser?.close().catch(() => {});
  stopServer(srv);
});

const ready = () => until(() => window.emc2.data !== null && window.emc2.compareSaved !== undefined && window.emc2.methods !== null);

test('a comparison starts, and a reload after its first run continues the plan', async () => {
  await page.goto(pageURL());
  await ready();
  assert.equal(await page.evaluate(() => window.emc2.compareSaved), null, 'a fresh profile has no kept comparison');
  for (const box of await page.$$('#cmp-methods input')) {
    const want = plan.methods.includes(await box.getAttribute('value'));
    if ((await box.isChecked()) !== want) await box.click();
  }
  await page.fill('#cmp-batches', plan.batches.join(','));
  await page.fill('#cmp-seeds', plan.seeds.join(','));
  await page.fill('#cmp-budget', '0');
  await page.click('#cmp-start');
  // The worker has stored the first finished run and the second is training: reload now.
  await until(() => window.emc2.compareSaved?.done?.length === 1 && window.emc2.compare?.progress?.index === 1);
  assert.match(await page.textContent('#cmp-status'), /run 2 of 2/);
  await page.reload();
  await ready();
  const saved = await page.evaluate(() => window.emc2.compareSaved);
  assert.equal(saved.done.length, 1);
  assert.deepEqual(saved.plan.methods, plan.methods);
  assert.equal(await page.isVisible('#cmp-continue'), true);
  assert.match(await page.textContent('#cmp-continue'), /1 run kept, 1 to go/);
  await page.click('#cmp-continue');
  await until(() => window.emc2.state === 'ready' && window.emc2.compare?.report?.results?.length === 2);
  assert.match(await page.textContent('#cmp-status'), /comparison finished: 2 runs/);
  assert.equal(await page.evaluate(() => window.emc2.events['compare-run']), 1, 'after the reload only the second run trained');
  assert.deepEqual(await page.evaluate(() => window.emc2.errors), []);
  await page.screenshot({ path: path.join(shots, '8-compare.png'), fullPage: true });
});

test("the page's table equals the native emc2 compare of the same plan", async () => {
  const r = await page.evaluate(() => window.emc2.compare.report);
  const n = native.report;
  assert.equal(r.rows.length, plan.methods.length);
  let worst = 0;
  const check = (what, a, b) => {
    assert.ok(a && b && a.n === b.n && a.n > 0, `${what}: ${JSON.stringify(a)} vs native ${JSON.stringify(b)}`);
    worst = Math.max(worst, rel(a.mean, b.mean));
    assert.ok(rel(a.mean, b.mean) <= evalTol, `${what}: page ${a.mean} vs native ${b.mean}`);
  };
  for (const row of r.rows) {
    const ref = n.rows.find((x) => x.method === row.method && x.batch === row.batch);
    assert.ok(ref, `native report has no row ${row.method} B=${row.batch}`);
    for (const k of ['probe_test_acc', 'knn1_acc', 'knn10_acc', 'global_loss', 'alignment', 'uniformity', 'eff_rank']) check(`${row.method} ${k}`, row[k], ref[k]);
    assert.equal(row.state_bytes_per_image, ref.state_bytes_per_image);
  }
  assert.deepEqual(r.floors.map((f) => f.name), n.floors.map((f) => f.name));
  assert.ok(r.floors.length >= 2, 'raw-pixel and random-init floors');
  for (const f of r.floors) {
    const ref = n.floors.find((x) => x.name === f.name);
    for (const k of ['probe_test_acc', 'knn1_acc', 'knn10_acc']) check(`floor ${f.name} ${k}`, f[k], ref[k]);
  }
  // The reading is made by the same Go code from the same numbers; only timings may differ in it.
  const words = (s) => s.replace(/\d+(\.\d+)?/g, '#');
  assert.equal(words(r.reading), words(n.reading));
  const rows = await page.$$eval('#cmp-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, r.floors.length + r.rows.length);
  console.log(`# ${r.rows.length} rows and ${r.floors.length} floors compared with the native compare; worst relative difference ${worst.toExponential(2)}`);
});

test('the report downloads as Markdown and CSV', async () => {
  const download = async (button) => {
    const before = await page.evaluate(() => window.emc2.events.file ?? 0);
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: patience }), page.click(button)]);
    await until((k) => (window.emc2.events.file ?? 0) > k && window.emc2.exporting === null, before);
    return readFileSync(await dl.path(), 'utf8');
  };
  const md = await download('#cmp-md');
  for (const m of plan.methods) assert.match(md, new RegExp(`\\| ${m} +\\| 16 `));
  assert.match(md, /raw pixels/);
  const csv = await download('#cmp-csv');
  const lines = csv.trim().split('\n');
  const nativeLines = native.csv.trim().split('\n');
  assert.equal(lines[0], nativeLines[0], 'the same columns as the native compare.csv');
  assert.equal(lines.length, nativeLines.length);
  const col = (ls, name) => ls.slice(1).map((l) => l.split(',')[ls[0].split(',').indexOf(name)]);
  for (const name of ['method', 'batch']) assert.deepEqual(col(lines, name), col(nativeLines, name));
});

test('no request left the page origin, and the console stayed clean', () => {
  const foreign = requests.filter((u) => !u.startsWith(url) && !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(consoleErrors, []);
});
