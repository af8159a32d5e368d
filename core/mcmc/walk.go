package mcmc

import (
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
)

// Walk is one independence Metropolis–Hastings chain over a fixed list of candidates with a
// uniform proposal, one proposal per step: the kernel of the IID variant, and what the sweep
// amounts to when every in-batch column is a uniformly random image. The teaching page's toy world
// runs it; its decisions are the sampler's own (DrawN's uniform and candidate, Accept), so its
// empirical distribution converges to softmax(LogP).
type Walk struct {
	LogP  []float32 // log-score β·s of each candidate
	Key   rng.Key
	Chain uint32  // the counter's chain index: chains with the same key and another index are independent
	Steps int     // steps taken so far
	State int     // current candidate; −1 before the first acceptance
	Score float32 // the state's log-score; objective.Unvisited before the first acceptance
}

// NewWalk starts an empty chain: like a training chain's, its first proposal is always accepted.
func NewWalk(logp []float32, key rng.Key, chain uint32) *Walk {
	return &Walk{LogP: logp, Key: key, Chain: chain, State: -1, Score: objective.Unvisited}
}

// Step makes one proposal, decides it and returns the decision (J is the step's number, View 0).
func (w *Walk) Step() Decision {
	u, c := DrawN(w.Key, uint32(w.Steps), w.Chain, 0, len(w.LogP))
	d := Decision{J: w.Steps, Column: c, Q: w.LogP[c], Score: w.Score, U: u}
	if Accept(d.Q, w.Score, u) {
		w.State, w.Score, d.Accepted = c, d.Q, true
	}
	d.State = w.State
	w.Steps++
	return d
}
