package mcmc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/eval"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// estimateOmega averages the fresh sampler's Ω over many full sweeps (B = n, a random batch order
// each time) with exact, frozen scores and chains started from their target, mapped back to dataset
// images: est[i][j] is the weight anchor image i puts on image j. Both views of an image are
// identical here, so each anchor has one target, softmax over the other images of β·s.
func estimateOmega(t *testing.T, F []float32, n, d int, beta float32, trials int, variant Variant) [][]float64 {
	t.Helper()
	b, cols := n, 3*n
	key := rng.NewKey(21)
	r := rand.New(rand.NewPCG(3, 5))
	est := make([][]float64, n)
	for i := range est {
		est[i] = make([]float64, n)
	}
	sim := func(i, j int) float32 {
		var s float32
		for k := 0; k < d; k++ {
			s += F[i*d+k] * F[j*d+k]
		}
		return s
	}
	s := make([]float32, 2*b*cols)
	omega, stats := make([]float32, len(s)), make([]float32, objective.NumStats)
	chainIdx, chainScore := make([]uint32, n), make([]float32, n)
	for trial := 0; trial < trials; trial++ {
		perm := r.Perm(n)
		batch := make([]uint32, b)
		for k := range batch {
			batch[k] = uint32(perm[k])
		}
		state := make([]int, b)
		for k := range state { // draw each chain's state from its target
			i := perm[k]
			u, acc := r.Float64(), 0.0
			var z float64
			for j := 0; j < n; j++ {
				if j != i {
					z += math.Exp(float64(beta * sim(i, j)))
				}
			}
			state[k] = -1
			for j := 0; j < n && state[k] < 0; j++ {
				if j != i {
					acc += math.Exp(float64(beta*sim(i, j))) / z
					if u < acc || j == n-1 || (j == n-2 && i == n-1) {
						state[k] = j
					}
				}
			}
			chainIdx[i] = uint32(state[k])
		}
		for r := 0; r < 2*b; r++ {
			i := perm[r%b]
			for c := 0; c < cols; c++ {
				var j int
				if c < 2*b {
					j = perm[c%b]
				} else {
					j = state[c-2*b]
				}
				s[r*cols+c] = sim(i, j)
			}
		}
		p := Params{Shape: objective.Shape{B: b, Cols: cols, Beta: beta}, BurnIn: 0.5, Variant: variant, Key: key, Step: uint32(trial)}
		Sweep(omega, stats, s, chainIdx, chainScore, batch, p)
		require.Zero(t, stats[objective.StatDropped])
		for r := 0; r < 2*b; r++ {
			i := perm[r%b]
			for c := 0; c < cols; c++ {
				w := float64(omega[r*cols+c])
				if w <= 0 {
					continue
				}
				j := 0
				if c < 2*b {
					j = perm[c%b]
				} else {
					j = state[c-2*b]
				}
				est[i][j] += w / float64(2*trials)
			}
		}
	}
	return est
}

// TestSweepEstimatorMatchesGCLGradient: with exact scores, EMC²'s weights over a full sweep estimate
// the softmax over all negatives, so the surrogate's gradient matches the exact gradient of the
// global contrastive loss (negatives-only denominator, eval.GCLNegOnly). The deterministic sweep order is
// not an exact MH kernel (spec: "not an exact softmax sampler at small B"): each column is proposed
// at a fixed place in the sweep, and a step with a fixed proposal does not leave the softmax invariant.
// Measured here: 8.4 % relative error (the same at 4× the trials, so it is bias, not noise), against
// 62 % for uniform weights; the test bounds it at 10 %. With B = n the IID variant's uniform random
// proposals cover the whole negative set, so each step is an exact MH kernel: 0.4 % (Monte-Carlo
// noise), bounded at 2 %. (With B < n that no longer holds; see the IID comment in sweep.go.)
func TestSweepEstimatorMatchesGCLGradient(t *testing.T) {
	for _, tc := range []struct {
		variant Variant
		bound   float64
	}{
		{Fresh, 0.10}, // the in-order sweep's bias, measured 8.5 %
		{IID, 0.02},   // an exact kernel: only Monte-Carlo noise remains
	} {
		t.Run(tc.variant.String(), func(t *testing.T) { estimatorError(t, tc.variant, tc.bound) })
	}
}

func estimatorError(t *testing.T, variant Variant, bound float64) {
	const n, d, beta, trials = 12, 4, 2, 6000
	r := rand.New(rand.NewPCG(1, 1))
	F := make([]float32, n*d)
	for i := 0; i < n; i++ {
		var norm float64
		for k := 0; k < d; k++ {
			F[i*d+k] = float32(r.NormFloat64())
			norm += float64(F[i*d+k] * F[i*d+k])
		}
		for k := 0; k < d; k++ {
			F[i*d+k] /= float32(math.Sqrt(norm))
		}
	}
	est := estimateOmega(t, F, n, d, beta, trials, variant)

	// Ω over the 2n rows and columns of the identical views, each image's weight split over its views.
	F2 := append(append([]float32(nil), F...), F...)
	omega := make([]float32, 4*n*n)
	for v := 0; v < 2; v++ {
		for i := 0; i < n; i++ {
			r := v*n + i
			omega[r*2*n+(r+n)%(2*n)] = -1
			for j := 0; j < n; j++ {
				omega[r*2*n+j] += float32(est[i][j] / 2)
				omega[r*2*n+n+j] += float32(est[i][j] / 2)
			}
		}
	}
	got := make([]float32, 2*n*d)
	shape := objective.Shape{B: n, Cols: 2 * n, Beta: beta}
	objective.SurrogateBack(got, omega, F2, 2*n, 2*n, d, shape.Scale())
	_, want, err := eval.GCLNegOnly(F2, n, 2, d, beta)
	require.NoError(t, err)

	// Uniform weights over the negatives: the baseline a useless sampler would give.
	for r := 0; r < 2*n; r++ {
		for c := 0; c < 2*n; c++ {
			if c%n != r%n {
				omega[r*2*n+c] = 1 / float32(2*n-2)
			}
		}
	}
	uni := make([]float32, 2*n*d)
	objective.SurrogateBack(uni, omega, F2, 2*n, 2*n, d, shape.Scale())
	errEst, errUni, norm := 0.0, 0.0, 0.0
	for k := range want {
		errEst += math.Pow(float64(got[k])-want[k], 2)
		errUni += math.Pow(float64(uni[k])-want[k], 2)
		norm += want[k] * want[k]
	}
	rel, relUni := math.Sqrt(errEst/norm), math.Sqrt(errUni/norm)
	t.Logf("relative gradient error: EMC² %v %.4f, uniform weights %.4f", variant, rel, relUni)
	assert.Less(t, rel, bound)
	assert.Less(t, rel, relUni/4)
}
