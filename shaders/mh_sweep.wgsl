// EMC²'s Metropolis–Hastings sweep, the GPU twin of mcmc.Sweep, mcmc.Accept, mcmc.Draw and
// mcmc.ChainRows (core/mcmc/sweep.go), written to read line by line against it.
//
// A chain k (image i = batch[k]) is sequential: each decision depends on the state the last one
// left. Its decisions are made by propose (below) in the Go loop's order, with the same uniforms
// (Philox, rng.StreamMH) and the same log-domain acceptance test, so they are the CPU's decision by
// decision. Two kernels drive it, the same bits either way:
//   - mh_sweep: one invocation per chain, which draws, reads S and decides (software adapters, where
//     the chains of a workgroup run side by side in the CPU's vector lanes);
//   - mh_sweep_staged: one workgroup per chain (hardware GPUs, with the tiled matrix kernels). For a
//     chunk of WG proposals at a time the workgroup draws the uniforms, takes their logs and reads
//     the similarities in parallel into workgroup memory; then invocation 0 decides the chunk in
//     order from there: a few arithmetic operations per decision instead of a random-number draw and
//     a global-memory read, with B·WG threads at work instead of B.
// Chain k owns anchor rows k and B+k of Ω (it zeroes them first) and image i's chain state, so no
// two chains touch the same memory (the batch holds distinct images). Its statistics go to Counts
// (NUM_COUNTS per chain); mh_stats then sums them over the chains in order into stats[StatProposals
// ..]. stats[StatLoss] comes from the objective family (infonce_rows + loss_total), dispatched by the
// host.
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

// accept is mcmc.Accept: u ≤ exp(q − score), decided in the log domain (lu = log u).
fn accept(q: f32, score: f32, lu: f32) -> bool {
  let d = q - score;
  return d >= 0.0 || lu < d;
}

// count_at is the place of chain k's MH statistic stat (StatProposals ..) in Counts.
fn count_at(k: u32, stat: u32) -> u32 { return k * NUM_COUNTS + stat - STAT_PROPOSALS; }

// rescores is Variant.Rescores: the chain's state is scored with current features.
fn rescores() -> bool { return p.variant != PAPER; }

// Proposal is what step j of a view proposes: column col, q = β·S[r, col], and log u of mcmc.Draw's
// uniform.
struct Proposal { col: u32, q: f32, lu: f32 }

// proposal draws step j of chain k's view v (anchor row r): mcmc.Draw, and the column it proposes.
fn proposal(k: u32, v: u32, r: u32, j: u32) -> Proposal {
  let b = p.b;
  let bits = rng_bits(vec2<u32>(p.key0, p.key1), STREAM_MH, p.step, k, v * 2u * b + j);
  var c = bits.y % (2u * b);
  if (p.variant != IID) {
    c = j; // the sweep proposes the columns in order
  }
  return Proposal(c, p.beta * S[r * p.cols + c], log(to_unit_open(bits.x)));
}

// Chain is a chain's state during a sweep. A run of recorded steps in one state adds 1/M to one
// entry of Ω; the sum is kept in run_acc, starting from that entry's value, and stored when the state
// changes, so Ω gets the Go twin's additions in its order without a memory round trip per step.
struct Chain {
  col: i32,
  score: f32,
  run_col: i32,   // the entry of the view's row that run_acc belongs to, or -1
  run_acc: f32,
  proposals: u32, // st[StatProposals]
  accepted: u32,  // st[StatAccepted]
  recorded: u32,  // st[StatRecorded]
  dropped: u32,   // st[StatDropped]
  state: u32,     // st[StatState]
}

// start_chain clears chain k's two anchor rows of Ω when clear is set (mh_sweep_staged's workgroup
// clears them together instead) and reads image i's chain state.
fn start_chain(k: u32, i: u32, clear: bool) -> Chain {
  let b = p.b;
  let cols = p.cols;
  if (clear) {
    for (var c = 0u; c < cols; c++) {
      Omega[k * cols + c] = 0.0;
      Omega[(b + k) * cols + c] = 0.0;
    }
  }
  var ch = Chain(-1, ChainScore[i], -1, 0.0, 0u, 0u, 0u, 0u, 0u);
  if (rescores()) {
    ch.score = UNVISITED;
    if (ChainIdx[i] != NO_STATE) {
      ch.col = i32(2u * b + k);
      ch.score = p.beta * S[k * cols + u32(ch.col)];
    }
  }
  return ch;
}

// start_view rescores the state of view 2 against its own anchor.
fn start_view(ch: ptr<function, Chain>, v: u32, r: u32) {
  if (rescores() && v == 1u && (*ch).col >= 0) {
    (*ch).score = p.beta * S[r * p.cols + u32((*ch).col)];
  }
}

// propose decides step j of view row r, and records the state after the burn-in.
fn propose(ch: ptr<function, Chain>, r: u32, j: u32, pr: Proposal) {
  let b = p.b;
  let own = masked(r, pr.col, b); // own view: never a negative (the code's q = 0)
  if (!own) {
    (*ch).proposals++;
    if (accept(pr.q, (*ch).score, pr.lu)) {
      (*ch).col = i32(pr.col);
      (*ch).score = pr.q;
      (*ch).accepted++;
    }
  }
  if (i32(j) > p.burn && (!own || p.variant == IID)) { // the in-order sweep skips own columns
    (*ch).recorded++;
    if ((*ch).col < 0) {
      (*ch).dropped++;
    } else {
      if (u32((*ch).col) >= 2u * b) {
        (*ch).state++;
      }
      if ((*ch).col != (*ch).run_col) { // Ω[r, col] += 1/M
        flush(ch, r);
        (*ch).run_col = (*ch).col;
        (*ch).run_acc = Omega[r * p.cols + u32((*ch).col)];
      }
      (*ch).run_acc += p.inv;
    }
  }
}

// flush stores the run's sum in Ω.
fn flush(ch: ptr<function, Chain>, r: u32) {
  if ((*ch).run_col >= 0) {
    Omega[r * p.cols + u32((*ch).run_col)] = (*ch).run_acc;
  }
  (*ch).run_col = -1;
}

// end_view stores the view's last run and marks the positive.
fn end_view(ch: ptr<function, Chain>, r: u32) {
  flush(ch, r);
  Omega[r * p.cols + pos(r, p.b)] = -1.0;
}

// end_chain writes image i's chain state and chain k's statistics.
fn end_chain(ch: Chain, k: u32, i: u32) {
  let b = p.b;
  ChainScore[i] = ch.score;
  if (ch.col >= 0 && u32(ch.col) < 2u * b) {
    ChainIdx[i] = Batch[u32(ch.col) % b];
  }
  Counts[count_at(k, STAT_PROPOSALS)] = ch.proposals;
  Counts[count_at(k, STAT_ACCEPTED)] = ch.accepted;
  Counts[count_at(k, STAT_RECORDED)] = ch.recorded;
  Counts[count_at(k, STAT_DROPPED)] = ch.dropped;
  Counts[count_at(k, STAT_STATE)] = ch.state;
}

@compute @workgroup_size(WG)
fn mh_sweep(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let b = p.b;
  if (k >= b) { return; }
  let i = Batch[k];
  var ch = start_chain(k, i, true);
  for (var v = 0u; v < 2u; v++) {
    let r = v * b + k;
    start_view(&ch, v, r);
    for (var j = 0u; j < 2u * b; j++) {
      propose(&ch, r, j, proposal(k, v, r, j));
    }
    end_view(&ch, r);
  }
  end_chain(ch, k, i);
}

// One chunk of a view's proposals for mh_sweep_staged: proposal base+t is staged[t].
var<workgroup> staged: array<Proposal, WG>;

@compute @workgroup_size(WG)
fn mh_sweep_staged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x;
  let b = p.b;
  let cols = p.cols;
  if (k >= b) { return; } // uniform: the whole workgroup leaves
  for (var c = lid; c < cols; c += WG) {
    Omega[k * cols + c] = 0.0;
    Omega[(b + k) * cols + c] = 0.0;
  }
  storageBarrier(); // the zeros are visible to invocation 0, which adds to them
  let i = Batch[k];
  var ch = start_chain(k, i, false);
  for (var v = 0u; v < 2u; v++) {
    let r = v * b + k;
    if (lid == 0u) {
      start_view(&ch, v, r);
    }
    for (var base = 0u; base < 2u * b; base += WG) {
      if (base + lid < 2u * b) {
        staged[lid] = proposal(k, v, r, base + lid);
      }
      workgroupBarrier();
      if (lid == 0u) {
        for (var t = 0u; t < min(WG, 2u * b - base); t++) {
          propose(&ch, r, base + t, staged[t]);
        }
      }
      workgroupBarrier(); // the chunk is decided before the next one is staged
    }
    if (lid == 0u) {
      end_view(&ch, r);
    }
  }
  if (lid == 0u) {
    end_chain(ch, k, i);
  }
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
