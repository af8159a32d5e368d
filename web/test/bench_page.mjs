// The page's training speed beside native, on the same adapter, as a user gets it (a benchmark: it
// reports, it asserts nothing about speed). For each method × batch size it opens the trainer page
// served by `emc2 serve` with the page's defaults on the full built-in data (only the method and the
// batch size set), presses Train, and reads:
//   ready       seconds from navigation to "Ready to train." (data shown, GPU kernels compiled);
//   first step  seconds from pressing Train to the first progress report (step 1);
//   autostart   seconds from navigation to step 1 with ?autostart=1 (a shared link; page defaults);
//   steady      images/s between progress reports after a warm-up (evaluations excluded);
// then runs `emc2 bench --backends gpu` natively for the same configurations on the same adapter
// and prints both, and the ratio: lavapipe through Vulkan (the page reaches it through Dawn's OpenGL
// ES backend and ANGLE), or with --adapter=swiftshader Chromium's own SwiftShader Vulkan driver
// (vk_swiftshader_icd.json beside the browser), which the page reaches through Dawn's Vulkan backend.
// --robustness=off starts Chromium with Dawn's bounds checks off (disable_robustness, a developer
// switch no user has): what the clamp Chrome adds to every storage access costs the page. It also reports the engine's download: emc2.wasm raw, gzipped, and as the page received it
// (brotli when `make web` made emc2.wasm.br, which `emc2 serve` sends to browsers that accept br).
//
// Usage: make bench-browser   (or: node web/test/bench_page.mjs [--methods=simclr,emc2]
//          [--batches=32,256] [--reports=3] [--adapter=lavapipe|swiftshader] [--robustness=off]
//          [--json=FILE])

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { baseArgs, chromiumPath, pageTest, serve, stopServer } from './browser.mjs';

const arg = (k, d) => (process.argv.find((a) => a.startsWith(`--${k}=`)) ?? `=${d}`).split('=').slice(1).join('=');
const methods = arg('methods', 'simclr,emc2').split(',');
const batches = arg('batches', '32,256').split(',').map(Number);
const reports = Number(arg('reports', 3)); // steady-state progress reports timed per configuration
const jsonOut = arg('json', '');
const robust = arg('robustness', 'on') !== 'off';

const { repo, bin, ad, patience, chromium } = await pageTest('the page benchmark');

const wasm = path.join(repo, 'web/app/dist/emc2.wasm');
const raw = readFileSync(wasm);
const engine = { wasm_bytes: statSync(wasm).size, wasm_gzip_bytes: gzipSync(raw, { level: 9 }).length };

const { srv, base } = await serve(bin);
// Each configuration gets its own browser: a closed page's worker and GPU work can outlive the page
// and would slow the next one's start (measured: data shown 21 s instead of 2 s after navigation).
const launch = () => chromium.launch({ executablePath: chromiumPath, headless: true, args: [...baseArgs, ...ad.args, ...(robust ? [] : ['--enable-dawn-features=disable_robustness'])], timeout: patience });
let browser = null;
async function newPage() {
  await browser?.close().catch(() => {});
  browser = await launch();
  return browser.newPage();
}
const rows = [];
try {
  for (const method of methods) {
    const autostart = await autostartRun(method);
    for (const batch of batches) rows.push({ ...(await pageRun(method, batch)), autostart_s: autostart });
  }
} finally {
  await browser?.close().catch(() => {});
  stopServer(srv);
}

// autostartRun opens the page with ?autostart=1 (the page's defaults but the method) and returns the
// seconds from navigation to the first progress report.
async function autostartRun(method) {
  const page = await newPage();
  const u = new URL(base);
  if (ad.compat) u.searchParams.set('compat', '1');
  u.searchParams.set('method', method);
  u.searchParams.set('autostart', '1');
  // The engine as it came over the wire (the worker fetches it, so the page's own timing entries
  // do not list it).
  page.on('response', async (resp) => {
    if (!resp.url().endsWith('/dist/emc2.wasm')) return;
    const sizes = await resp.request().sizes().catch(() => null);
    engine.served = { encoding: resp.headers()['content-encoding'] ?? 'identity', bytes: sizes?.responseBodySize };
  });
  await page.goto(u.href);
  await page.waitForFunction(() => window.emc2.progress.length > 0 || window.emc2.errors.length, null, { timeout: patience, polling: 50 });
  const s = await page.evaluate(() => ({ at: window.emc2.firstStepMs, errors: window.emc2.errors }));
  await page.click('#stop').catch(() => {});
  await page.close();
  if (s.errors.length) throw new Error(`${method} autostart: ${s.errors.join('; ')}`);
  console.log(`# page ${method} ?autostart=1: first step ${(s.at / 1000).toFixed(2)} s after navigation`);
  return s.at / 1000;
}

// pageRun trains one configuration in a fresh page until `reports` progress reports have come after
// the warm-up one, then stops.
async function pageRun(method, batch) {
  const page = await newPage();
  page.setDefaultTimeout(patience);
  const u = new URL(base);
  if (ad.compat) u.searchParams.set('compat', '1');
  u.searchParams.set('method', method);
  u.searchParams.set('batch', String(batch));
  await page.goto(u.href);
  const until = (fn, a) => page.waitForFunction(fn, a, { timeout: patience, polling: 100 });
  // What a user waits for: the data shown and the engine warm (GPU kernels compiled), then Train.
  await until(() => window.emc2.readyMs !== null || window.emc2.errors.length);
  const { readyAt, dataAt } = await page.evaluate(() => ({ readyAt: window.emc2.readyMs, dataAt: window.emc2.dataMs }));
  const pressed = await page.evaluate(() => {
    document.getElementById('train').click();
    return performance.now();
  });
  await until(() => window.emc2.progress.length > 0 || window.emc2.errors.length);
  const first = await page.evaluate(() => window.emc2.progress[0]);
  const firstAt = await page.evaluate(() => window.emc2.firstStepMs);
  // The warm-up: the first report after step 1, then `reports` more.
  await until((n) => window.emc2.progress.length >= n || window.emc2.errors.length, reports + 2);
  const s = await page.evaluate(() => ({ p: window.emc2.progress, errors: window.emc2.errors, run: window.emc2.run }));
  await page.click('#stop').catch(() => {});
  await page.close();
  if (s.errors.length) throw new Error(`${method} B=${batch}: ${s.errors.join('; ')}`);
  const timed = s.p.slice(-reports);
  const secs = timed.reduce((a, p) => a + p.report_s, 0);
  const steps = timed.at(-1).step - s.p.at(-reports - 1).step;
  const row = { method, batch, data_s: dataAt / 1000, ready_s: readyAt / 1000, first_step: first.step, first_step_s: (firstAt - pressed) / 1000,
    page_images_per_s: (steps * batch) / secs, page_step_ms: (1000 * secs) / steps, gpu_bytes: s.run.gpu_bytes };
  console.log(`# page ${method} B=${batch}: data shown ${row.data_s.toFixed(2)} s, ready to train (kernels compiled) ${row.ready_s.toFixed(2)} s after navigation; first step ${row.first_step_s.toFixed(2)} s after Train; steady ${row.page_images_per_s.toFixed(1)} images/s (${row.page_step_ms.toFixed(0)} ms/step over ${steps} steps)`);
  return row;
}

// The same configurations natively (emc2 bench times steps the same way: after warm-up, no evaluation).
const benchJSON = path.join(repo, 'web/build/bench-native.json');
const nativeEnv = { ...process.env };
if (ad.name === 'swiftshader') {
  const icd = [path.dirname(realpathSync(chromiumPath)), '/usr/lib/chromium'].map((d) => path.join(d, 'vk_swiftshader_icd.json')).find((f) => existsSync(f));
  if (icd) nativeEnv.VK_ICD_FILENAMES = icd;
  else console.log('# native: no vk_swiftshader_icd.json beside Chromium, so native runs on the default Vulkan driver (not the same adapter)');
}
let nativeAdapter = '';
for (const row of rows) {
  const r = spawnSync(bin, ['bench', '--backends', 'gpu', '--batches', String(row.batch), '--methods', row.method, '--steps', '5', '--json', benchJSON],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: nativeEnv });
  nativeAdapter ||= (r.stdout ?? '').split('\n').find((l) => l.startsWith('gpu: ')) ?? '';
  if (r.status !== 0) {
    console.log(`# native ${row.method} B=${row.batch}: emc2 bench exited with ${r.status ?? r.signal}`);
    continue;
  }
  const n = JSON.parse(readFileSync(benchJSON, 'utf8')).find((x) => x.backend === 'gpu');
  row.native_images_per_s = n.images_per_sec;
  row.native_step_ms = n.step_ms;
  row.ratio = row.page_images_per_s / row.native_images_per_s;
}

const mb = (n) => (n / 1e6).toFixed(2);
const served = engine.served ? `; the page received ${mb(engine.served.bytes)} MB (${engine.served.encoding})` : '';
console.log(`\nadapter: ${ad.name}${robust ? '' : ' (Dawn robustness off)'}; native ${nativeAdapter || 'adapter unknown'}; engine download: emc2.wasm ${mb(engine.wasm_bytes)} MB, ${mb(engine.wasm_gzip_bytes)} MB gzipped${served}\n`);
console.log('| method | B | ready to train | first step after Train | autostart: first step after navigation | page images/s | native images/s | page ÷ native |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const f = (v, d = 1) => (v === undefined ? '—' : v.toFixed(d));
  console.log(`| ${r.method} | ${r.batch} | ${f(r.ready_s, 2)} s | ${f(r.first_step_s, 2)} s | ${f(r.autostart_s, 2)} s | ${f(r.page_images_per_s)} | ${f(r.native_images_per_s)} | ${f(r.ratio, 2)} |`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ adapter: ad.name, robustness: robust, native_adapter: nativeAdapter, engine, rows }, null, 2));
