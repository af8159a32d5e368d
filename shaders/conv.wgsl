// 3×3 convolution (stride 1, zero padding 1, NHWC), the GPU twin of nn.Conv3x3 and nn.Conv3x3Back
// (core/nn/conv.go). Weights are a (9·Cin)×Cout matrix with row (ky·3+kx)·Cin + ci.
//   conv3x3:        implicit GEMM, M = N·H·W pixels, N = c2 output channels, K = 9·c1, with fused bias
//                   and ReLU. The A-load reads the image directly (zero outside it), so no im2col
//                   buffer is needed.
//   conv3x3_dx:     dX, the same implicit GEMM over dY with the 180°-rotated, channel-transposed filter
//                   (the transposed convolution, done as a gather: no scatter, no atomics).
//   conv3x3_dw:     dW = im2col(x)ᵀ·dY over one chunk of image rows per z, written to partials[z]
//                   (split-K: no float atomics, so the result is deterministic).
//   conv3x3_dw_sum: dW[e] = Σ_z partials[z][e] in ascending z (fixed order).
// Two versions, chosen by adapter (Backend.Tiled), add each output's products in the same order with
// fma, so they give the same bits:
//   - from registers, with no workgroup memory and no barriers (software adapters): each invocation
//     computes PX = 8 pixels (or dW rows) × 4 output channels, a 64×32 tile per workgroup. On a
//     software adapter every storage load is a loop over the CPU's vector lanes, so outputs per
//     loaded value is what counts: 8×4 is 1.2–1.3× faster than 4×4 on lavapipe, and 8×8 is slower
//     (its accumulators no longer fit in registers). Rows or columns past the edge read clamped
//     garbage that only feeds outputs never stored.
//     With both channel counts multiples of 4 (of 8 for the image's in dW), conv3x3, conv3x3_dx
//     and conv3x3_dw run as _v4: four channels per vector load, the same products in the same order.
//     Where the output has 64 channels or a multiple, a _v4 invocation of conv3x3 or conv3x3_dx
//     computes two groups of 4 output channels, one after the other (p.quads = 2), over the same
//     pixels: half the invocations and workgroups, the second group's image loads hot in cache.
//     The 14×14, 32 → 64 layer runs 1.1× faster on SwiftShader, 1.14–1.2× in Chrome (which also
//     clamps every storage index), 1.0–1.05× on lavapipe. Fewer output channels keep one group,
//     so that no invocation of a workgroup's 8 columns idles.
//   - with the suffix _tiled, from 32×32 blocks of both operands staged in workgroup memory
//     (hardware GPUs), each invocation a 4×4 block of a 32×32 tile, like gemm.wgsl.
//!include lib/grid
//!include lib/tile
//!include lib/fma4

struct Params {
  n: u32, h: u32, w: u32,
  c1: u32,             // channels of the image read (Cin; Cout for conv3x3_dx)
  c2: u32,             // channels written (Cout; Cin for conv3x3_dx)
  bias: u32,           // 1: add D[j] (without a bias the host binds another read-only operand as D)
  relu: u32,
  rows_per_chunk: u32, // conv3x3_dw: image rows (n·H + y) per chunk
  count: u32,          // conv3x3_dw_sum: elements of dW
  chunks: u32,         // conv3x3_dw_sum: partials to add
  quads: u32,          // conv3x3_v4, conv3x3_dx_v4: groups of 4 output channels per invocation (1 or 2)
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>; // the image (x or dY); dw_sum: partials
@group(0) @binding(2) var<storage, read> B: array<f32>; // conv3x3: weights; conv3x3_dw: dY
@group(0) @binding(3) var<storage, read_write> C: array<f32>; // output: y, dX, partials or dW
@group(0) @binding(4) var<storage, read> D: array<f32>; // conv3x3: bias

// Weights for tap t, image channel c and output channels j..j+3.
fn load_w4(t: u32, c: u32, j: u32, flip: bool) -> vec4<f32> {
  if (flip) {
    // dX: tap 8−t, and the original matrix's row and column roles swapped: W[((8−t)·c2 + j)·c1 + c].
    let o = ((8u - t) * p.c2 + j) * p.c1 + c;
    return vec4<f32>(B[o], B[o + p.c1], B[o + 2u * p.c1], B[o + 3u * p.c1]);
  }
  let o = (t * p.c1 + c) * p.c2 + j;
  return vec4<f32>(B[o], B[o + 1u], B[o + 2u], B[o + 3u]);
}

// Position (n·H·W, y, x) of pixel i, with y = −1000 past the batch so that every tap misses.
fn pixel_pos(i: u32) -> vec3<i32> {
  let hw = p.h * p.w;
  let y = select(-1000, i32((i % hw) / p.w), i < p.n * hw);
  return vec3<i32>(i32(i - i % hw), y, i32(i % p.w));
}

// Offset in A of channel 0 of pixel q moved by (dy, dx), or −1 in the zero padding.
fn src(q: vec3<i32>, dy: i32, dx: i32) -> i32 {
  let y = q.y + dy;
  let x = q.z + dx;
  // & and |, not && and ||: no branch per pixel (SwiftShader took 50 s to compile 8 pixels' worth).
  let outside = (y < 0) | (y >= i32(p.h)) | (x < 0) | (x >= i32(p.w));
  return select((q.x + y * i32(p.w) + x) * i32(p.c1), -1, outside);
}

// A value at offset s (from src) plus channel c; select keeps the loop branch-free.
fn ld(s: i32, c: u32) -> f32 {
  return select(0.0, A[u32(max(s, 0)) + c], s >= 0);
}

// The scalar form of load_w4.
fn load_w(t: u32, c: u32, j: u32, flip: bool) -> f32 {
  if (flip) { return B[((8u - t) * p.c2 + j) * p.c1 + c]; }
  return B[(t * p.c1 + c) * p.c2 + j];
}

fn store(i: u32, acc: vec4<f32>, j0: u32) {
  if (i >= p.n * p.h * p.w) { return; }
  for (var c = 0u; c < 4u; c++) {
    let j = j0 + c;
    if (j < p.c2) {
      var v = acc[c];
      if (p.bias == 1u) { v = v + D[j]; }
      if (p.relu == 1u) { v = max(v, 0.0); }
      C[i * p.c2 + j] = v;
    }
  }
}

// The body of conv3x3 and conv3x3_dx; flip is a constant at each call, so it folds away. Each
// invocation computes PX pixels × 4 output channels.
fn conv_body(gid: vec3<u32>, flip: bool) {
  let i0 = gid.y * PX;
  let j0 = gid.x * 4u;
  if (i0 >= p.n * p.h * p.w || j0 >= p.c2) { return; }
  // Decode the pixels once: integer division is slow (emulated on lavapipe).
  let q0 = pixel_pos(i0);
  let q1 = pixel_pos(i0 + 1u);
  let q2 = pixel_pos(i0 + 2u);
  let q3 = pixel_pos(i0 + 3u);
  let q4 = pixel_pos(i0 + 4u);
  let q5 = pixel_pos(i0 + 5u);
  let q6 = pixel_pos(i0 + 6u);
  let q7 = pixel_pos(i0 + 7u);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  for (var t = 0u; t < 9u; t++) {
    let dy = i32(t / 3u) - 1;
    let dx = i32(t % 3u) - 1;
    let s0 = src(q0, dy, dx);
    let s1 = src(q1, dy, dx);
    let s2 = src(q2, dy, dx);
    let s3 = src(q3, dy, dx);
    let s4 = src(q4, dy, dx);
    let s5 = src(q5, dy, dx);
    let s6 = src(q6, dy, dx);
    let s7 = src(q7, dy, dx);
    for (var c = 0u; c < p.c1; c++) {
      let b = load_w4(t, c, j0, flip);
      c0 = fma(vec4<f32>(ld(s0, c)), b, c0);
      c1 = fma(vec4<f32>(ld(s1, c)), b, c1);
      c2 = fma(vec4<f32>(ld(s2, c)), b, c2);
      c3 = fma(vec4<f32>(ld(s3, c)), b, c3);
      c4 = fma(vec4<f32>(ld(s4, c)), b, c4);
      c5 = fma(vec4<f32>(ld(s5, c)), b, c5);
      c6 = fma(vec4<f32>(ld(s6, c)), b, c6);
      c7 = fma(vec4<f32>(ld(s7, c)), b, c7);
    }
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
fn conv3x3(@builtin(global_invocation_id) gid: vec3<u32>) { conv_body(gid, false); }

// The image and the weights as 4-channel vectors, for the _v4 kernels (c1 and c2 multiples of 4).
@group(0) @binding(5) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> B4: array<vec4<f32>>;

// Channels c..c+3 at offset s (from src), zero in the padding.
fn ld4(s: i32, c: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), A4[(u32(max(s, 0)) + c) / 4u], s >= 0);
}

// The weights of tap t for image channels c..c+3 and output channels j..j+3: column k is
// load_w4(t, c + k, j, flip), from four vector loads.
fn load_w44(t: u32, c: u32, j: u32, flip: bool) -> mat4x4<f32> {
  if (flip) {
    let o = (((8u - t) * p.c2 + j) * p.c1 + c) / 4u;
    let r = p.c1 / 4u;
    return transpose(mat4x4<f32>(B4[o], B4[o + r], B4[o + 2u * r], B4[o + 3u * r]));
  }
  let o = ((t * p.c1 + c) * p.c2 + j) / 4u;
  let r = p.c2 / 4u;
  return mat4x4<f32>(B4[o], B4[o + r], B4[o + 2u * r], B4[o + 3u * r]);
}


// conv_body with four channels per load (conv3x3_v4, conv3x3_dx_v4): the same products in the same
// order, so the same bits, from a quarter of the loads. It pays where loads are dear: on lavapipe
// (a storage load is a loop over the vector lanes) and in browsers, which clamp every storage index
// to its binding. It repeats conv_body's frame rather than sharing it: a function that named both
// A and A4 would make every entry point calling it bind both (bindings are found by static use).
fn conv_v4_body(gid: vec3<u32>, flip: bool) {
  let i0 = gid.y * PX;
  let jq = gid.x * 4u * p.quads; // the invocation's first output channel
  if (i0 >= p.n * p.h * p.w || jq >= p.c2) { return; }
  let q0 = pixel_pos(i0);
  let q1 = pixel_pos(i0 + 1u);
  let q2 = pixel_pos(i0 + 2u);
  let q3 = pixel_pos(i0 + 3u);
  let q4 = pixel_pos(i0 + 4u);
  let q5 = pixel_pos(i0 + 5u);
  let q6 = pixel_pos(i0 + 6u);
  let q7 = pixel_pos(i0 + 7u);
  for (var j0 = jq; j0 < min(jq + 4u * p.quads, p.c2); j0 += 4u) {
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    for (var t = 0u; t < 9u; t++) {
      let dy = i32(t / 3u) - 1;
      let dx = i32(t % 3u) - 1;
      let s0 = src(q0, dy, dx);
      let s1 = src(q1, dy, dx);
      let s2 = src(q2, dy, dx);
      let s3 = src(q3, dy, dx);
      let s4 = src(q4, dy, dx);
      let s5 = src(q5, dy, dx);
      let s6 = src(q6, dy, dx);
      let s7 = src(q7, dy, dx);
      for (var c = 0u; c < p.c1; c += 4u) {
        let w = load_w44(t, c, j0, flip);
        c0 = fma4(ld4(s0, c), w, c0);
        c1 = fma4(ld4(s1, c), w, c1);
        c2 = fma4(ld4(s2, c), w, c2);
        c3 = fma4(ld4(s3, c), w, c3);
        c4 = fma4(ld4(s4, c), w, c4);
        c5 = fma4(ld4(s5, c), w, c5);
        c6 = fma4(ld4(s6, c), w, c6);
        c7 = fma4(ld4(s7, c), w, c7);
      }
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
}

@compute @workgroup_size(8, 8)
fn conv3x3_v4(@builtin(global_invocation_id) gid: vec3<u32>) { conv_v4_body(gid, false); }

@compute @workgroup_size(8, 8)
fn conv3x3_dx_v4(@builtin(global_invocation_id) gid: vec3<u32>) { conv_v4_body(gid, true); }

// dX = the convolution of dY with the flipped filter (no bias, no ReLU).
@compute @workgroup_size(8, 8)
fn conv3x3_dx(@builtin(global_invocation_id) gid: vec3<u32>) { conv_body(gid, true); }

// The body of conv3x3_tiled and conv3x3_dx_tiled: the implicit GEMM over reduction index
// q = tap·c1 + channel, in blocks of 32.
fn conv_tiled_body(wid: vec3<u32>, t: u32, flip: bool) {
  let ti = wid.y * 32u; // first pixel of the tile
  let tj = wid.x * 32u; // first output channel
  let k = 9u * p.c1;
  // Invocation t stages pixel t % 32 of every image block, so it decodes that pixel once.
  let px = t % 32u;
  let pos = pixel_pos(ti + px);
  var acc = array<vec4<f32>, 4>();
  for (var k0 = 0u; k0 < k; k0 += 32u) {
    for (var e = 0u; e < 16u; e++) {
      let qa = 2u * e + t / 32u;
      var a = 0.0;
      if (k0 + qa < k) {
        let tap = (k0 + qa) / p.c1;
        a = ld(src(pos, i32(tap / 3u) - 1, i32(tap % 3u) - 1), (k0 + qa) % p.c1);
      }
      As[qa * 32u + px] = a;
      let f = e * 64u + t; // weights: neighbouring invocations read neighbouring output channels
      let q = k0 + f / 32u;
      let j = tj + f % 32u;
      var w = 0.0;
      if (q < k && j < p.c2) { w = load_w(q / p.c1, q % p.c1, j, flip); }
      Bs[f] = w;
    }
    workgroupBarrier();
    tile_product(t, &acc);
    workgroupBarrier();
  }
  let i0 = ti + (t / 8u) * 4u;
  let j0 = tj + (t % 8u) * 4u;
  for (var r = 0u; r < 4u; r++) { store(i0 + r, acc[r], j0); }
}

@compute @workgroup_size(8, 8)
fn conv3x3_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  conv_tiled_body(wid, t, false);
}

@compute @workgroup_size(8, 8)
fn conv3x3_dx_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  conv_tiled_body(wid, t, true);
}

// Tap shift of dW row r = (ky·3+kx)·c1 + ci: (dy, dx) and the element offset of the shifted pixel's
// channel ci relative to the pixel's channel 0.
fn row_tap(r: u32) -> vec3<i32> {
  let t = r / p.c1;
  let dy = i32(t / 3u) - 1;
  let dx = i32(t % 3u) - 1;
  return vec3<i32>(dy, dx, (dy * i32(p.w) + dx) * i32(p.c1) + i32(r % p.c1));
}

// Whether pixel (y, x) moved by tap (dy, dx) lies inside the image.
fn inside(y: i32, x: i32, tap: vec3<i32>) -> bool {
  let yy = y + tap.x;
  let xx = x + tap.y;
  return (yy >= 0) & (yy < i32(p.h)) & (xx >= 0) & (xx < i32(p.w)); // no branches, like src
}

// Value of x at pixel px moved by tap, or 0 when ok is false.
fn ld_tap(px: u32, tap: vec3<i32>, ok: bool) -> f32 {
  return select(0.0, A[u32(max(i32(px * p.c1) + tap.z, 0))], ok);
}

fn store_part(base: u32, r: u32, acc: vec4<f32>, j0: u32) {
  if (r >= 9u * p.c1) { return; }
  for (var c = 0u; c < 4u; c++) {
    let j = j0 + c;
    if (j < p.c2) { C[base + r * p.c2 + j] = acc[c]; }
  }
}

@compute @workgroup_size(8, 8)
fn conv3x3_dw(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.y * PX;
  let j0 = gid.x * 4u;
  let k = 9u * p.c1;
  if (r0 >= k || j0 >= p.c2) { return; }
  // Rows past k (never stored) repeat the last row so that their loads stay in range.
  let t0 = row_tap(r0);
  let t1 = row_tap(min(r0 + 1u, k - 1u));
  let t2 = row_tap(min(r0 + 2u, k - 1u));
  let t3 = row_tap(min(r0 + 3u, k - 1u));
  let t4 = row_tap(min(r0 + 4u, k - 1u));
  let t5 = row_tap(min(r0 + 5u, k - 1u));
  let t6 = row_tap(min(r0 + 6u, k - 1u));
  let t7 = row_tap(min(r0 + 7u, k - 1u));
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  let first = gid.z * p.rows_per_chunk;
  let last = min(first + p.rows_per_chunk, p.n * p.h);
  for (var rr = first; rr < last; rr++) {
    let y = i32(rr % p.h);
    for (var x = 0u; x < p.w; x++) {
      let px = rr * p.w + x;
      let o = px * p.c2 + j0;
      let g = vec4<f32>(B[o], B[o + 1u], B[o + 2u], B[o + 3u]);
      let xi = i32(x);
      c0 = fma(vec4<f32>(ld_tap(px, t0, inside(y, xi, t0))), g, c0);
      c1 = fma(vec4<f32>(ld_tap(px, t1, inside(y, xi, t1))), g, c1);
      c2 = fma(vec4<f32>(ld_tap(px, t2, inside(y, xi, t2))), g, c2);
      c3 = fma(vec4<f32>(ld_tap(px, t3, inside(y, xi, t3))), g, c3);
      c4 = fma(vec4<f32>(ld_tap(px, t4, inside(y, xi, t4))), g, c4);
      c5 = fma(vec4<f32>(ld_tap(px, t5, inside(y, xi, t5))), g, c5);
      c6 = fma(vec4<f32>(ld_tap(px, t6, inside(y, xi, t6))), g, c6);
      c7 = fma(vec4<f32>(ld_tap(px, t7, inside(y, xi, t7))), g, c7);
    }
  }
  let base = gid.z * k * p.c2;
  store_part(base, r0, c0, j0);
  store_part(base, r0 + 1u, c1, j0);
  store_part(base, r0 + 2u, c2, j0);
  store_part(base, r0 + 3u, c3, j0);
  store_part(base, r0 + 4u, c4, j0);
  store_part(base, r0 + 5u, c5, j0);
  store_part(base, r0 + 6u, c6, j0);
  store_part(base, r0 + 7u, c7, j0);
}

// conv3x3_dw with c1 a multiple of 8 and c2 of 4: an invocation's 8 rows are then one tap's
// channels ci..ci+7, read as two vectors, with one bounds test, and dY's 4 channels as one vector:
// 3 loads per pixel instead of 12. The same products in the same order, so the same bits.
@compute @workgroup_size(8, 8)
fn conv3x3_dw_v4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.y * PX;
  let j0 = gid.x * 4u;
  let k = 9u * p.c1;
  if (r0 >= k || j0 >= p.c2) { return; }
  let tap = row_tap(r0);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  let first = gid.z * p.rows_per_chunk;
  let last = min(first + p.rows_per_chunk, p.n * p.h);
  for (var rr = first; rr < last; rr++) {
    let y = i32(rr % p.h);
    for (var x = 0u; x < p.w; x++) {
      let px = rr * p.w + x;
      let g = B4[(px * p.c2 + j0) / 4u];
      let ok = inside(y, i32(x), tap);
      let o = u32(max(i32(px * p.c1) + tap.z, 0)) / 4u;
      let lo = select(vec4<f32>(0.0), A4[o], ok);
      let hi = select(vec4<f32>(0.0), A4[o + 1u], ok);
      c0 = fma(vec4<f32>(lo.x), g, c0);
      c1 = fma(vec4<f32>(lo.y), g, c1);
      c2 = fma(vec4<f32>(lo.z), g, c2);
      c3 = fma(vec4<f32>(lo.w), g, c3);
      c4 = fma(vec4<f32>(hi.x), g, c4);
      c5 = fma(vec4<f32>(hi.y), g, c5);
      c6 = fma(vec4<f32>(hi.z), g, c6);
      c7 = fma(vec4<f32>(hi.w), g, c7);
    }
  }
  let base = gid.z * k * p.c2;
  store_part(base, r0, c0, j0);
  store_part(base, r0 + 1u, c1, j0);
  store_part(base, r0 + 2u, c2, j0);
  store_part(base, r0 + 3u, c3, j0);
  store_part(base, r0 + 4u, c4, j0);
  store_part(base, r0 + 5u, c5, j0);
  store_part(base, r0 + 6u, c6, j0);
  store_part(base, r0 + 7u, c7, j0);
}

@compute @workgroup_size(WG)
fn conv3x3_dw_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = flat_index(gid, nw);
  if (e >= p.count) { return; }
  var s = 0.0;
  for (var z = 0u; z < p.chunks; z++) { s = s + A[z * p.count + e]; }
  C[e] = s;
}

// conv3x3_dw with both operands staged in workgroup memory: the reduction runs over the chunk's pixels
// in blocks of 32, in ascending order like conv3x3_dw.
@compute @workgroup_size(8, 8)
fn conv3x3_dw_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let ti = wid.y * 32u; // first dW row (tap·c1 + channel)
  let tj = wid.x * 32u; // first output channel
  let k = 9u * p.c1;
  // Invocation t stages dW row t % 32 of every image block, so it decodes that row's tap once.
  let rl = t % 32u;
  let tap = row_tap(min(ti + rl, k - 1u));
  let first = wid.z * p.rows_per_chunk * p.w;
  let last = min(first + p.rows_per_chunk * p.w, p.n * p.h * p.w);
  var acc = array<vec4<f32>, 4>();
  for (var p0 = first; p0 < last; p0 += 32u) {
    for (var e = 0u; e < 16u; e++) {
      let px = p0 + 2u * e + t / 32u;
      var a = 0.0;
      if (px < last && ti + rl < k) {
        let y = i32((px / p.w) % p.h);
        a = ld_tap(px, tap, inside(y, i32(px % p.w), tap));
      }
      As[(px - p0) * 32u + rl] = a;
      let f = e * 64u + t; // dY: neighbouring invocations read neighbouring channels
      let g = p0 + f / 32u;
      let j = tj + f % 32u;
      var v = 0.0;
      if (g < last && j < p.c2) { v = B[g * p.c2 + j]; }
      Bs[f] = v;
    }
    workgroupBarrier();
    tile_product(t, &acc);
    workgroupBarrier();
  }
  let r0 = ti + (t / 8u) * 4u;
  let j0 = tj + (t % 8u) * 4u;
  let base = wid.z * k * p.c2;
  for (var r = 0u; r < 4u; r++) { store_part(base, r0 + r, acc[r], j0); }
}
