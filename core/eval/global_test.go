package eval

import (
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type globalFunc func(F []float32, n, K, d int, beta float64) (float64, []float64, error)

// naiveGlobalK2 is an independent, straightforward implementation for K = 2:
// the positive of row r is (r + n) mod 2n; the denominator runs over every
// c ≠ r (negOnly false) or over the rows of other images (negOnly true).
func naiveGlobalK2(F []float32, n, d int, beta float64, negOnly bool) float64 {
	N := 2 * n
	sim := func(a, b int) float64 {
		var s float64
		for k := 0; k < d; k++ {
			s += float64(F[a*d+k]) * float64(F[b*d+k])
		}
		return beta * s
	}
	var total float64
	for r := 0; r < N; r++ {
		pos := (r + n) % N
		var den float64
		for c := 0; c < N; c++ {
			if c == r || (negOnly && c == pos) {
				continue
			}
			den += math.Exp(sim(r, c))
		}
		total += -sim(r, pos) + math.Log(den)
	}
	return total / float64(N)
}

func TestGlobalLossMatchesNaiveK2(t *testing.T) {
	tests := []struct {
		name    string
		fn      globalFunc
		negOnly bool
		n, d    int
		beta    float64
		unit    bool
	}{
		{name: "global small", fn: GlobalLoss, n: 5, d: 3, beta: 1.5},
		{name: "global unit rows", fn: GlobalLoss, n: 17, d: 8, beta: 10, unit: true},
		{name: "global single image", fn: GlobalLoss, n: 1, d: 4, beta: 0.7},
		{name: "negatives only small", fn: GCLNegOnly, negOnly: true, n: 5, d: 3, beta: 1.5},
		{name: "negatives only unit rows", fn: GCLNegOnly, negOnly: true, n: 17, d: 8, beta: 10, unit: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(uint64(31 + i))
			F := randomMatrix(r, 2*tc.n, tc.d)
			if tc.unit {
				normaliseRows(F, tc.d)
			}
			got, dF, err := tc.fn(F, tc.n, 2, tc.d, tc.beta)
			require.NoError(t, err)
			assert.Len(t, dF, len(F))
			want := naiveGlobalK2(F, tc.n, tc.d, tc.beta, tc.negOnly)
			assert.InDelta(t, want, got, 1e-10*math.Max(1, math.Abs(want)))
		})
	}
}

func TestGlobalLossGradient(t *testing.T) {
	tests := []struct {
		name    string
		fn      globalFunc
		n, K, d int
		beta    float64
	}{
		{name: "global n=5 K=2 d=3", fn: GlobalLoss, n: 5, K: 2, d: 3, beta: 1.3},
		{name: "global n=4 K=3 d=2", fn: GlobalLoss, n: 4, K: 3, d: 2, beta: 0.8},
		{name: "global n=1 K=4 d=3", fn: GlobalLoss, n: 1, K: 4, d: 3, beta: 2},
		{name: "negatives only n=5 K=2 d=3", fn: GCLNegOnly, n: 5, K: 2, d: 3, beta: 1.3},
		{name: "negatives only n=3 K=3 d=4", fn: GCLNegOnly, n: 3, K: 3, d: 4, beta: 0.8},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(uint64(41 + i))
			F := randomMatrix(r, tc.n*tc.K, tc.d)
			_, dF, err := tc.fn(F, tc.n, tc.K, tc.d, tc.beta)
			require.NoError(t, err)
			const h = 1e-3
			for k := range F {
				orig := F[k]
				F[k] = float32(float64(orig) + h)
				up := float64(F[k])
				lp, _, err := tc.fn(F, tc.n, tc.K, tc.d, tc.beta)
				require.NoError(t, err)
				F[k] = float32(float64(orig) - h)
				down := float64(F[k])
				lm, _, err := tc.fn(F, tc.n, tc.K, tc.d, tc.beta)
				require.NoError(t, err)
				F[k] = orig
				// Divide by the perturbation actually applied after
				// rounding to float32.
				assert.InDelta(t, (lp-lm)/(up-down), dF[k], 1e-5, "entry %d", k)
			}
		})
	}
}

func TestGlobalLossClosedForms(t *testing.T) {
	const n, K, d = 4, 3, 2
	zero := make([]float32, n*K*d)
	N := float64(n * K)
	tests := []struct {
		name string
		fn   globalFunc
		want float64
	}{
		// All logits are 0: the loss is log of the denominator size.
		{name: "global on zero features", fn: GlobalLoss, want: math.Log(N - 1)},
		{name: "negatives only on zero features", fn: GCLNegOnly, want: math.Log(N - K)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, dF, err := tc.fn(zero, n, K, d, 3)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-12)
			for _, g := range dF {
				assert.Zero(t, g)
			}
		})
	}
}

func TestGlobalLossExceedsNegOnly(t *testing.T) {
	// The full denominator contains the negatives-only one plus positives.
	r := newRand(51)
	for _, K := range []int{2, 3} {
		F := randomMatrix(r, 6*K, 4)
		normaliseRows(F, 4)
		full, _, err := GlobalLoss(F, 6, K, 4, 5)
		require.NoError(t, err)
		neg, _, err := GCLNegOnly(F, 6, K, 4, 5)
		require.NoError(t, err)
		assert.Greater(t, full, neg, "K=%d", K)
	}
}

func TestGlobalLossDeterministic(t *testing.T) {
	r := newRand(52)
	F := randomMatrix(r, 2*40, 16)
	run := func(procs int) (float64, []float64) {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		l, g, err := GlobalLoss(F, 40, 2, 16, 2)
		require.NoError(t, err)
		return l, g
	}
	l1, g1 := run(1)
	l2, g2 := run(3)
	assert.Equal(t, l1, l2)
	assert.Equal(t, g1, g2)
}

func TestGlobalLossErrors(t *testing.T) {
	F := make([]float32, 2*3*2) // n=3, K=2, d=2
	tests := []struct {
		name    string
		fn      globalFunc
		F       []float32
		n, K, d int
		beta    float64
		wantErr string
	}{
		{name: "no images", fn: GlobalLoss, F: nil, n: 0, K: 2, d: 2, beta: 1, wantErr: "n=0"},
		{name: "negatives only needs two images", fn: GCLNegOnly, F: F[:4], n: 1, K: 2, d: 2, beta: 1, wantErr: "n=1"},
		{name: "one augmentation", fn: GlobalLoss, F: F[:6], n: 3, K: 1, d: 2, beta: 1, wantErr: "K=1"},
		{name: "zero dimension", fn: GlobalLoss, F: F, n: 3, K: 2, d: 0, beta: 1, wantErr: "dimension"},
		{name: "length mismatch", fn: GCLNegOnly, F: F[:11], n: 3, K: 2, d: 2, beta: 1, wantErr: "got 11 values"},
		{name: "NaN beta", fn: GlobalLoss, F: F, n: 3, K: 2, d: 2, beta: math.NaN(), wantErr: "beta"},
		{name: "infinite beta", fn: GCLNegOnly, F: F, n: 3, K: 2, d: 2, beta: math.Inf(1), wantErr: "beta"},
		{name: "non-finite feature", fn: GlobalLoss, F: []float32{0, 0, 0, float32(math.NaN())}, n: 1, K: 2, d: 2, beta: 1, wantErr: "non-finite"},
		{name: "overflowing logits", fn: GlobalLoss, F: []float32{1e30, 0, 1e30, 0, 0, 1, 0, 1}, n: 2, K: 2, d: 2, beta: 1e300, wantErr: "non-finite loss"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loss, dF, err := tc.fn(tc.F, tc.n, tc.K, tc.d, tc.beta)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "eval: ")
			assert.Zero(t, loss)
			assert.Nil(t, dF)
		})
	}
}
