// General matrix multiply, the GPU twin of nn.Gemm (gonum SGEMM on the CPU):
//   C = alpha·op(A)·op(B) + beta·C (+ bias per column) (then ReLU),
// row-major, op(A) m×k, op(B) k×n, by workgroups of 8×8 invocations. Two kernels do it, chosen by
// adapter (Backend.Tiled):
//   gemm:       every operand read straight from storage, no workgroup memory: barriers are expensive
//               on software adapters (lavapipe, SwiftShader), where this ran 2.4× faster than gemm_tiled.
//               Each invocation computes PX = 8 rows × 4 columns (a 64×32 tile per workgroup): there
//               every storage load is a loop over the CPU's vector lanes, so outputs per loaded value
//               count (see conv.wgsl). Rows or columns past the edge read clamped garbage that only
//               feeds outputs which are never stored, so loads need no bounds checks.
//   gemm_tiled: the workgroup stages 32×32 blocks of op(A) and op(B) in workgroup memory and reuses each
//               loaded value 32 times, for GPUs whose bandwidth, not arithmetic, bounds gemm; each
//               invocation computes a 4×4 block of the 32×32 tile.
// Both add the products of each output in ascending q with fma, so they give the same bits.

//!include lib/tile
//!include lib/fma4

struct Params {
  m: u32, n: u32, k: u32,
  trans_a: u32, trans_b: u32,
  alpha: f32, beta: f32,
  bias: u32,       // 1: add bias[j] (without a bias the host binds another read-only operand here)
  relu: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

fn load_a(i: u32, q: u32) -> f32 {
  if (p.trans_a == 1u) { return A[q * p.m + i]; }
  return A[i * p.k + q];
}

fn load_b(q: u32, j: u32) -> f32 {
  if (p.trans_b == 1u) { return B[j * p.k + q]; }
  return B[q * p.n + j];
}

fn load_b4(q: u32, j: u32) -> vec4<f32> {
  if (p.trans_b == 1u) {
    let o = j * p.k + q;
    return vec4<f32>(B[o], B[o + p.k], B[o + 2u * p.k], B[o + 3u * p.k]);
  }
  let o = q * p.n + j;
  return vec4<f32>(B[o], B[o + 1u], B[o + 2u], B[o + 3u]);
}

fn store(i: u32, acc: vec4<f32>, j0: u32) {
  if (i >= p.m) { return; }
  for (var c = 0u; c < 4u; c++) {
    let j = j0 + c;
    if (j < p.n) {
      var v = p.alpha * acc[c];
      if (p.beta != 0.0) { v = v + p.beta * C[i * p.n + j]; }
      if (p.bias == 1u) { v = v + bias[j]; }
      if (p.relu == 1u) { v = max(v, 0.0); }
      C[i * p.n + j] = v;
    }
  }
}

@compute @workgroup_size(8, 8)
fn gemm(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i0 = gid.y * PX;
  let j0 = gid.x * 4u;
  if (i0 >= p.m || j0 >= p.n) { return; }
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  for (var q = 0u; q < p.k; q++) {
    let b = load_b4(q, j0);
    c0 = fma(vec4<f32>(load_a(i0, q)), b, c0);
    c1 = fma(vec4<f32>(load_a(i0 + 1u, q)), b, c1);
    c2 = fma(vec4<f32>(load_a(i0 + 2u, q)), b, c2);
    c3 = fma(vec4<f32>(load_a(i0 + 3u, q)), b, c3);
    c4 = fma(vec4<f32>(load_a(i0 + 4u, q)), b, c4);
    c5 = fma(vec4<f32>(load_a(i0 + 5u, q)), b, c5);
    c6 = fma(vec4<f32>(load_a(i0 + 6u, q)), b, c6);
    c7 = fma(vec4<f32>(load_a(i0 + 7u, q)), b, c7);
  }
  store(i0, c0, j0);
  store(i0 + 1u, c1, j0);
  store(i0 + 2u, c2, j0);
  store(i0 + 3u, c3, j0);
  store(i0 + 4u, c4, j0);
  store(i0 + 5u, c5, j0);
  store(i0 + 6u, c6, j0);
  store(i0 + 7u, c7, j0);
}

// The operands as vectors of four, for gemm_v4.
@group(0) @binding(5) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> B4: array<vec4<f32>>;

// Rows i..i+3 of op(A) at q..q+3: column r is row i+r over q..q+3 (k, and m when transposed,
// multiples of 4).
fn load_a44(i: u32, q: u32) -> mat4x4<f32> {
  if (p.trans_a == 1u) {
    let o = (q * p.m + i) / 4u;
    let r = p.m / 4u;
    return transpose(mat4x4<f32>(A4[o], A4[o + r], A4[o + 2u * r], A4[o + 3u * r]));
  }
  let o = (i * p.k + q) / 4u;
  let r = p.k / 4u;
  return mat4x4<f32>(A4[o], A4[o + r], A4[o + 2u * r], A4[o + 3u * r]);
}

// op(B) at q..q+3 and columns j..j+3: column e is row q+e over j..j+3 (k, and n when not
// transposed, multiples of 4).
fn load_b44(q: u32, j: u32) -> mat4x4<f32> {
  if (p.trans_b == 1u) {
    let o = (j * p.k + q) / 4u;
    let r = p.k / 4u;
    return transpose(mat4x4<f32>(B4[o], B4[o + r], B4[o + 2u * r], B4[o + 3u * r]));
  }
  let o = (q * p.n + j) / 4u;
  let r = p.n / 4u;
  return mat4x4<f32>(B4[o], B4[o + r], B4[o + 2u * r], B4[o + 3u * r]);
}

// gemm reading four values of q per vector load (k a multiple of 4, and the dimension each
// operand's rows run along): 12 vector loads per 4 steps of q instead of 48 scalar ones, the same
// products in the same order, so the same bits. It repeats gemm's frame: a function naming both A
// and A4 would make every entry point calling it bind both.
@compute @workgroup_size(8, 8)
fn gemm_v4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i0 = gid.y * PX;
  let j0 = gid.x * 4u;
  if (i0 >= p.m || j0 >= p.n) { return; }
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  for (var q = 0u; q < p.k; q += 4u) {
    let b = load_b44(q, j0);
    let lo = load_a44(i0, q);
    let hi = load_a44(i0 + 4u, q);
    c0 = fma4(lo[0], b, c0);
    c1 = fma4(lo[1], b, c1);
    c2 = fma4(lo[2], b, c2);
    c3 = fma4(lo[3], b, c3);
    c4 = fma4(hi[0], b, c4);
    c5 = fma4(hi[1], b, c5);
    c6 = fma4(hi[2], b, c6);
    c7 = fma4(hi[3], b, c7);
  }
  store(i0, c0, j0);
  store(i0 + 1u, c1, j0);
  store(i0 + 2u, c2, j0);
  store(i0 + 3u, c3, j0);
  store(i0 + 4u, c4, j0);
  store(i0 + 5u, c5, j0);
  store(i0 + 6u, c6, j0);
  store(i0 + 7u, c7, j0);
}

@compute @workgroup_size(8, 8)
fn gemm_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let ti = wid.y * 32u;
  let tj = wid.x * 32u;
  var acc = array<vec4<f32>, 4>();
  for (var q0 = 0u; q0 < p.k; q0 += 32u) {
    // 64 invocations load 1024 values each: the fastest-moving index follows the operand's memory
    // layout, so that neighbouring invocations read neighbouring words.
    for (var e = 0u; e < 16u; e++) {
      let f = e * 64u + t;
      let u = f / 32u;
      let v = f % 32u;
      var ai = ti + u; var aq = q0 + v;  // A row-major: q is contiguous
      if (p.trans_a == 1u) { ai = ti + v; aq = q0 + u; }
      var a = 0.0;
      if (ai < p.m && aq < p.k) { a = load_a(ai, aq); }
      As[(aq - q0) * 32u + (ai - ti)] = a;
      var bq = q0 + u; var bj = tj + v;  // B row-major: j is contiguous
      if (p.trans_b == 1u) { bq = q0 + v; bj = tj + u; }
      var bv = 0.0;
      if (bq < p.k && bj < p.n) { bv = load_b(bq, bj); }
      Bs[(bq - q0) * 32u + (bj - tj)] = bv;
    }
    workgroupBarrier();
    tile_product(t, &acc);
    workgroupBarrier();
  }
  let i0 = ti + (t / 8u) * 4u;
  let j0 = tj + (t % 8u) * 4u;
  if (j0 >= p.n) { return; }
  for (var r = 0u; r < 4u; r++) { store(i0 + r, acc[r], j0); }
}
