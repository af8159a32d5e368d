package mcmc

import (
	"fmt"
)

// ChainState is one chain's persistent state between training steps: the dataset index of its
// current negative (NoState before the first acceptance) and the stored log-score β·s of it.
type ChainState struct {
	Index uint32  `json:"index"`
	Score float32 `json:"score"`
}

// Replay is what one chain's sweep of one training step did, decision by decision: what the
// teaching page and the trainer's chain inspector show.
type Replay struct {
	Chain     int        `json:"chain"`     // k, the chain's position in the batch
	Image     uint32     `json:"image"`     // batch[k], the anchor image's dataset index
	Variant   string     `json:"variant"`   // paper | fresh | iid
	BurnIn    int        `json:"burn_in"`   // P
	Norm      int        `json:"norm"`      // M: each recorded step weighs 1/M in Ω
	Before    ChainState `json:"before"`    // the state the step started from
	After     ChainState `json:"after"`     // the state it stored
	Column    int        `json:"column"`    // the final state's column (−1: last iteration's state kept)
	Decisions []Decision `json:"decisions"` // 2·2B decisions: view 1's sweep, then view 2's
}

// ReplayChain replays chain k's sweep of one training step exactly as Sweep makes it (the same
// loop, Draw and Accept): rows are the similarity rows of the chain's two anchors (rows k and
// B+k of S, p.Cols long each, column 2B+k included for the variants that re-score their state),
// before its state before the step, batch the step's batch (B dataset indices) and p the step's
// parameters (Step and Key included). It returns every decision and the state Sweep would store.
func ReplayChain(rows [2][]float32, k int, before ChainState, batch []uint32, p Params) (Replay, error) {
	switch {
	case p.B < 2:
		return Replay{}, fmt.Errorf("replay: batch size %d: need at least 2", p.B)
	case len(batch) != p.B:
		return Replay{}, fmt.Errorf("replay: batch has %d images, Params.B is %d", len(batch), p.B)
	case k < 0 || k >= p.B:
		return Replay{}, fmt.Errorf("replay: chain %d outside the batch of %d", k, p.B)
	case p.Cols < 2*p.B || (p.Variant.Rescores() && p.Cols < 2*p.B+k+1):
		return Replay{}, fmt.Errorf("replay: %d columns is too few for B = %d with the %v variant", p.Cols, p.B, p.Variant)
	case p.BurnIn < 0 || p.BurnIn >= 1:
		return Replay{}, fmt.Errorf("replay: burn-in %v: want a fraction in [0, 1)", p.BurnIn)
	}
	for v, row := range rows {
		if len(row) != p.Cols {
			return Replay{}, fmt.Errorf("replay: row of view %d has %d columns, Params.Cols is %d", v+1, len(row), p.Cols)
		}
	}
	r := Replay{Chain: k, Image: batch[k], Variant: p.Variant.String(), BurnIn: p.BurnInSteps(), Norm: p.Norm(),
		Before: before, Decisions: make([]Decision, 0, 4*p.B)}
	col, score := sweepChain(rows, k, before.Index, before.Score, p, func(d Decision) { r.Decisions = append(r.Decisions, d) })
	r.Column, r.After = col, ChainState{Index: before.Index, Score: score}
	if col >= 0 && col < 2*p.B {
		r.After.Index = batch[col%p.B]
	}
	return r, nil
}

// Recorded returns the columns recorded for each anchor row of the chain (view 1's row first), in
// the order Sweep adds them to Ω; −1 marks a dropped record (last iteration's state, Paper).
func (r Replay) Recorded() [2][]int {
	var out [2][]int
	for _, d := range r.Decisions {
		if d.Recorded {
			out[d.View] = append(out[d.View], d.State)
		}
	}
	return out
}
