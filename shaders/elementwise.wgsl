// Column sums, the bias gradient of a layer, the GPU twin of nn.colSums (core/nn/conv.go), and with a
// ReLU's backward folded in, the twin of nn.reluMask followed by nn.colSums.

struct Params {
  n: u32,      // columns
  rows: u32,   // rows to sum
  chunk: u32,  // rows per invocation
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> R: array<f32>; // col_sums_relu: the ReLU's output

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

// col_sums_relu is col_sums of the gradient of a ReLU's output R: each element of X is first zeroed
// where R ≤ 0 and written back, so the layer's other gradients read it masked. Every element is in
// exactly one chunk, so the ReLU's backward costs no pass over the gradient of its own.
@compute @workgroup_size(WG)
fn col_sums_relu(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.n) { return; }
  let first = gid.y * p.chunk;
  let last = min(first + p.chunk, p.rows);
  var s = 0.0;
  for (var r = first; r < last; r++) {
    let i = r * p.n + j;
    if (R[i] <= 0.0) { X[i] = 0.0; }
    s = s + X[i];
  }
  Y[gid.y * p.n + j] = s;
}
