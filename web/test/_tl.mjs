import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { baseArgs, adapters } from './browser.mjs';
const ad = adapters.find((a) => a.name === (process.argv[2] || 'lavapipe'));
const srv = spawn('/work/main/bin/emc2', ['serve', '--addr', '127.0.0.1:0', '--dir', '/tmp/appi'], { stdio: ['ignore', 'pipe', 'inherit'] });
const line = await new Promise((r) => readline.createInterface({ input: srv.stdout }).once('line', r));
const base = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)[1];
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...baseArgs, ...ad.args] });
for (let i = 0; i < 2; i++) {
  const ctx = await b.newContext(); const p = await ctx.newPage();
  const logs = [];
  p.on('console', (m) => logs.push(m.text()));
  p.on('worker', (w) => w.on('console', (m) => logs.push(m.text())));
  await p.goto(`${base}?method=simclr&autostart=1${ad.compat ? '&compat=1' : ''}`);
  await p.waitForFunction(() => window.emc2.firstStepMs !== null, null, { timeout: 120000, polling: 50 });
  const t0 = await p.evaluate(() => performance.timeOrigin);
  const r = await p.evaluate(() => ({ first: window.emc2.firstStepMs, booted: window.emc2.bootedMs }));
  console.log(`run ${i}: first ${r.first.toFixed(0)} booted ${r.booted.toFixed(0)}`);
  for (const l of logs) { const m = /^T (\d+) (.*)/.exec(l); if (m) console.log(String(Number(m[1]) - t0).padStart(6), m[2]); }
  await ctx.close();
}
await b.close(); srv.kill();
