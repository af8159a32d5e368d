// Row-wise L2 normalisation of the projection head, the GPU twin of nn.L2Norm and nn.L2NormBack
// (core/nn/layers.go):
//   l2norm:      norm[r] = max(‖x_r‖, NormEps), y_r = x_r · (1/norm[r])
//   l2norm_back: dx_r = (dy_r − y_r·⟨y_r, dy_r⟩) · (1/norm[r])
// One 64-invocation workgroup per row: each invocation accumulates a strided slice of the row in a
// register, then a fixed tree in workgroup memory sums the 64 partials (deterministic; the Go twin
// accumulates in float64, so the two agree to rounding). Rows beyond 65535 use a 2-D grid.
//!include lib/grid
//!include lib/reduce

struct Params {
  rows: u32,
  d: u32,      // row length
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;     // y (written by l2norm, read by l2norm_back)
@group(0) @binding(2) var<storage, read_write> Norm: array<f32>;  // per-row norms
@group(0) @binding(3) var<storage, read_write> In: array<f32>;    // x (l2norm) or dy (l2norm_back)
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;    // dx (l2norm_back only)

@compute @workgroup_size(WG)
fn l2norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let r = group_index(wid, nw);
  if (r >= p.rows) { return; } // workgroup-uniform
  let base = r * p.d;
  var acc = 0.0;
  for (var j = lid; j < p.d; j += WG) {
    let v = In[base + j];
    acc = acc + v * v;
  }
  let s = tree_sum(acc, lid, WG);
  let nr = max(sqrt(s), NORM_EPS);
  if (lid == 0u) { Norm[r] = nr; }
  let inv = 1.0 / nr;
  for (var j = lid; j < p.d; j += WG) {
    Y[base + j] = In[base + j] * inv;
  }
}

@compute @workgroup_size(WG)
fn l2norm_back(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let r = group_index(wid, nw);
  if (r >= p.rows) { return; } // workgroup-uniform
  let base = r * p.d;
  var acc = 0.0;
  for (var j = lid; j < p.d; j += WG) {
    acc = acc + Y[base + j] * In[base + j];
  }
  let dot = tree_sum(acc, lid, WG);
  let inv = 1.0 / Norm[r];
  for (var j = lid; j < p.d; j += WG) {
    DX[base + j] = (In[base + j] - Y[base + j] * dot) * inv;
  }
}
