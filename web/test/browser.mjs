// What the in-browser tests share: Debian's Chromium driven by playwright-core (never a downloaded
// browser), the flags that give it a software WebGPU adapter, and the rule that under CI=true a
// missing browser is a failure rather than a SKIPPED line.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ci = process.env.CI === 'true';
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// --enable-webgpu-developer-features only adds GPUAdapterInfo.description (which expect() reads).
export const baseArgs = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu', '--enable-webgpu-developer-features'];

// The two software adapters. expect checks the adapter a page got: without --use-angle=vulkan, say,
// the compat request lands on ANGLE over SwiftShader, which only the description tells apart.
//   swiftshader  core WebGPU on SwiftShader (Chromium's bundled Vulkan)
//   lavapipe     compatibility mode: Dawn's OpenGL ES backend → ANGLE → Vulkan → Mesa lavapipe
export const adapters = [
  { name: 'swiftshader', args: [], compat: false, expect: (a) => /swiftshader/i.test(`${a.architecture} ${a.description}`) },
  { name: 'lavapipe', args: ['--use-angle=vulkan', '--use-webgpu-adapter=opengles'], compat: true,
    expect: (a) => /llvmpipe|lavapipe/i.test(a.description) && !/swiftshader/i.test(a.description) },
];

// skip prints the loud SKIPPED line locally; under CI the browser suites must run.
export function skip(what, why) {
  if (ci) {
    console.error(`FAIL: ${what} cannot run under CI=true: ${why}`);
    process.exit(1);
  }
  console.log(`\n*** SKIPPED: ${what} (${why}) ***\n`);
  process.exit(0);
}

// loadChromium checks the preconditions and returns playwright-core's chromium launcher.
export async function loadChromium(what) {
  try {
    accessSync(chromiumPath, constants.X_OK);
  } catch {
    skip(what, `no Chromium at ${chromiumPath}; apt-get install chromium, or set CHROMIUM`);
  }
  // playwright-core 1.65 needs Node ≥ 20 and exits the process on older ones (Debian 12 ships 18).
  if (Number(process.versions.node.split('.')[0]) < 20) {
    skip(what, `Node ${process.versions.node} is too old: playwright-core needs Node 20 or newer`);
  }
  try {
    return (await import('playwright-core')).chromium;
  } catch {
    skip(what, 'playwright-core is not installed; run `npm ci` at the repository root');
  }
}

// serve starts `emc2 serve` on a free loopback port and returns the process and the page's base URL
// once the server has said where it listens. Stop it with stopServer.
export async function serve(bin) {
  const srv = spawn(bin, ['serve', '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    srv.on('error', reject);
    srv.on('exit', (c) => reject(new Error(`emc2 serve exited with ${c}`)));
    readline.createInterface({ input: srv.stdout }).once('line', resolve);
  });
  const base = /^serving emc2 on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1];
  if (!base) throw new Error(`emc2 serve said: ${line}`);
  return { srv, base };
}

export function stopServer(srv) {
  srv?.removeAllListeners('exit');
  srv?.kill();
}

// pageTest is what the page tests share: the repository, bin/emc2 (which must be built), the
// screenshots folder, the adapter named by --adapter= (lavapipe by default), the one ceiling of every
// wait (EMC2_TEST_PATIENCE_S, 900 s by default: it only ends a wait that would never succeed) and
// playwright-core's Chromium launcher.
export async function pageTest(what) {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const bin = path.join(repo, 'bin/emc2');
  const shots = path.join(repo, 'web/build/screenshots');
  const name = (process.argv.find((a) => a.startsWith('--adapter=')) ?? '--adapter=lavapipe').slice(10);
  const ad = adapters.find((a) => a.name === name);
  if (!ad) throw new Error(`unknown adapter ${name}`);
  const chromium = await loadChromium(what);
  if (!existsSync(bin)) {
    console.error(`${what}: bin/emc2 is missing; run \`make build\``);
    process.exit(2);
  }
  mkdirSync(shots, { recursive: true });
  const patience = Number(process.env.EMC2_TEST_PATIENCE_S || 900) * 1000;
  return { repo, bin, shots, ad, patience, chromium };
}

// rel is the relative difference of a from b.
export const rel = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-9);
