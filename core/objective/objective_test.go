package objective

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/eval"
	"github.com/emc2ml/emc2/core/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unitRows returns n random L2-normalised rows of width d.
func unitRows(r *rand.Rand, n, d int) []float32 {
	f := make([]float32, n*d)
	for i := 0; i < n; i++ {
		var s float64
		for k := 0; k < d; k++ {
			f[i*d+k] = float32(r.NormFloat64())
			s += float64(f[i*d+k] * f[i*d+k])
		}
		for k := 0; k < d; k++ {
			f[i*d+k] /= float32(math.Sqrt(s))
		}
	}
	return f
}

func similarity(f []float32, rows, d int) []float32 {
	s := make([]float32, rows*rows)
	nn.Gemm(false, true, rows, rows, d, f, f, 0, s)
	return s
}

func relErr(got []float32, want []float64) float64 {
	var e, n float64
	for i := range want {
		e += math.Pow(float64(got[i])-want[i], 2)
		n += want[i] * want[i]
	}
	return math.Sqrt(e / n)
}

// TestSimCLRAtFullBatchIsInfoNCE: with the whole dataset in one batch, SimCLR's loss and gradient are
// the global InfoNCE (positive in the denominator) of eval.GlobalLoss, computed independently.
func TestSimCLRAtFullBatchIsInfoNCE(t *testing.T) {
	for _, tc := range []struct {
		n, d int
		beta float32
	}{{4, 3, 1}, {8, 5, 14.28}, {16, 8, 5}} {
		r := rand.New(rand.NewPCG(uint64(tc.n), 7))
		F := unitRows(r, 2*tc.n, tc.d)
		p := Shape{B: tc.n, Cols: 2 * tc.n, Beta: tc.beta}
		S := similarity(F, 2*tc.n, tc.d)
		omega, stats := make([]float32, len(S)), make([]float32, NumStats)
		SimCLRWeights(omega, stats, S, p)
		wantLoss, wantGrad, err := eval.GlobalLoss(F, tc.n, 2, tc.d, float64(tc.beta))
		require.NoError(t, err)
		assert.InDelta(t, wantLoss, float64(stats[StatLoss]), 1e-4*math.Max(1, wantLoss))
		got := make([]float32, len(F))
		SurrogateBack(got, omega, F, 2*tc.n, 2*tc.n, tc.d, p.Scale())
		assert.Less(t, relErr(got, wantGrad), 1e-5)
	}
}

// TestSogCLRGammaOneFullBatchIsExact: with γ = 1 (u = the current batch's estimate) and B = n,
// SogCLR's gradient is the exact gradient of the global contrastive loss (negatives-only
// denominator, eval.GCLNegOnly) — in the common loss scale, with no τ factor.
func TestSogCLRGammaOneFullBatchIsExact(t *testing.T) {
	for _, beta := range []float32{1, 5, 14.28} {
		n, d := 10, 6
		r := rand.New(rand.NewPCG(2, uint64(beta)))
		F := unitRows(r, 2*n, d)
		p := SogCLRParams{Shape: Shape{B: n, Cols: 2 * n, Beta: beta}, Gamma: 1}
		S := similarity(F, 2*n, d)
		omega, stats := make([]float32, len(S)), make([]float32, NumStats)
		logU := make([]float32, n)
		for i := range logU {
			logU[i] = 3 // a stale value γ = 1 must ignore
		}
		batch := make([]uint32, n)
		for i := range batch {
			batch[i] = uint32(i)
		}
		SogCLRWeights(omega, stats, S, logU, batch, p)
		_, want, err := eval.GCLNegOnly(F, n, 2, d, float64(beta))
		require.NoError(t, err)
		got := make([]float32, len(F))
		SurrogateBack(got, omega, F, 2*n, 2*n, d, p.Scale())
		assert.Less(t, relErr(got, want), 1e-5, "β=%v", beta)
	}
}

// TestSogCLRMovingAverage follows u for one image over two visits: the first visit sets u to the
// mean of its two views' estimates (γ = 1 while unset), the second mixes with γ.
func TestSogCLRMovingAverage(t *testing.T) {
	n, d, B := 6, 4, 3
	r := rand.New(rand.NewPCG(4, 4))
	F := unitRows(r, 2*B, d)
	S := similarity(F, 2*B, d)
	p := SogCLRParams{Shape: Shape{B: B, Cols: 2 * B, Beta: 5}, Gamma: 0.9}
	batch := []uint32{4, 0, 2}
	logU := make([]float32, n)
	for i := range logU {
		logU[i] = Unvisited
	}
	// g for anchor row r: mean over its 2B-2 negatives of exp(β s)
	g := func(row int) float64 {
		var s float64
		for c := 0; c < 2*B; c++ {
			if !p.Masked(row, c) {
				s += math.Exp(float64(p.Beta) * float64(S[row*2*B+c]))
			}
		}
		return s / float64(2*B-2)
	}
	omega, stats := make([]float32, len(S)), make([]float32, NumStats)
	SogCLRWeights(omega, stats, S, logU, batch, p)
	u1 := (g(0) + g(B)) / 2
	assert.InDelta(t, u1, math.Exp(float64(logU[4])), 1e-4*u1)
	assert.Equal(t, Unvisited, logU[1], "images outside the batch keep their state")
	SogCLRWeights(omega, stats, S, logU, batch, p)
	ua, ub := 0.1*u1+0.9*g(0), 0.1*u1+0.9*g(B)
	assert.InDelta(t, (ua+ub)/2, math.Exp(float64(logU[4])), 1e-4*u1)
	// Ω on a negative of row 0 uses that row's own u.
	assert.InDelta(t, math.Exp(float64(p.Beta)*float64(S[1]))/(4*ua), float64(omega[1]), 1e-4)
}

func TestSimCLRWeightsSumToZero(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	B, d := 5, 4
	F := unitRows(r, 2*B, d)
	S := similarity(F, 2*B, d)
	p := Shape{B: B, Cols: 2 * B, Beta: 14.28}
	omega, stats := make([]float32, len(S)), make([]float32, NumStats)
	SimCLRWeights(omega, stats, S, p)
	for row := 0; row < 2*B; row++ {
		var s float64
		for c := 0; c < 2*B; c++ {
			s += float64(omega[row*2*B+c])
			if c == row {
				assert.Zero(t, omega[row*2*B+c], "self column")
			}
		}
		assert.InDelta(t, 0, s, 1e-5, "softmax weights minus the positive's 1")
	}
	assert.Greater(t, float64(stats[StatLoss]), 0.0)
}
