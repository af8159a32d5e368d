// The browser trainer at scale (not part of `make test`: several minutes on two cores). It loads the
// full Fashion-MNIST (70,000 images, the IDX files of Debian's dataset-fashion-mnist) and a folder
// of a few thousand camera-sized JPEG photos (made by web/internal/photos), trains on each for a
// stretch, and reports load time, memory in use and throughput. It fails when a load or a run
// errors or the tab dies.
//
// Every wait is tied to the page's state (window.emc2) with one generous ceiling, `patience`.
//
// Usage: make test-scale   (or: node web/test/scale_test.mjs [--photos=N] [--steps=N])

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { adapters, baseArgs, chromiumPath, loadChromium, serve, stopServer } from './browser.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/emc2');
const arg = (k, d) => Number((process.argv.find((a) => a.startsWith(`--${k}=`)) ?? `=${d}`).split('=')[1]);
const nPhotos = arg('photos', 3000);
const steps = arg('steps', 30);
const fmnist = '/usr/share/datasets/fashion-mnist';
const ad = adapters.find((a) => a.name === 'lavapipe');
// The ceiling of every wait (EMC2_TEST_PATIENCE_S overrides it): only a hang reaches it.
const patience = Number(process.env.EMC2_TEST_PATIENCE_S || 1800) * 1000;
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: patience, polling: 500 });

const chromium = await loadChromium('browser scale check');
let srv;
let browser;
let page;
let base;
let photos;

before(async () => {
  photos = mkdtempSync(path.join(os.tmpdir(), 'emc2-scale-'));
  const g = spawnSync('go', ['run', './web/internal/photos', '-dir', path.join(photos, 'photos'), '-n', String(nPhotos)], { cwd: repo, encoding: 'utf8' });
  assert.equal(g.status, 0, g.stderr);
  ({ srv, base } = await serve(bin));
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: [...baseArgs, ...ad.args], timeout: patience });
  page = await browser.newPage();
  page.setDefaultTimeout(patience);
  page.on('crash', () => console.log('# the tab crashed'));
  const u = new URL(base);
  for (const [k, v] of Object.entries({ compat: 1, data: 'none', batch: 32, epochs: 1, eval_subset: 2000, test_subset: 1000, global_size: 128, log_every: 10 })) u.searchParams.set(k, v);
  await page.goto(u.href);
  await until(() => window.emc2.saved !== undefined);
});

after(async () => {
  await browser?.close().catch(() => {});
  stopServer(srv);
  if (photos) rmSync(photos, { recursive: true, force: true });
});

// trainStretch trains for `steps` steps, stops (which evaluates), and reports throughput and memory.
async function trainStretch(what) {
  // The run has started when the page has seen one more 'started' event (its progress starts empty).
  const started = await page.evaluate(() => window.emc2.events.started ?? 0);
  await page.click('#train');
  await until((n) => (window.emc2.events.started ?? 0) > n || window.emc2.errors.length, started);
  await until((n) => window.emc2.progress.some((p) => p.step >= n) || window.emc2.errors.length, steps);
  await page.click('#stop');
  await until(() => window.emc2.state === 'done' || window.emc2.errors.length);
  const s = await page.evaluate(() => ({ errors: window.emc2.errors, p: window.emc2.progress.at(-1), run: window.emc2.run, ev: window.emc2.evals.at(-1) }));
  assert.deepEqual(s.errors, []);
  console.log(`# ${what}: ${s.p.images_per_sec.toFixed(1)} images/s, GPU buffers ${(s.run.gpu_bytes / 2 ** 20).toFixed(1)} MiB, engine memory ${(s.p.wasm_bytes / 2 ** 20).toFixed(0)} MiB; after ${s.p.step} steps probe ${s.ev.probe_test_acc?.toFixed(3)}`);
}

test(`a folder of ${nPhotos} photos decodes, downscales and trains`, async () => {
  const t0 = Date.now();
  await page.setInputFiles('#pick-folder', path.join(photos, 'photos'));
  await until(() => window.emc2.data !== null || window.emc2.errors.length);
  const d = await page.evaluate(() => window.emc2.data);
  assert.equal(d.train + d.test, nPhotos);
  assert.equal(d.classes.length, 10);
  console.log(`# ${nPhotos} photos (${readdirSync(path.join(photos, 'photos')).length} classes, 800×600 JPEG) loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s as ${d.w}×${d.h}×${d.c}`);
  await trainStretch('photos');
});

test('the full Fashion-MNIST loads and trains', { skip: !existsSync(fmnist) && 'apt-get install dataset-fashion-mnist' }, async () => {
  const files = readdirSync(fmnist).filter((f) => /idx\d-ubyte(\.gz)?$/.test(f)).map((f) => path.join(fmnist, f));
  const t0 = Date.now();
  await page.evaluate(() => { window.emc2.data = null; });
  await page.setInputFiles('#pick-files', files);
  await until(() => window.emc2.data !== null || window.emc2.errors.length);
  const d = await page.evaluate(() => window.emc2.data);
  assert.equal(d.train, 60000);
  assert.equal(d.test, 10000);
  console.log(`# Fashion-MNIST ${d.train}+${d.test} loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s (${(d.bytes / 2 ** 20).toFixed(1)} MiB of pixels)`);
  await trainStretch('fashion-mnist');
});
