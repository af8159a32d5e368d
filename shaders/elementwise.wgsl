// Small element-wise and reduction kernels shared by several layers. Go twins: nn.reluMask and
// nn.colSums (core/nn/conv.go).
//!include lib/grid

struct Params {
  n: u32,      // elements (relu_mask) or columns (col_sums)
  rows: u32,   // col_sums: rows to sum
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

// relu_mask: X[i] = 0 where Y[i] <= 0 (the ReLU's backward, in place on the gradient X).
@compute @workgroup_size(WG)
fn relu_mask(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = flat_index(gid, nw);
  if (i < p.n && Y[i] <= 0.0) { X[i] = 0.0; }
}

// col_sums: Y[j] = Σ_r X[r·n + j], one invocation per column, rows summed in order (deterministic).
@compute @workgroup_size(WG)
fn col_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.n) { return; }
  var s = 0.0;
  for (var r = 0u; r < p.rows; r++) { s = s + X[r * p.n + j]; }
  Y[j] = s;
}
