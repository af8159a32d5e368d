package mcmc

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplayChainMatchesSweep: replaying each chain of a batch from its state before the step gives
// exactly the state Sweep stores, and the recorded columns rebuild Sweep's Ω rows bit for bit (the
// same 1/M added in the same order), over several consecutive steps that carry the chains, for
// every variant, several batch sizes and burn-ins, and chains that start empty, stale or stuck.
func TestReplayChainMatchesSweep(t *testing.T) {
	for _, v := range []Variant{Paper, Fresh, IID} {
		for _, B := range []int{2, 3, 4, 8, 16} {
			for _, burn := range []float64{0, 0.25, 0.5, 0.9} {
				t.Run(fmt.Sprintf("%v/B=%d/burn=%v", v, B, burn), func(t *testing.T) { replayVsSweep(t, v, B, burn) })
			}
		}
	}
}

func replayVsSweep(t *testing.T, v Variant, B int, burn float64) {
	r := rand.New(rand.NewPCG(uint64(B), uint64(v)*10+uint64(burn*100)))
	n := 3 * B
	cols := 2 * B
	if v.Rescores() {
		cols = 3 * B
	}
	chainIdx, chainScore := make([]uint32, n), make([]float32, n)
	for i := range chainIdx {
		switch i % 3 {
		case 0: // never visited
			chainIdx[i], chainScore[i] = NoState, objective.Unvisited
		case 1: // an earlier state with an ordinary stale score
			chainIdx[i], chainScore[i] = uint32(r.IntN(n)), float32(r.NormFloat64())
		default: // a stale score nothing beats: Paper records (and drops) last iteration's state
			chainIdx[i], chainScore[i] = uint32(r.IntN(n)), 1e6
		}
	}
	omega, stats := make([]float32, 2*B*cols), make([]float32, objective.NumStats)
	for step := 0; step < 3; step++ {
		perm := r.Perm(n)
		batch := make([]uint32, B)
		for k := range batch {
			batch[k] = uint32(perm[k])
		}
		s := make([]float32, 2*B*cols)
		for i := range s {
			s[i] = float32(2*r.Float64() - 1)
		}
		p := Params{Shape: objective.Shape{B: B, Cols: cols, Beta: 5}, BurnIn: burn, Variant: v, Key: rng.NewKey(9), Step: uint32(step)}

		beforeIdx, beforeScore := append([]uint32(nil), chainIdx...), append([]float32(nil), chainScore...)
		Sweep(omega, stats, s, chainIdx, chainScore, batch, p)

		want := make([]float32, len(omega))
		inv := 1 / float32(p.Norm())
		var accepted, recorded, dropped float32
		for k := 0; k < B; k++ {
			i := batch[k]
			rows := [2][]float32{s[k*cols : (k+1)*cols], s[(B+k)*cols : (B+k+1)*cols]}
			rep, err := ReplayChain(rows, k, ChainState{Index: beforeIdx[i], Score: beforeScore[i]}, batch, p)
			require.NoError(t, err)
			require.Len(t, rep.Decisions, 4*B)
			assert.Equal(t, chainIdx[i], rep.After.Index, "step %d chain %d: index", step, k)
			assert.Equal(t, chainScore[i], rep.After.Score, "step %d chain %d: score", step, k)
			for view, recs := range rep.Recorded() {
				row := view*B + k
				for _, c := range recs {
					if c >= 0 {
						want[row*cols+c] += inv
					}
				}
				want[row*cols+p.Pos(row)] = -1
			}
			for _, d := range rep.Decisions {
				if d.Accepted {
					accepted++
				}
				if d.Recorded {
					recorded++
				}
				if d.Dropped {
					dropped++
				}
				assert.False(t, d.Recorded && d.BurnIn)
				if d.Own {
					assert.False(t, d.Accepted, "an own column is never accepted")
				}
			}
		}
		require.Equal(t, want, omega, "step %d: Ω rebuilt from the replays", step)
		assert.Equal(t, stats[objective.StatAccepted], accepted)
		assert.Equal(t, stats[objective.StatRecorded], recorded)
		assert.Equal(t, stats[objective.StatDropped], dropped)
		if v == Fresh {
			assert.Zero(t, dropped, "Fresh never drops (IID does while an empty chain draws its own column)")
		}
	}
}

// TestReplayChainDecisions checks the fields of the hand-worked sweep of TestSweepHandWorked, chain
// 0: view 1 accepts column 1 in burn-in and records column 3; view 2 rejects column 1 in burn-in
// (its acceptance probability is exp(100·(−0.5 − 0.5)) ≈ 0) and accepts and records column 3.
func TestReplayChainDecisions(t *testing.T) {
	s := [2][]float32{{1, 0.1, 0.9, 0.5}, {0.9, -0.5, 1, 0.7}}
	p := Params{Shape: objective.Shape{B: 2, Cols: 4, Beta: 100}, BurnIn: 0.5, Variant: Paper, Key: rng.NewKey(1)}
	rep, err := ReplayChain(s, 0, ChainState{Index: NoState, Score: objective.Unvisited}, []uint32{10, 11}, p)
	require.NoError(t, err)
	type row struct {
		own, acc, rec, burn bool
		state               int
	}
	want := []row{
		{own: true, state: -1}, {acc: true, burn: true, state: 1}, {own: true, state: 1}, {acc: true, rec: true, state: 3},
		{own: true, state: 3}, {burn: true, state: 3}, {own: true, state: 3}, {acc: true, rec: true, state: 3},
	}
	for i, w := range want {
		d := rep.Decisions[i]
		assert.Equal(t, w, row{d.Own, d.Accepted, d.Recorded, d.BurnIn, d.State}, "decision %d", i)
		assert.Equal(t, i/4, d.View)
		assert.Equal(t, i%4, d.J)
	}
	assert.Equal(t, 1.0, rep.Decisions[1].AcceptProb(), "the first proposal beats the empty state")
	assert.InDelta(t, 0, rep.Decisions[5].AcceptProb(), 1e-40)
	assert.Equal(t, 0.0, rep.Decisions[0].AcceptProb(), "own column")
	assert.Equal(t, ChainState{Index: 11, Score: 70}, rep.After)
	assert.Equal(t, [2][]int{{3}, {3}}, rep.Recorded())
	assert.Equal(t, 1, rep.BurnIn)
	assert.Equal(t, 1, rep.Norm)
}

func TestReplayChainErrors(t *testing.T) {
	ok := [2][]float32{make([]float32, 4), make([]float32, 4)}
	p := Params{Shape: objective.Shape{B: 2, Cols: 4, Beta: 1}, BurnIn: 0.5, Key: rng.NewKey(1)}
	fresh := p
	fresh.Variant = Fresh
	cases := []struct {
		name  string
		rows  [2][]float32
		k     int
		batch []uint32
		p     Params
		want  string
	}{
		{"short batch", ok, 0, []uint32{1}, p, "batch has 1 images"},
		{"chain outside", ok, 2, []uint32{1, 2}, p, "chain 2 outside"},
		{"short row", [2][]float32{make([]float32, 4), make([]float32, 3)}, 0, []uint32{1, 2}, p, "row of view 2 has 3 columns"},
		{"fresh needs state columns", ok, 0, []uint32{1, 2}, fresh, "too few"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReplayChain(tc.rows, tc.k, ChainState{Index: NoState}, tc.batch, tc.p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestWalkFollowsDrawAndAccept: a Walk's decisions are DrawN's and Accept's, its first proposal is
// accepted, and over a long run its empirical distribution approaches softmax(LogP).
func TestWalkFollowsDrawAndAccept(t *testing.T) {
	logp := []float32{0, 1, 2, -1, 0.5}
	w := NewWalk(logp, rng.NewKey(4), 3)
	counts := make([]float64, len(logp))
	const L = 200000
	state, score := -1, objective.Unvisited
	for i := 0; i < L; i++ {
		d := w.Step()
		u, c := DrawN(rng.NewKey(4), uint32(i), 3, 0, len(logp))
		require.Equal(t, u, d.U)
		require.Equal(t, c, d.Column)
		require.Equal(t, Accept(logp[c], score, u), d.Accepted)
		if d.Accepted {
			state, score = c, logp[c]
		}
		require.Equal(t, state, d.State)
		if i == 0 {
			require.True(t, d.Accepted, "the first proposal beats the empty state")
		}
		counts[d.State]++
	}
	target := softmax(logp, 1)
	var tv float64
	for j := range counts {
		tv += abs(counts[j]/L-target[j]) / 2
	}
	assert.Less(t, tv, 0.01)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
