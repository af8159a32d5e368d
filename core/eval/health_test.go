package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAlignment(t *testing.T) {
	r := newRand(21)
	z := randomMatrix(r, 10, 4)
	normaliseRows(z, 4)
	neg := make([]float32, len(z))
	for i, v := range z {
		neg[i] = -v
	}
	tests := []struct {
		name   string
		z1, z2 []float32
		n, d   int
		want   float64
	}{
		{name: "identical views", z1: z, z2: z, n: 10, d: 4, want: 0},
		{name: "antipodal views", z1: z, z2: neg, n: 10, d: 4, want: 4},
		{name: "orthogonal unit vectors", z1: []float32{1, 0, 0, 1}, z2: []float32{0, 1, 1, 0}, n: 2, d: 2, want: 2},
		{name: "mean over rows", z1: []float32{1, 0, 1, 0}, z2: []float32{1, 0, -1, 0}, n: 2, d: 2, want: 2},
		{name: "no rows", z1: nil, z2: nil, n: 0, d: 2, want: math.NaN()},
		{name: "length mismatch", z1: z, z2: z[:8], n: 10, d: 4, want: math.NaN()},
		{name: "bad dimension", z1: z, z2: z, n: 10, d: 0, want: math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Alignment(tc.z1, tc.z2, tc.n, tc.d)
			if math.IsNaN(tc.want) {
				assert.True(t, math.IsNaN(got), "got %v", got)
				return
			}
			assert.InDelta(t, tc.want, got, 1e-6)
		})
	}
}

// naiveUniformity evaluates the definition directly.
func naiveUniformity(z []float32, n, d int) float64 {
	var sum float64
	pairs := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var dist float64
			for k := 0; k < d; k++ {
				diff := float64(z[i*d+k]) - float64(z[j*d+k])
				dist += diff * diff
			}
			sum += math.Exp(-2 * dist)
			pairs++
		}
	}
	return math.Log(sum / float64(pairs))
}

func TestUniformity(t *testing.T) {
	r := newRand(22)
	// More rows than one block, so partial log-sum-exps are merged.
	random := randomMatrix(r, 2*uniformityBlockRows+9, 5)
	normaliseRows(random, 5)
	// Far-apart (unnormalised) points (0,0), (30,0), (0,31).
	far := []float32{0, 0, 30, 0, 0, 31}
	tests := []struct {
		name string
		z    []float32
		n, d int
		want float64
	}{
		{name: "two antipodal points", z: []float32{1, 0, -1, 0}, n: 2, d: 2, want: -8},
		{name: "collapsed points", z: []float32{0, 1, 0, 1, 0, 1}, n: 3, d: 2, want: 0},
		{name: "three orthogonal points", z: []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}, n: 3, d: 3, want: -4},
		{name: "random unit vectors", z: random, n: len(random) / 5, d: 5, want: naiveUniformity(random, len(random)/5, 5)},
		// Squared distances 900, 961 and 1861: every exp(−2·dist²) underflows
		// float64, but log((e^−1800 + e^−1922 + e^−3722)/3) is finite.
		{name: "no underflow", z: far, n: 3, d: 2, want: -1800 + math.Log1p(math.Exp(-122)+math.Exp(-1922)) - math.Log(3)},
		{name: "single row", z: []float32{1, 0}, n: 1, d: 2, want: math.NaN()},
		{name: "length mismatch", z: []float32{1, 0, 1}, n: 2, d: 2, want: math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Uniformity(tc.z, tc.n, tc.d)
			if math.IsNaN(tc.want) {
				assert.True(t, math.IsNaN(got), "got %v", got)
				return
			}
			assert.InDelta(t, tc.want, got, 1e-9)
		})
	}
}

func TestEffectiveRank(t *testing.T) {
	const d = 6
	// u·vᵀ with a non-constant u: rank 1 even after column centring.
	rank1 := make([]float32, 8*d)
	for i := 0; i < 8; i++ {
		for j := 0; j < d; j++ {
			rank1[i*d+j] = float32((i + 1) * (j - 2))
		}
	}
	// [I; −I]: centred columns are orthogonal with equal norms.
	plusMinusI := make([]float32, 2*d*d)
	identity := make([]float32, d*d)
	for j := 0; j < d; j++ {
		plusMinusI[j*d+j] = 1
		plusMinusI[(d+j)*d+j] = -1
		identity[j*d+j] = 1
	}
	// Two equal singular values and one half as large: p = (0.4, 0.4, 0.2).
	scaled := []float32{2, 0, 0, -2, 0, 0, 0, 2, 0, 0, -2, 0, 0, 0, 1, 0, 0, -1}
	wantScaled := math.Exp(-(2*0.4*math.Log(0.4) + 0.2*math.Log(0.2)))
	tests := []struct {
		name string
		x    []float32
		n, d int
		want float64
		tol  float64
	}{
		{name: "rank one", x: rank1, n: 8, d: d, want: 1, tol: 1e-6},
		{name: "orthogonal equal-norm columns", x: plusMinusI, n: 2 * d, d: d, want: d, tol: 1e-9},
		{name: "identity loses one direction to centring", x: identity, n: d, d: d, want: d - 1, tol: 1e-9},
		{name: "unequal singular values", x: scaled, n: 6, d: 3, want: wantScaled, tol: 1e-9},
		{name: "constant matrix", x: []float32{3, 3, 3, 3}, n: 2, d: 2, want: 0, tol: 0},
		{name: "wide matrix", x: []float32{1, 0, 0, -1, 0, 0}, n: 2, d: 3, want: 1, tol: 1e-9},
		{name: "length mismatch", x: []float32{1, 2, 3}, n: 2, d: 2, want: math.NaN()},
		{name: "non-finite", x: []float32{1, float32(math.Inf(1))}, n: 1, d: 2, want: math.NaN()},
		{name: "no rows", x: nil, n: 0, d: 2, want: math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EffectiveRank(tc.x, tc.n, tc.d)
			if math.IsNaN(tc.want) {
				assert.True(t, math.IsNaN(got), "got %v", got)
				return
			}
			assert.InDelta(t, tc.want, got, tc.tol)
		})
	}
}
