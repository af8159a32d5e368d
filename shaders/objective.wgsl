// Weight kernels of the contrastive objectives, the GPU twins of objective.SimCLRWeights,
// objective.SogCLRWeights and objective.InfoNCE (core/objective/objective.go).
//
// S and Ω are 2B × cols, row-major; rows are the 2B anchors (view 1, then view 2), and only the first
// 2B columns are in-batch views. One 64-invocation workgroup reduces a row with a fixed tree in
// workgroup memory: first max s over the included columns, then Σ exp(β·(s − s_max)). Working
// relative to s_max keeps the exponent exact near the maximum (the Go twin works in float64). The
// log-sum-exp max starts from the finite sentinel NEG_BIG, never −inf (WGSL assumes finite floats).
//
// Every weight kernel also writes each anchor's in-batch InfoNCE loss (positive in the denominator)
// to RowLoss; loss_total then averages them in a fixed order into stats[StatLoss].
//!include lib/reduce
//!include lib/shape

struct Params {
  b: u32,          // images in the batch; the anchors are the 2B rows
  cols: u32,       // columns of S and Ω (the row stride)
  beta: f32,       // inverse temperature β
  avg: u32,        // sogclr_weights: 1 when the moving average applies (γ < 1)
  lg1: f32,        // sogclr_weights: log(1 − γ)
  lg2: f32,        // sogclr_weights: log γ
  log_neg: f32,    // sogclr_weights: log |N| = log(2B − 2)
  rows: u32,       // loss_total: rows to average
  zero_rest: u32,  // loss_total: 1 to also zero the other statistics
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> S: array<f32>;
@group(0) @binding(2) var<storage, read_write> Omega: array<f32>;
@group(0) @binding(3) var<storage, read_write> Stats: array<f32>;   // objective.NumStats values
@group(0) @binding(4) var<storage, read_write> RowLoss: array<f32>; // scratch: per-anchor loss
@group(0) @binding(5) var<storage, read_write> LogU: array<f32>;    // SogCLR: log u per dataset index
@group(0) @binding(6) var<storage, read_write> Batch: array<u32>;   // dataset index of each image

const NEG_BIG: f32 = -3.402823e38;      // finite stand-in for −inf in max reductions
const LN2: f32 = 0.6931471805599453;

// included is objective.include for in-batch columns c < 2B: the positive when with_pos, and every
// column that is not one of r's own views.
fn included(r: u32, c: u32, with_pos: bool) -> bool {
  if (c == pos(r, p.b)) { return with_pos; }
  return !masked(r, c, p.b);
}

// row_lse reduces anchor r: x = s_max over the included columns, y = log Σ exp(β·(s − s_max)), so
// that logSumExpRow = β·s_max + y.
fn row_lse(r: u32, with_pos: bool, lid: u32) -> vec2<f32> {
  let base = r * p.cols;
  let n = 2u * p.b;
  var m = NEG_BIG;
  for (var c = lid; c < n; c += WG) {
    if (included(r, c, with_pos)) { m = max(m, S[base + c]); }
  }
  let smax = tree_max(m, lid, WG);
  var acc = 0.0;
  for (var c = lid; c < n; c += WG) {
    if (included(r, c, with_pos)) { acc = acc + exp(p.beta * (S[base + c] - smax)); }
  }
  let total = tree_sum(acc, lid, WG);
  return vec2<f32>(smax, log(total));
}

fn log_add_exp(a: f32, b: f32) -> f32 {
  let m = max(a, b);
  return m + log(exp(a - m) + exp(b - m));
}

// softplus(t) = log(1 + e^t), finite for any t.
fn softplus(t: f32) -> f32 { return max(t, 0.0) + log(1.0 + exp(-abs(t))); }

// simclr_weights: one workgroup per anchor r. Ω[r,c] = softmax(βs)[c] over {positive} ∪ negatives,
// minus 1 on the positive; 0 on r itself and on columns ≥ 2B.
@compute @workgroup_size(WG)
fn simclr_weights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= 2u * p.b) { return; } // workgroup-uniform
  let ml = row_lse(r, true, lid);
  let smax = ml.x;
  let l = ml.y;
  let base = r * p.cols;
  let pr = pos(r, p.b);
  for (var c = lid; c < p.cols; c += WG) {
    var w = 0.0;
    if (c < 2u * p.b && included(r, c, true)) { w = exp(p.beta * (S[base + c] - smax) - l); }
    if (c == pr) { w = w - 1.0; }
    Omega[base + c] = w;
  }
  if (lid == 0u) { RowLoss[r] = p.beta * (smax - S[base + pr]) + l; }
}

// sogclr_weights: one workgroup per image k, which owns anchors k (view 1) and B+k (view 2) and
// image i = batch[k]'s log u, so the per-image update needs no synchronisation between workgroups.
// For each view: lg = log mean_{c∈N(r)} exp(βs_rc); lu = lg on the first visit (or γ = 1), else
// logaddexp(log(1−γ) + logU[i], log γ + lg); Ω[r,c] = exp(βs_rc − lu)/|N| on negatives, −1 on the
// positive. Then logU[i] = logaddexp(lu_1, lu_2) − ln 2 (the mean of the two views' u).
@compute @workgroup_size(WG)
fn sogclr_weights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x;
  if (k >= p.b) { return; } // workgroup-uniform
  let i = Batch[k];
  let prev = LogU[i];
  let visited = bitcast<u32>(prev) != UNVISITED_BITS && p.avg == 1u;
  var upd: array<f32, 2>;
  for (var v = 0u; v < 2u; v++) {
    let r = v * p.b + k;
    let ml = row_lse(r, false, lid);
    let smax = ml.x;
    let l = ml.y;
    let lg = p.beta * smax + l - p.log_neg;
    var lu = lg;
    var e = l; // lu − β·s_max + log|N|, so that Ω = exp(β·(s − s_max) − e)
    if (visited) {
      lu = log_add_exp(p.lg1 + prev, p.lg2 + lg);
      e = lu - p.beta * smax + p.log_neg;
    }
    upd[v] = lu;
    let base = r * p.cols;
    let pr = pos(r, p.b);
    for (var c = lid; c < p.cols; c += WG) {
      var w = 0.0;
      if (c < 2u * p.b && !masked(r, c, p.b)) { w = exp(p.beta * (S[base + c] - smax) - e); }
      if (c == pr) { w = -1.0; }
      Omega[base + c] = w;
    }
    // InfoNCE with the positive in the denominator: log(Σ_neg e^{βs} + e^{βs_pos}) − βs_pos.
    if (lid == 0u) { RowLoss[r] = softplus(p.beta * (smax - S[base + pr]) + l); }
  }
  storageBarrier(); // every invocation has read LogU[i] before it is overwritten
  if (lid == 0u) { LogU[i] = log_add_exp(upd[0], upd[1]) - LN2; }
}

// infonce_rows: one workgroup per anchor, RowLoss[r] = logSumExpRow(with positive) − βs_pos (the
// statistic of the methods whose weight kernel does not produce it, i.e. the MH sweep).
@compute @workgroup_size(WG)
fn infonce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= 2u * p.b) { return; } // workgroup-uniform
  let ml = row_lse(r, true, lid);
  if (lid == 0u) { RowLoss[r] = p.beta * (ml.x - S[r * p.cols + pos(r, p.b)]) + ml.y; }
}

// loss_total: one workgroup; stats[StatLoss] = mean of RowLoss[0 .. rows) (strided partial sums, then
// the fixed tree: deterministic), and the other statistics = 0 when zero_rest.
@compute @workgroup_size(WG)
fn loss_total(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var r = lid; r < p.rows; r += WG) { acc = acc + RowLoss[r]; }
  let total = tree_sum(acc, lid, WG);
  if (lid == 0u) {
    Stats[STAT_LOSS] = total / f32(p.rows);
    if (p.zero_rest == 1u) {
      for (var s = 0u; s < NUM_STATS; s++) { if (s != STAT_LOSS) { Stats[s] = 0.0; } }
    }
  }
}
