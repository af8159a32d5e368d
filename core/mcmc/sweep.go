// Package mcmc is EMC²'s negative sampler (Yau et al., ICML 2024): one Metropolis–Hastings chain per
// training image, whose state is a negative for that image, kept across iterations as two numbers
// (the state's dataset index and its log-score β·s). Each iteration sweeps the chains of the batch
// over the 2B in-batch views as independent uniform proposals and turns the recorded states into the
// weights Ω of the surrogate loss (core/objective). This file is the whole sampler; its WGSL twin is
// shaders/mh_sweep.wgsl, and both follow the paper's Algorithm 1 as the authors' code runs it:
//
//	for each chain k of the batch (image i = batch[k]):
//	  state = (column −1 = "last iteration's negative", score = stored log-score)
//	  for view v in (1, 2):                      # view 2 continues the same chain
//	    r = anchor row of view v of image i
//	    for j in 0..2B−1:                        # every in-batch column is a proposal
//	      if j is not i's own view:
//	        q = β·S[r, j]
//	        accept with probability min(1, exp(q − score)) → state = (j, q)
//	      if j > P and j is not i's own view:    # after burn-in P = ⌊burnIn·2(B−1)⌋
//	        record (r, state column)            # Ω[r, column] += 1/M, M = 2(B−1) − P
//	  store the state's dataset index and score
//
// Four variants:
//   - Paper reproduces the released code: the stored score is stale (computed when the state was
//     accepted, with older weights and another augmentation), and a recorded state that is still
//     last iteration's negative (column −1) is dropped — it adds nothing to Ω but still counts in M.
//   - Fresh re-scores the chain's current state with current features: the caller forwards one view
//     of each chain's state image as extra column 2B+k (see ChainRows), the chain starts from
//     (2B+k, β·S[r, 2B+k]), and view 2 re-scores its state against its own anchor. Every recorded step
//     then counts, at one extra forward per image and no extra memory.
//   - Cached sweeps as Fresh does, but column 2B+k holds the state's embedding from a per-image
//     cache (each image's view-1 embedding, written whenever the image is in a batch) instead of a
//     fresh forward: no extra encoder rows, d floats per image of memory (core/train keeps the cache),
//     and no gradient through the state (its cached embedding is a constant, as in a memory bank).
//   - IID (experimental) scores like Fresh but draws each of the 2B proposals uniformly at random
//     (with replacement) instead of sweeping the columns in order, and records every step after
//     burn-in (an own-view proposal is rejected and records the current state), so M = 2B − 1 − P.
//     A step with a fixed proposal does not leave softmax(β·s) invariant, a step with a uniform random
//     one does: when the batch is the whole dataset (B = n) IID removes the in-order sweep's bias
//     (estimator_test.go). How the variants compare at B < n is measured by `emc2 experiment mixing`
//     (docs/RESULTS.md).
package mcmc

import (
	"math"

	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
)

// Variant selects how a chain's current state is scored.
type Variant int

const (
	Paper  Variant = iota // stale stored score, out-of-batch states dropped (the released code)
	Fresh                 // current state re-scored with current features each iteration
	IID                   // Fresh scoring, uniform random proposals: an exact MH kernel
	Cached                // Fresh's sweep, the state scored from a per-image cache of embeddings
)

// Rescores reports whether the variant scores the chain's state with current features (and so
// needs the extra state column 2B+k).
func (v Variant) Rescores() bool { return v != Paper }

// NoState marks a chain that has never accepted a state.
const NoState = math.MaxUint32

// Params configures one sweep.
type Params struct {
	objective.Shape         // B chains; Cols = 2B (paper) or 3B (fresh)
	BurnIn          float64 // fraction of each view's 2(B−1) proposals discarded (0.5 in the paper's runs)
	Variant         Variant
	Key             rng.Key
	Step            uint32
}

// BurnInSteps is P = ⌊burnIn·2(B−1)⌋, computed from the configured fraction in float64 so that, e.g.,
// 0.7 at B = 6 gives 7 (a float32 0.7 is 0.69999999, which would give 6).
func (p Params) BurnInSteps() int { return int(math.Floor(p.BurnIn*float64(2*(p.B-1)) + 1e-9)) }

// Norm is M, the number of recorded steps per anchor: 2(B−1) − P for the in-order sweep (own
// columns are skipped), 2B − 1 − P for IID (every step after burn-in is recorded).
func (p Params) Norm() int {
	if p.Variant == IID {
		return 2*p.B - 1 - p.BurnInSteps()
	}
	return 2*(p.B-1) - p.BurnInSteps()
}

// Accept is the Metropolis–Hastings test for an independence proposal with uniform proposal density:
// accept when u ≤ exp(q − score), decided in the log domain (u in (0, 1]) so that β = 1/0.07 stays
// finite. It is the one decision both the Go and the WGSL sampler make.
func Accept(q, score, u float32) bool {
	d := q - score
	return d >= 0 || float32(math.Log(float64(u))) < d
}

// Draw is the randomness of chain k's step j in view v (shared with the WGSL twin): the MH uniform
// from word 0 and, for IID, the proposed column from word 1.
func Draw(key rng.Key, step uint32, k, v, j, b int) (u float32, col int) {
	return DrawN(key, step, uint32(k), uint32(v*2*b+j), 2*b)
}

// DrawN is the draw behind Draw, for n candidates: the MH uniform u in (0, 1] from word 0 of the
// counter (StreamMH, step, chain, draw) and a uniformly random candidate in [0, n) from word 1
// (n ≪ 2³², so the modulo's bias is below 2⁻²⁴). Draw is DrawN(key, step, k, v·2B+j, 2B).
func DrawN(key rng.Key, step, chain, draw uint32, n int) (u float32, col int) {
	bits := key.Bits(rng.StreamMH, step, chain, draw)
	return rng.ToUnitOpen(bits[0]), int(bits[1] % uint32(n))
}

// Decision is one step of one chain's sweep: what was proposed, how it was scored, what the
// uniform draw said and what the step recorded. Sweep makes these and folds them into Ω and the
// statistics; ReplayChain hands them out.
type Decision struct {
	View     int     `json:"view"`     // 0 = view 1 (anchor row k), 1 = view 2 (anchor row B+k)
	Row      int     `json:"row"`      // the anchor row r = View·B + k
	J        int     `json:"j"`        // position in the view's sweep, 0..2B−1
	Column   int     `json:"column"`   // the proposed column (J for the in-order sweep, drawn for IID)
	Own      bool    `json:"own"`      // the anchor's own image: not a negative, never scored or accepted
	Q        float32 `json:"q"`        // the proposal's log-score β·S[r, Column] (0 when Own)
	Score    float32 `json:"score"`    // the chain's stored log-score before the decision
	U        float32 `json:"u"`        // the MH uniform in (0, 1]
	Accepted bool    `json:"accepted"` // Accept(Q, Score, U), never when Own
	State    int     `json:"state"`    // the chain's column after the decision; −1 = last iteration's state
	Recorded bool    `json:"recorded"` // counted in Ω (after burn-in: J > P)
	BurnIn   bool    `json:"burn_in"`  // J ≤ P and a step the sweep would record: discarded as burn-in
	Dropped  bool    `json:"dropped"`  // recorded while the state is last iteration's (Paper): no weight, counted in M
}

// AcceptProb is the Metropolis–Hastings acceptance probability min(1, exp(Q − Score)) of the
// decision (0 for an own column). The decision itself is Accept's; this is for display.
func (d Decision) AcceptProb() float64 {
	if d.Own {
		return 0
	}
	return math.Min(1, math.Exp(float64(d.Q)-float64(d.Score)))
}

// Sweep runs the chains of one batch over the similarity matrix s (2B × Cols, rows = anchors) and
// writes Ω (2B × Cols) and the MH statistics. chainIdx and chainScore are indexed by dataset index
// (batch[k]); they carry the chains from one iteration to the next.
func Sweep(omega, stats, s []float32, chainIdx []uint32, chainScore []float32, batch []uint32, p Params) {
	b, cols := p.B, p.Cols
	clear(omega[:2*b*cols])
	clear(stats[:objective.NumStats])
	inv := 1 / float32(p.Norm())
	var st [objective.NumStats]float64
	visit := func(d Decision) {
		if !d.Own {
			st[objective.StatProposals]++
			if d.Accepted {
				st[objective.StatAccepted]++
			}
		}
		if d.Recorded {
			st[objective.StatRecorded]++
			switch {
			case d.Dropped:
				st[objective.StatDropped]++
			default:
				if d.State >= 2*b {
					st[objective.StatState]++
				}
				omega[d.Row*cols+d.State] += inv
			}
		}
	}
	for k := 0; k < b; k++ {
		i := batch[k]
		rows := [2][]float32{s[k*cols : (k+1)*cols], s[(b+k)*cols : (b+k+1)*cols]}
		col, score := sweepChain(rows, k, chainIdx[i], chainScore[i], p, visit)
		for r := k; r < 2*b; r += b {
			omega[r*cols+p.Pos(r)] = -1
		}
		chainScore[i] = score
		if col >= 0 && col < 2*b {
			chainIdx[i] = batch[col%b]
		}
	}
	for k, v := range st {
		stats[k] = float32(v)
	}
	stats[objective.StatLoss] = float32(objective.InfoNCE(s, p.Shape))
}

// sweepChain runs chain k of the batch through both views of one step, the loop of the package
// comment: rows are the chain's two anchor rows of S (rows k and B+k, Cols long each), idx and
// stored its state before the step (dataset index and stored log-score). visit sees every decision
// as it is made, 2·2B of them. It returns the chain's column and log-score after the step.
func sweepChain(rows [2][]float32, k int, idx uint32, stored float32, p Params, visit func(Decision)) (col int, score float32) {
	b := p.B
	burn, beta := p.BurnInSteps(), p.Beta
	col, score = -1, stored
	if p.Variant.Rescores() {
		col, score = -1, objective.Unvisited
		if idx != NoState {
			col = 2*b + k
			score = beta * rows[0][col]
		}
	}
	for v := 0; v < 2; v++ {
		r := v*b + k
		if p.Variant.Rescores() && v == 1 && col >= 0 {
			score = beta * rows[1][col] // view 2 scores its state against its own anchor
		}
		for j := 0; j < 2*b; j++ {
			u, c := Draw(p.Key, p.Step, k, v, j, b)
			if p.Variant != IID {
				c = j // the sweep proposes the columns in order
			}
			d := Decision{View: v, Row: r, J: j, Column: c, Score: score, U: u}
			d.Own = p.Masked(r, c) // own view: never a negative (the code's q = 0)
			if !d.Own {
				d.Q = beta * rows[v][c]
				if Accept(d.Q, score, u) {
					col, score = c, d.Q
					d.Accepted = true
				}
			}
			d.State = col
			if !d.Own || p.Variant == IID { // the in-order sweep skips own columns
				d.Recorded = j > burn
				d.BurnIn = !d.Recorded
				d.Dropped = d.Recorded && col < 0
			}
			visit(d)
		}
	}
	return col, score
}

// ChainRows writes into rows[2B+k] the dataset index of chain k's current state, or the anchor's own
// index while the chain is empty (that extra column then gets no weight). Used by the variants that
// re-score the state (Fresh, IID).
func ChainRows(rows, chainIdx, batch []uint32, b int) {
	for k := 0; k < b; k++ {
		z := chainIdx[batch[k]]
		if z == NoState {
			z = batch[k]
		}
		rows[2*b+k] = z
	}
}
