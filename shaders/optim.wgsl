// Optimizer updates over the flat parameter arena, the GPU twin of optim.Step (core/optim/optim.go):
// SGD with momentum, Adam and LARS, with coupled weight decay on the Decay segments only.
//
// The segment table `seg` holds 4 words per segment: offset, length, decay (0/1) and the first
// workgroup of the segment in the update grid. An update workgroup covers PER_WG consecutive elements
// of one segment (WG invocations, strided by WG), and finds its segment by a binary search over the
// first-workgroup column. LARS first runs optim_lars_norms, one workgroup per segment: ‖p‖² and
// ‖g + wd·p‖² by a fixed tree in workgroup memory, then q = η·‖p‖/‖g + wd·p‖ (1 for segments without
// decay, or when either norm is 0) into Q[segment].
//!include lib/grid
//!include lib/reduce

struct Params {
  nseg: u32,       // segments in the table
  wg_total: u32,   // workgroups of the update grid
  lr: f32,
  momentum: f32,   // SGD, LARS
  beta1: f32, beta2: f32,
  omb1: f32, omb2: f32,  // 1 − β1, 1 − β2 (float32, as the Go twin rounds them)
  eps: f32,
  wd: f32,         // weight decay of the Decay segments
  trust: f32,      // LARS η
  c1: f32, c2: f32,      // Adam's bias corrections 1 − β^T, from the host (float64 pow, as Go)
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read_write> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
@group(0) @binding(5) var<storage, read_write> seg: array<u32>;
@group(0) @binding(6) var<storage, read_write> Q: array<f32>;

const NORM_WG = 128u; // invocations of optim_lars_norms

// find_segment returns the last segment whose first workgroup is at most w.
fn find_segment(w: u32) -> u32 {
  var lo = 0u;
  var hi = p.nseg - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (seg[4u * mid + 3u] <= w) { lo = mid; } else { hi = mid - 1u; }
  }
  return lo;
}

// Span is the part of the arena an update workgroup covers: elements first .. end−1 of segment s,
// whose weight decay is wd (0 for segments without decay).
struct Span { s: u32, first: u32, end: u32, wd: f32 }

// span is update workgroup w's Span; empty for the workgroups past the end of the grid.
fn span(w: u32) -> Span {
  if (w >= p.wg_total) { return Span(0u, 0u, 0u, 0.0); }
  let s = find_segment(w);
  let off = seg[4u * s];
  let start = (w - seg[4u * s + 3u]) * PER_WG;
  let end = off + min(start + PER_WG, seg[4u * s + 1u]);
  return Span(s, off + start, end, select(0.0, p.wd, seg[4u * s + 2u] == 1u));
}

@compute @workgroup_size(WG)
fn optim_sgd(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nw: vec3<u32>) {
  let sp = span(group_index(wid, nw));
  for (var i = sp.first + lid; i < sp.end; i += WG) {
    let d = G[i] + sp.wd * P[i];
    let m = p.momentum * M[i] + d;
    M[i] = m;
    P[i] = P[i] - p.lr * m;
  }
}

@compute @workgroup_size(WG)
fn optim_adam(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nw: vec3<u32>) {
  let sp = span(group_index(wid, nw));
  for (var i = sp.first + lid; i < sp.end; i += WG) {
    let d = G[i] + sp.wd * P[i];
    let m = p.beta1 * M[i] + p.omb1 * d;
    let v = p.beta2 * V[i] + p.omb2 * d * d;
    M[i] = m;
    V[i] = v;
    let mh = m / p.c1;
    let vh = v / p.c2;
    P[i] = P[i] - p.lr * mh / (sqrt(vh) + p.eps);
  }
}

@compute @workgroup_size(NORM_WG)
fn optim_lars_norms(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let s = wid.x;
  if (s >= p.nseg) { return; } // workgroup-uniform
  let off = seg[4u * s];
  // segments without decay sum nothing (the loop bound, not a branch around the barriers)
  let len = select(0u, seg[4u * s + 1u], seg[4u * s + 2u] == 1u);
  // blocks of 32 strided values are summed first, then the block sums: a shorter chain of roundings
  var pn = 0.0;
  var un = 0.0;
  var i = lid;
  while (i < len) {
    var bp = 0.0;
    var bu = 0.0;
    for (var k = 0u; k < 32u && i < len; k++) {
      let x = P[off + i];
      let d = G[off + i] + p.wd * x;
      bp += x * x;
      bu += d * d;
      i += NORM_WG;
    }
    pn += bp;
    un += bu;
  }
  let pt = tree_sum(pn, lid, NORM_WG);
  let ut = tree_sum(un, lid, NORM_WG);
  if (lid == 0u) {
    var q = 1.0;
    if (pt > 0.0 && ut > 0.0) { q = p.trust * (sqrt(pt) / sqrt(ut)); }
    Q[s] = q;
  }
}

@compute @workgroup_size(WG)
fn optim_lars(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nw: vec3<u32>) {
  let sp = span(group_index(wid, nw));
  let q = Q[sp.s];
  for (var i = sp.first + lid; i < sp.end; i += WG) {
    let d = (G[i] + sp.wd * P[i]) * q;
    let m = p.momentum * M[i] + d;
    M[i] = m;
    P[i] = P[i] - p.lr * m;
  }
}
