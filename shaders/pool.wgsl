// 2×2 max pooling with stride 2 (NHWC, floor mode), the GPU twin of nn.MaxPool2 and nn.MaxPool2Back
// (core/nn/layers.go).
//   maxpool2:      one invocation per output; arg = 0..3, the row-major position of the first maximum
//                  (strict >, so ties go to the earliest position, as on the CPU).
//   maxpool2_back: one invocation per output, like maxpool2: it writes its window's four gradients
//                  (dY at the arg, 0 elsewhere) and, beside the last window of an odd width or
//                  height, the zeros of the dropped column and row. The windows do not overlap, so
//                  every element of dX is written exactly once, without atomics. (A gather, one
//                  invocation per input element, did four times the index arithmetic and loads.)
//!include lib/grid

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  total: u32, // outputs
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;   // x; dX in maxpool2_back
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;   // y; dY in maxpool2_back
@group(0) @binding(3) var<storage, read_write> Arg: array<u32>;

// Window o (output index, NHWC): the input offset of its top-left element, and whether it is the
// last window of its row (x) and of its column (y).
fn window(o: u32) -> vec3<u32> {
  let oh = p.h / 2u;
  let ow = p.w / 2u;
  let ch = o % p.c;
  let px = o / p.c;
  let ox = px % ow;
  let oy = (px / ow) % oh;
  let n = px / (ow * oh);
  return vec3<u32>(((n * p.h + 2u * oy) * p.w + 2u * ox) * p.c + ch, bit(ox == ow - 1u), bit(oy == oh - 1u));
}

fn bit(b: bool) -> u32 { return select(0u, 1u, b); }

@compute @workgroup_size(WG)
fn maxpool2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = flat_index(gid, nw);
  if (o >= p.total) { return; }
  let win = window(o);
  let i0 = win.x;
  let row = p.w * p.c;
  var best = X[i0];
  var bi = 0u;
  let v1 = X[i0 + p.c];
  if (v1 > best) { best = v1; bi = 1u; }
  let v2 = X[i0 + row];
  if (v2 > best) { best = v2; bi = 2u; }
  let v3 = X[i0 + row + p.c];
  if (v3 > best) { best = v3; bi = 3u; }
  Y[o] = best;
  Arg[o] = bi;
}

@compute @workgroup_size(WG)
fn maxpool2_back(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = flat_index(gid, nw);
  if (o >= p.total) { return; }
  let win = window(o);
  let i0 = win.x;
  let row = p.w * p.c;
  let g = Y[o];
  let a = Arg[o];
  X[i0] = select(0.0, g, a == 0u);
  X[i0 + p.c] = select(0.0, g, a == 1u);
  X[i0 + row] = select(0.0, g, a == 2u);
  X[i0 + row + p.c] = select(0.0, g, a == 3u);
  // The column and row that an odd width or height drops, beside the last window: zero.
  let right = (p.w % 2u == 1u) & (win.y == 1u);
  let bottom = (p.h % 2u == 1u) & (win.z == 1u);
  if (right) {
    X[i0 + 2u * p.c] = 0.0;
    X[i0 + row + 2u * p.c] = 0.0;
  }
  if (bottom) {
    X[i0 + 2u * row] = 0.0;
    X[i0 + 2u * row + p.c] = 0.0;
  }
  if (right & bottom) { X[i0 + 2u * row + 2u * p.c] = 0.0; }
}
