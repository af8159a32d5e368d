// Small element-wise and reduction kernels shared by several layers. Go twins: nn.reluMask and
// nn.colSums (core/nn/conv.go).
//!include lib/grid

struct Params {
  n: u32,      // elements (relu_mask) or columns (col_sums)
  rows: u32,   // col_sums: rows to sum
  chunk: u32,  // col_sums: rows per invocation
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

// col_sums: Y[z·n + j] = Σ X[r·n + j] over the rows r of chunk z (gid.y), in order, so the result is
// deterministic; the host adds the chunks' rows with a second col_sums when there are several.
@compute @workgroup_size(WG)
fn col_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.n) { return; }
  let first = gid.y * p.chunk;
  let last = min(first + p.chunk, p.rows);
  var s = 0.0;
  for (var r = first; r < last; r++) { s = s + X[r * p.n + j]; }
  Y[gid.y * p.n + j] = s;
}
