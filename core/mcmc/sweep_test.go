package mcmc

import (
	"math"
	"testing"

	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSweepHandWorked follows the sweep (see sweep.go's outline) by hand for B = 2 (columns 0..3; chain 0 owns
// columns 0 and 2, chain 1 owns 1 and 3). β = 100 makes every decision certain: a proposal scoring
// higher than the state is always accepted, one scoring ≥ 0.2 lower is rejected (exp(−20) is below
// the uniform grid's 2⁻²⁴). With burn-in 0.5, P = ⌊0.5·2⌋ = 1 and M = 2(B−1) − P = 1.
func TestSweepHandWorked(t *testing.T) {
	// rows: anchors 0 (img 0, view 1), 1 (img 1, view 1), 2 (img 0, view 2), 3 (img 1, view 2)
	s := []float32{
		1, 0.1, 0.9, 0.5, // row 0: proposals 1 (0.1) then 3 (0.5)
		0.2, 1, 0.6, 0.9, // row 1: proposals 0 (0.2) then 2 (0.6)
		0.9, -0.5, 1, 0.7, // row 2: proposal 1 (−0.5) rejected, then 3 (0.7) accepted
		0.3, 0.4, 0.0, 1, // row 3: proposal 0 (0.3) rejected vs 0.6; 2 (0.0) rejected
	}
	b := 2
	batch := []uint32{10, 11} // dataset indices
	chainIdx := make([]uint32, 12)
	chainScore := make([]float32, 12)
	for i := range chainIdx {
		chainIdx[i], chainScore[i] = NoState, objective.Unvisited
	}
	omega, stats := make([]float32, 16), make([]float32, objective.NumStats)
	p := Params{Shape: objective.Shape{B: b, Cols: 4, Beta: 100}, BurnIn: 0.5, Variant: Paper, Key: rng.NewKey(1)}
	require.Equal(t, 1, p.BurnInSteps())
	require.Equal(t, 1, p.Norm())
	Sweep(omega, stats, s, chainIdx, chainScore, batch, p)

	// Chain 0. View 1 (row 0): j=0 own, j=1 accepted (first proposal beats the empty state) but j=1 ≤ P
	// is burn-in; j=2 own; j=3 (0.5 > 0.1) accepted and recorded → Ω[0,3] = 1.
	// View 2 (row 2) continues from (3, 100·0.5): j=0 own; j=1 (−0.5) rejected, burn-in; j=2 own;
	// j=3 (0.7 > 0.5) accepted, recorded → Ω[2,3] = 1. State: column 3 = image batch[3 mod 2] = 11.
	// Chain 1. Row 1: j=0 (0.2) accepted, burn-in; j=1 own; j=2 (0.6) accepted, recorded → Ω[1,2] = 1;
	// j=3 own. Row 3 from (2, 60): j=0 (0.3) rejected; j=1 own; j=2 (0.0) rejected, recorded as the
	// unchanged state → Ω[3,2] = 1; j=3 own. State: column 2 = image batch[0] = 10.
	want := []float32{
		0, 0, -1, 1,
		0, 0, 1, -1,
		-1, 0, 0, 1,
		0, -1, 1, 0,
	}
	assert.Equal(t, want, omega)
	assert.Equal(t, []uint32{11, 10}, chainIdx[10:12])
	assert.InDelta(t, 70, chainScore[10], 1e-4)
	assert.InDelta(t, 60, chainScore[11], 1e-4)
	assert.Equal(t, float32(8), stats[objective.StatProposals]) // 4 rows × 2 non-own columns
	assert.Equal(t, float32(5), stats[objective.StatAccepted])
	assert.Equal(t, float32(4), stats[objective.StatRecorded]) // one per row: j=3 or j=2 after P=1
	assert.Equal(t, float32(0), stats[objective.StatDropped])

	// Burn-in 0: P = 0, M = 2, and j = 1 is recorded as well (row 0 records columns 1 and 3).
	for i := range chainIdx {
		chainIdx[i], chainScore[i] = NoState, objective.Unvisited
	}
	p.BurnIn = 0
	Sweep(omega, stats, s, chainIdx, chainScore, batch, p)
	assert.Equal(t, []float32{0, 0.5, -1, 0.5}, omega[0:4])
	assert.Equal(t, []float32{-1, 0, 0, 1}, omega[8:12], "row 2: rejected j=1 records the state (column 3), then j=3 is accepted and recorded")
}

// TestSweepPaperDropsStaleStates: a chain whose stored score is unbeatable never accepts, so every
// recorded step is last iteration's out-of-batch state: dropped, zero weight, yet counted in M.
func TestSweepPaperDropsStaleStates(t *testing.T) {
	b := 3
	s := make([]float32, 4*b*b)
	batch := []uint32{0, 1, 2}
	chainIdx := []uint32{5, 5, 5}
	chainScore := []float32{1e6, 1e6, 1e6} // stale and huge: nothing is accepted
	omega, stats := make([]float32, len(s)), make([]float32, objective.NumStats)
	p := Params{Shape: objective.Shape{B: b, Cols: 2 * b, Beta: 14.28}, BurnIn: 0.5, Variant: Paper, Key: rng.NewKey(2)}
	Sweep(omega, stats, s, chainIdx, chainScore, batch, p)
	assert.Equal(t, float32(0), stats[objective.StatAccepted])
	assert.Equal(t, stats[objective.StatRecorded], stats[objective.StatDropped])
	assert.Equal(t, float32(2*b*(b-1)), stats[objective.StatRecorded])
	for r := 0; r < 2*b; r++ {
		for c := 0; c < 2*b; c++ {
			if c != p.Pos(r) {
				assert.Zero(t, omega[r*2*b+c])
			}
		}
	}
	assert.Equal(t, []uint32{5, 5, 5}, chainIdx, "state kept")
}

// TestChainConvergesToSoftmax: with frozen scores and independent uniform proposals, the MH chain's
// empirical distribution converges to softmax(β·s); the total-variation distance falls with the
// chain's length. The decisions are the sampler's own Accept and Uniform.
func TestChainConvergesToSoftmax(t *testing.T) {
	const n, beta, chains = 30, 5.0, 16
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.Sin(float64(3 * i))) // fixed scores in [−1, 1]
	}
	target := softmax(s, beta)
	key := rng.NewKey(11)
	lengths := []int{100, 1000, 10000, 100000}
	counts := make([]float64, n)
	state := make([]int, chains)
	score := make([]float32, chains)
	for c := range score {
		score[c] = objective.Unvisited
	}
	var tv []float64
	step := 0
	for _, L := range lengths {
		for ; step < L; step++ {
			for c := 0; c < chains; c++ {
				bits := key.Bits(rng.StreamMH, uint32(step), uint32(c), 0)
				j := int(bits[1] % n)
				if q := float32(beta) * s[j]; Accept(q, score[c], rng.ToUnitOpen(bits[0])) {
					state[c], score[c] = j, q
				}
				counts[state[c]]++
			}
		}
		var d float64
		for j := range counts {
			d += math.Abs(counts[j]/float64(L*chains) - target[j])
		}
		tv = append(tv, d/2)
	}
	t.Logf("TV distance to softmax(βs) after %v steps: %.4f", lengths, tv)
	for i := 1; i < len(tv); i++ {
		assert.Less(t, tv[i], tv[i-1], "TV must fall with chain length")
	}
	assert.Less(t, tv[len(tv)-1], 0.01)
}

func softmax(s []float32, beta float64) []float64 {
	out := make([]float64, len(s))
	var z float64
	for i, v := range s {
		out[i] = math.Exp(beta * float64(v))
		z += out[i]
	}
	for i := range out {
		out[i] /= z
	}
	return out
}

func TestAcceptEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name        string
		q, score, u float32
		want        bool
	}{
		{"better always", 1, 0, 1, true},
		{"equal always", 0.5, 0.5, 1, true},
		{"empty chain always", -14, objective.Unvisited, 1, true},
		{"much worse never", -20, 0, 1.0 / (1 << 24), false},
		{"worse, small u", -1, 0, 0.3, true},  // log 0.3 = −1.2 < −1
		{"worse, large u", -1, 0, 0.4, false}, // log 0.4 = −0.92 > −1
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, Accept(tc.q, tc.score, tc.u)) })
	}
}

// TestBurnInStepsAreExact: P = ⌊burnIn·2(B−1)⌋ of the configured decimal, not of its float32
// rounding (0.7 at B = 6 is 7, where float32(0.7)·10 = 6.9999…).
func TestBurnInStepsAreExact(t *testing.T) {
	for _, tc := range []struct {
		burn float64
		b, p int
	}{
		{0.5, 32, 31}, {0.5, 2, 1}, {0, 16, 0}, {0.7, 6, 7}, {0.7, 11, 14}, {0.7, 16, 21},
		{0.29, 51, 29}, {0.1, 6, 1}, {0.3, 11, 6}, {0.99, 101, 198}, {0.25, 3, 1},
	} {
		p := Params{Shape: objective.Shape{B: tc.b}, BurnIn: tc.burn}
		assert.Equal(t, tc.p, p.BurnInSteps(), "burn-in %v at B = %d", tc.burn, tc.b)
		assert.Equal(t, 2*(tc.b-1)-tc.p, p.Norm())
	}
}
