// EMC²'s Metropolis–Hastings sweep, the GPU twin of mcmc.Sweep, mcmc.Accept, mcmc.Draw and
// mcmc.ChainRows (core/mcmc/sweep.go), written to read line by line against it.
//
// mh_sweep runs ONE invocation per chain k (image i = batch[k]), sequentially over the views v and the
// proposals j exactly as the Go loop does, with the same uniforms (Philox, rng.StreamMH) and the same
// log-domain acceptance test, so its decisions are the CPU's decision by decision. Chain k owns
// anchor rows k and B+k of Ω (it zeroes them first) and image i's chain state, so no two invocations
// touch the same memory (the batch holds distinct images). Its statistics go to Counts
// (NUM_COUNTS per chain); mh_stats then sums them over the chains in order into
// stats[StatProposals ..]. stats[StatLoss] comes from the objective family (infonce_rows +
// loss_total), dispatched by the host.
//!include lib/rng
//!include lib/shape

struct Params {
  b: u32,          // chains = images in the batch
  cols: u32,       // columns of S and Ω: 2B (paper) or 3B (fresh)
  beta: f32,
  burn: i32,       // P = Params.BurnInSteps()
  inv: f32,        // 1/M = 1/float32(Params.Norm()), rounded on the host like the Go twin
  variant: u32,    // mcmc.Variant: PAPER, FRESH or IID
  key0: u32,       // rng.Key
  key1: u32,
  step: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Omega: array<f32>;
@group(0) @binding(2) var<storage, read_write> S: array<f32>;
@group(0) @binding(3) var<storage, read_write> ChainIdx: array<u32>;   // per dataset index
@group(0) @binding(4) var<storage, read_write> ChainScore: array<f32>; // per dataset index
@group(0) @binding(5) var<storage, read_write> Batch: array<u32>;
@group(0) @binding(6) var<storage, read_write> Counts: array<u32>;     // scratch: NUM_COUNTS per chain
@group(0) @binding(7) var<storage, read_write> Stats: array<f32>;      // objective.NumStats values
@group(0) @binding(8) var<storage, read_write> Rows: array<u32>;       // chain_rows: the encoder's rows

// accept is mcmc.Accept: u ≤ exp(q − score), decided in the log domain.
fn accept(q: f32, score: f32, u: f32) -> bool {
  let d = q - score;
  return d >= 0.0 || log(u) < d;
}

// count_at is the place of chain k's MH statistic stat (StatProposals ..) in Counts.
fn count_at(k: u32, stat: u32) -> u32 { return k * NUM_COUNTS + stat - STAT_PROPOSALS; }

// rescores is Variant.Rescores: the chain's state is scored with current features.
fn rescores() -> bool { return p.variant != PAPER; }

// Draw is what mcmc.Draw returns: the MH uniform u and, for IID, the proposed column.
struct Draw { u: f32, col: u32 }

// draw is mcmc.Draw: the randomness of chain k's step j in view v.
fn draw(step: u32, k: u32, v: u32, j: u32, b: u32) -> Draw {
  let bits = rng_bits(vec2<u32>(p.key0, p.key1), STREAM_MH, step, k, v * 2u * b + j);
  return Draw(to_unit_open(bits.x), bits.y % (2u * b));
}

@compute @workgroup_size(WG)
fn mh_sweep(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let b = p.b;
  let cols = p.cols;
  if (k >= b) { return; }
  // clear(omega): this chain's two anchor rows.
  for (var c = 0u; c < cols; c++) {
    Omega[k * cols + c] = 0.0;
    Omega[(b + k) * cols + c] = 0.0;
  }
  let burn = p.burn;
  let inv = p.inv;
  let beta = p.beta;
  var proposals = 0u; // st[StatProposals]
  var accepted = 0u;  // st[StatAccepted]
  var recorded = 0u;  // st[StatRecorded]
  var dropped = 0u;   // st[StatDropped]
  var state = 0u;     // st[StatState]

  let i = Batch[k];
  var col = -1;
  var score = ChainScore[i];
  if (rescores()) {
    col = -1;
    score = UNVISITED;
    if (ChainIdx[i] != NO_STATE) {
      col = i32(2u * b + k);
      score = beta * S[k * cols + u32(col)];
    }
  }
  for (var v = 0u; v < 2u; v++) {
    let r = v * b + k;
    if (rescores() && v == 1u && col >= 0) {
      score = beta * S[r * cols + u32(col)]; // view 2 scores its state against its own anchor
    }
    for (var j = 0u; j < 2u * b; j++) {
      let d = draw(p.step, k, v, j, b);
      var c = d.col;
      if (p.variant != IID) {
        c = j; // the sweep proposes the columns in order
      }
      let own = masked(r, c, b); // own view: never a negative (the code's q = 0)
      if (!own) {
        proposals++;
        let q = beta * S[r * cols + c];
        if (accept(q, score, d.u)) {
          col = i32(c);
          score = q;
          accepted++;
        }
      }
      if (i32(j) > burn && (!own || p.variant == IID)) { // the in-order sweep skips own columns
        recorded++;
        if (col < 0) {
          dropped++;
        } else {
          if (u32(col) >= 2u * b) {
            state++;
          }
          Omega[r * cols + u32(col)] += inv;
        }
      }
    }
    Omega[r * cols + pos(r, b)] = -1.0;
  }
  ChainScore[i] = score;
  if (col >= 0 && u32(col) < 2u * b) {
    ChainIdx[i] = Batch[u32(col) % b];
  }
  Counts[count_at(k, STAT_PROPOSALS)] = proposals;
  Counts[count_at(k, STAT_ACCEPTED)] = accepted;
  Counts[count_at(k, STAT_RECORDED)] = recorded;
  Counts[count_at(k, STAT_DROPPED)] = dropped;
  Counts[count_at(k, STAT_STATE)] = state;
}

// mh_stats: one invocation per MH statistic, summing it over the chains in order (integer sums,
// exact; float32 is exact below 2²⁴).
@compute @workgroup_size(WG)
fn mh_stats(@builtin(local_invocation_index) lid: u32) {
  if (lid >= NUM_COUNTS) { return; }
  let stat = STAT_PROPOSALS + lid;
  var total = 0u;
  for (var k = 0u; k < p.b; k++) { total += Counts[count_at(k, stat)]; }
  Stats[stat] = f32(total);
}

// chain_rows is mcmc.ChainRows: Rows[2B+k] = the dataset index of chain k's state, or the anchor's
// own index while the chain is empty.
@compute @workgroup_size(WG)
fn chain_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let b = p.b;
  if (k >= b) { return; }
  var z = ChainIdx[Batch[k]];
  if (z == NO_STATE) {
    z = Batch[k];
  }
  Rows[2u * b + k] = z;
}
