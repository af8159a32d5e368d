// The capability report: does this browser have WebGPU, which adapter, which limits. Without WebGPU
// it says what to enable, and offers to train on the CPU instead.
import { app, params } from '../state.js';
import { $, fmtBytes } from '../ui.js';
import { send } from '../engine.js';
import { config } from './config.js';

// capabilities asks for an adapter the way the engine will (compat=1 in the URL: compatibility
// mode, the tests' lavapipe route) and describes it; it never throws.
export async function capabilities() {
  try {
    return await probe(params.get('compat') === '1');
  } catch (e) {
    return { ok: false, why: e.message };
  }
}

async function probe(compat) {
  if (!navigator.gpu) return { ok: false, why: 'navigator.gpu is missing.' };
  const opts = { powerPreference: 'high-performance' };
  if (compat) opts.featureLevel = 'compatibility';
  const a = await navigator.gpu.requestAdapter(opts);
  if (!a) return { ok: false, why: 'the browser has WebGPU but found no usable adapter (GPU blocklisted or drivers missing).' };
  const i = a.info ?? {};
  const lim = a.limits;
  return {
    ok: true, compat,
    adapter: [i.vendor, i.architecture, i.description].filter(Boolean).join(' · ') || 'unnamed adapter',
    fallback: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter),
    features: [...a.features].sort(),
    limits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    },
  };
}

// showCaps shows the report; without WebGPU, the help and the CPU button, which calls useCPU.
export function showCaps(c, useCPU) {
  app.caps = c;
  if (!c.ok) {
    $('caps-status').textContent = 'WebGPU: not available.';
    $('caps-why').textContent = `(${c.why})`;
    $('caps-missing').hidden = false;
    $('use-cpu').addEventListener('click', () => {
      $('caps-missing').hidden = true;
      $('caps-status').textContent = 'Training on the CPU (WebAssembly, one thread): expect about 10× slower than a GPU.';
      useCPU();
    }, { once: true });
    return;
  }
  $('caps-status').textContent = `WebGPU adapter: ${c.adapter}${c.fallback ? ' (software fallback: slow)' : ''}${c.compat ? ' (compatibility mode)' : ''}`;
  const rows = [
    ['Max storage binding', fmtBytes(c.limits.maxStorageBufferBindingSize)],
    ['Max buffer', fmtBytes(c.limits.maxBufferSize)],
    ['Invocations per workgroup', c.limits.maxComputeInvocationsPerWorkgroup],
    ['Workgroup memory', fmtBytes(c.limits.maxComputeWorkgroupStorageSize)],
    ['Storage buffers per stage', c.limits.maxStorageBuffersPerShaderStage],
    ['Features', c.features.join(', ') || 'none'],
  ];
  const dl = $('caps-list');
  dl.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
  dl.hidden = false;
  $('profile-row').hidden = false;
  $('profile').onclick = () => {
    $('profile').disabled = true;
    send({ cmd: 'profile', config: config() });
  };
}

// showProfile shows where a GPU training step goes ('profile' event), slowest kernel first; a null
// report (the profile failed) only re-enables the button.
export function showProfile(r) {
  $('profile').disabled = false;
  if (!r) return;
  const t = $('profile-table');
  const cap = document.createElement('caption');
  const clock = r.timestamps
    ? 'wall time with the GPU drained around each kernel, and GPU time from timestamp queries'
    : 'wall time with the GPU drained around each kernel; this adapter has no timestamp queries';
  cap.textContent = `Where one ${r.name} training step at batch ${r.batch} goes on this adapter (per step, ${r.steps} steps: ${clock})`;
  const row = (cells, tag = 'td') => {
    const tr = document.createElement('tr');
    tr.append(...cells.map((c) => Object.assign(document.createElement(tag), { textContent: c })));
    return tr;
  };
  const gpu = (k) => (r.timestamps ? [k.gpu_ms_per_step.toFixed(2)] : []);
  t.replaceChildren(cap, row(['kernel', 'file', 'calls/step', 'ms/step', ...(r.timestamps ? ['GPU ms/step'] : []), 'share'], 'th'),
    ...r.kernels.map((k) => row([k.kernel, k.file, k.dispatches_per_step.toFixed(0), k.ms_per_step.toFixed(1), ...gpu(k), `${(100 * k.share).toFixed(1)} %`])));
  t.hidden = false;
}

// showKernels adds which GEMM and convolution kernels the engine chose for this adapter ('started'
// event's gpu_kernels; absent on the CPU backend).
export function showKernels(kind) {
  if (!kind || !app.caps?.ok) return;
  const text = kind === 'tiled' ? 'tiled in workgroup memory (for a hardware GPU)' : 'register-blocked (for a software adapter)';
  let dd = $('caps-kernels');
  if (!dd) {
    const dt = document.createElement('dt');
    dt.textContent = 'GEMM and convolution kernels';
    dd = document.createElement('dd');
    dd.id = 'caps-kernels';
    $('caps-list').append(dt, dd);
  }
  dd.textContent = text;
}
