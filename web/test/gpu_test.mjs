// Runs core/backend/gpu's test binary (GOOS=js GOARCH=wasm go test -c) inside headless Chromium on
// both software WebGPU adapters, and fails if any Go test fails, the page errors, or a run times out.
//
//   swiftshader  core WebGPU on SwiftShader (Chromium's bundled Vulkan)           --enable-unsafe-webgpu
//   lavapipe     WebGPU compatibility mode: Dawn's OpenGL ES backend → ANGLE →
//                Vulkan → Mesa lavapipe                                            + --use-angle=vulkan --use-webgpu-adapter=opengles
//
// `make test-browser` builds web/build/ (the test binary, wasm_exec.js, pass.js, the server) first; this script
// builds nothing. It starts web/build/testserve on a free loopback port and drives Debian's
// /usr/bin/chromium through playwright-core (which never downloads a browser here).
//
// Usage: node web/test/gpu_test.mjs [--bench] [--adapter=swiftshader|lavapipe] [--timeout=SECONDS]
//          [--json=FILE] [--quiet] [--robustness=off] [-- extra go test flags, e.g. -test.run=TestConv]
// --robustness=off starts Chromium with Dawn's bounds checks off (disable_robustness, a developer
// switch no user has), to measure what the clamp on every storage index costs each kernel.
// Environment: CHROMIUM (default /usr/bin/chromium); CI=true turns a missing browser or
// playwright-core into a failure instead of a SKIPPED line.

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { adapters as allAdapters, baseArgs, chromiumPath, loadChromium } from './browser.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// --- command line -------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const own = sep >= 0 ? argv.slice(0, sep) : argv;
const goFlags = sep >= 0 ? argv.slice(sep + 1) : [];
const opt = (k, d) => {
  const a = own.find((x) => x.startsWith(`--${k}=`));
  return a === undefined ? d : a.slice(k.length + 3);
};
const bench = own.includes('--bench');
const quiet = own.includes('--quiet');
// The ceiling of a run: a hang reaches it, a slow or busy machine must not (the tests take a
// minute or two on two idle cores).
const timeoutS = Number(opt('timeout', 900));
const jsonOut = opt('json', '');
const chromeArgs = (ad) => [...baseArgs, ...ad.args, ...(opt('robustness', 'on') === 'off' ? ['--enable-dawn-features=disable_robustness'] : [])];
const only = opt('adapter', '');
const buildDir = path.join(repo, 'web/build');
const wasmFile = 'gpu.test.wasm';
const adapters = allAdapters.filter((a) => !only || a.name === only);
if (adapters.length === 0) die(`unknown --adapter=${only} (swiftshader or lavapipe)`);

// The Go flags of one run. -test.timeout stays under the page timeout so a hang ends in Go's
// goroutine dump rather than a bare driver timeout.
const goTimeout = `-test.timeout=${Math.max(10, timeoutS - 10)}s`;
const runFlags = bench
  ? ['-test.v', '-test.run=^$', '-test.bench=Gemm|ConvForward', '-test.benchtime=3x', goTimeout, ...goFlags]
  : ['-test.v', goTimeout, ...goFlags];

function die(msg) {
  console.error(`gpu_test: ${msg}`);
  process.exit(2);
}

// --- preconditions --------------------------------------------------------------------------------
const chromium = await loadChromium('browser GPU tests');
for (const f of [wasmFile, 'wasm_exec.js', 'pass.js', 'testserve']) {
  if (!existsSync(path.join(buildDir, f))) die(`web/build/${f} is missing; run \`make test-browser\``);
}

// --- server ---------------------------------------------------------------------------------------
function startServer() {
  const srv = spawn(path.join(buildDir, 'testserve'), ['-addr', '127.0.0.1:0', '-dir', path.join(repo, 'web')],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('testserve did not start in 2 minutes')), 120_000);
    srv.on('error', reject);
    srv.on('exit', (c) => reject(new Error(`testserve exited with ${c}`)));
    readline.createInterface({ input: srv.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line);
      if (m) resolve({ srv, base: m[1] });
      else reject(new Error(`testserve said: ${line}`));
    });
  });
}

// --- one browser run ------------------------------------------------------------------------------
// Top-level test and benchmark results parsed from `go test -v` output.
function summarize(lines) {
  const s = { pass: [], fail: [], skip: [], bench: [] };
  for (const l of lines) {
    let m = /^--- (PASS|FAIL|SKIP): (\S+) \(([\d.]+)s\)/.exec(l);
    if (m) {
      s[m[1].toLowerCase()].push({ name: m[2], s: Number(m[3]) });
      continue;
    }
    m = /^(Benchmark\S+)\s+(\d+)\s+([\d.]+) ns\/op(.*)$/.exec(l);
    if (m) s.bench.push({ name: m[1], n: Number(m[2]), msPerOp: Number(m[3]) / 1e6, extra: m[4].trim() });
  }
  return s;
}

async function runOne(base, ad) {
  const url = new URL('gotest/gotest.html', base);
  url.searchParams.set('wasm', `../build/${wasmFile}`);
  for (const f of runFlags) url.searchParams.append('arg', f);
  url.searchParams.append('env', 'CI=true'); // inside the page a missing adapter is a failure, never a skip
  if (ad.compat) url.searchParams.set('compat', '1');

  console.log(`\n=== browser ${ad.name}: chromium ${chromeArgs(ad).join(' ')}${ad.compat ? ' + compat' : ''}`);
  const t0 = Date.now();
  const lines = [];
  let browser;
  let result;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath, headless: true, args: chromeArgs(ad), timeout: timeoutS * 1000,
    });
    console.log(`    ${browser.version()}, launched in ${Date.now() - t0} ms`);
    const page = await browser.newPage();
    page.setDefaultTimeout(timeoutS * 1000);
    page.on('console', (m) => {
      const text = m.text();
      const goOut = m.type() === 'log' || m.type() === 'info';
      for (const l of text.split('\n')) {
        if (goOut) lines.push(l);
        if (!quiet || !goOut) console.log(goOut ? l : `console.${m.type()}: ${l}`);
      }
    });
    page.on('pageerror', (e) => {
      console.log(`pageerror: ${e.message}`);
      lines.push(`pageerror: ${e.message}`);
    });
    page.on('crash', () => console.log('page crashed'));
    await page.goto(url.href);
    // A minute past Go's own -test.timeout, so that a hang ends in Go's goroutine dump.
    await page.waitForFunction(() => globalThis.__result !== undefined, null, { timeout: (timeoutS + 60) * 1000, polling: 200 });
    result = await page.evaluate(() => globalThis.__result);
  } catch (e) {
    result = { ok: false, code: null, error: `driver: ${String(e.message).split('\n')[0]}` };
  } finally {
    await browser?.close().catch(() => {});
  }
  result.wallMs = Date.now() - t0;
  result.summary = summarize(lines);
  if (result.ok && result.adapter && !ad.expect(result.adapter)) {
    result.ok = false;
    result.error = `landed on the wrong adapter: ${JSON.stringify(result.adapter)}`;
  }
  if (result.ok && !bench && result.summary.pass.length === 0) {
    result.ok = false;
    result.error = 'no test passed';
  }
  return result;
}

function describe(a) {
  const what = [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'unnamed';
  return `${what}${a.fallback ? ' (fallback)' : ''}${a.compat ? ', compatibility mode' : ''}, ${a.maxInvocations} invocations/workgroup`;
}

// --- main -----------------------------------------------------------------------------------------
const tAll = Date.now();
let server;
try {
  server = await startServer();
} catch (e) {
  die(e.message);
}
process.on('exit', () => server.srv.kill()); // also when something below throws
const results = [];
try {
  for (const ad of adapters) results.push({ name: ad.name, ...(await runOne(server.base, ad)) });
} finally {
  server.srv.removeAllListeners('exit');
  server.srv.kill();
}
const totalS = (Date.now() - tAll) / 1000;

console.log(`\n=== browser GPU ${bench ? 'benchmarks' : 'tests'} (${runFlags.join(' ')})`);
for (const r of results) {
  const s = r.summary;
  const mem = r.memMiB ? `, wasm memory ${r.memMiB} MiB` : '';
  const head = `${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(11)} ${(r.wallMs / 1000).toFixed(1)} s${mem}`;
  if (bench) {
    console.log(head);
    if (r.adapter) console.log(`       adapter ${describe(r.adapter)}`);
    for (const b of s.bench) console.log(`       ${b.name.padEnd(44)} ${b.msPerOp.toFixed(1).padStart(9)} ms/op  ${b.extra}`);
  } else {
    console.log(`${head}  tests: ${s.pass.length} passed, ${s.fail.length} failed, ${s.skip.length} skipped` +
      (s.fail.length ? `  [failed: ${s.fail.map((t) => t.name).join(' ')}]` : '') +
      (s.skip.length ? `  [skipped: ${s.skip.map((t) => t.name).join(' ')}]` : ''));
    if (r.adapter) console.log(`       adapter ${describe(r.adapter)}`);
  }
  if (!r.ok) console.log(`       ${r.error ?? `go test exited with ${r.code}`}`);
}
console.log(`total ${totalS.toFixed(1)} s`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ flags: runFlags, totalS, results }, null, 1) + '\n');
process.exit(results.every((r) => r.ok) ? 0 : 1);
