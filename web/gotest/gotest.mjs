// Runs a `GOOS=js GOARCH=wasm go test -c` binary in this page (web/test/gpu_test.mjs drives it).
//
// Query parameters:
//   wasm=URL    the test binary, same origin (required)
//   arg=FLAG    one command-line argument each, in order (e.g. arg=-test.v&arg=-test.short)
//   env=K=V     one environment variable each (os.Getenv in the test binary)
//   compat=1    sets globalThis.emc2Compat, so core/backend/gpu asks for a compatibility-mode adapter
//
// Go's stdout and stderr go to console.log (wasm_exec.js). When the program ends, window.__result is
// {ok, code, ms, adapter, memMiB} (code: the exit status; adapter: what requestAdapter gave this page;
// memMiB: the size of the wasm memory at exit), or {ok: false, error} when the page could not run it.

const qs = new URLSearchParams(location.search);
const status = document.getElementById('status');

function finish(r) {
  if (globalThis.__result !== undefined) return; // the first outcome wins
  globalThis.__result = r;
  status.textContent = r.ok ? `PASS (exit ${r.code})` : `FAIL: ${r.error ?? `exit ${r.code}`}`;
}

// A trap inside a callback into Go (wasm "unreachable", a JS exception) never settles go.run's promise.
addEventListener('error', (e) => finish({ ok: false, code: null, error: `uncaught: ${e.message}` }));
addEventListener('unhandledrejection', (e) => finish({ ok: false, code: null, error: `unhandled rejection: ${e.reason}` }));

// adapterInfo describes the adapter the Go code will get (same request as core/backend/gpu/device_js.go),
// so the driver can check that the run landed on the adapter it asked for.
async function adapterInfo(compat) {
  if (!navigator.gpu) return null;
  const opts = { powerPreference: 'high-performance' };
  if (compat) opts.featureLevel = 'compatibility';
  const a = await navigator.gpu.requestAdapter(opts);
  if (!a) return null;
  const i = a.info ?? {};
  return {
    vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
    fallback: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter),
    compat: compat && !a.features.has('core-features-and-limits'),
    maxInvocations: a.limits.maxComputeInvocationsPerWorkgroup,
  };
}

async function main() {
  const src = qs.get('wasm');
  if (!src) throw new Error('missing ?wasm=');
  const url = new URL(src, location.href);
  if (url.origin !== location.origin) throw new Error(`wasm must come from this origin, not ${url.origin}`);
  if (typeof Go !== 'function') throw new Error('wasm_exec.js did not load (run `make test-browser` to copy it)');

  const compat = qs.get('compat') === '1';
  if (compat) globalThis.emc2Compat = true;
  const adapter = await adapterInfo(compat);
  console.log(`gotest: adapter ${JSON.stringify(adapter)}`);

  const go = new Go();
  go.argv = [url.pathname.split('/').pop(), ...qs.getAll('arg')];
  for (const kv of qs.getAll('env')) {
    const eq = kv.indexOf('=');
    if (eq > 0) go.env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  let code = null;
  const exit = go.exit;
  go.exit = (c) => { code = c; exit.call(go, c); };

  const t0 = performance.now();
  const resp = await fetch(url, { cache: 'no-store' });
  if (!resp.ok) throw new Error(`fetch ${url.pathname}: HTTP ${resp.status}`);
  const inst = await WebAssembly.instantiateStreaming(resp, go.importObject);
  globalThis.wasm = inst; // cogentcore/webgpu's jsx.BytesToJS reads globalThis.wasm.instance.exports.mem
  await go.run(inst.instance);
  const memMiB = inst.instance.exports.mem.buffer.byteLength / 2 ** 20; // the wasm heap's high-water mark
  finish({ ok: code === 0, code, ms: Math.round(performance.now() - t0), adapter, memMiB });
}

main().catch((e) => {
  console.error(`gotest: ${e?.stack ?? e}`);
  finish({ ok: false, code: null, error: String(e?.message ?? e) });
});
