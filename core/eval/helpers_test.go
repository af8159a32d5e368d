package eval

import (
	"math"
	"math/rand/v2"
)

// newRand returns a deterministic generator for tests.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// gaussianBlobs draws n points in d dimensions from `classes` isotropic
// Gaussians (standard deviation sigma) centred at sep·e_c (c < d), with
// labels drawn uniformly.
func gaussianBlobs(r *rand.Rand, n, d, classes int, sep, sigma float64) ([]float32, []int32) {
	x := make([]float32, n*d)
	y := make([]int32, n)
	for i := 0; i < n; i++ {
		c := r.IntN(classes)
		y[i] = int32(c)
		for j := 0; j < d; j++ {
			v := sigma * r.NormFloat64()
			if j == c%d {
				v += sep
			}
			x[i*d+j] = float32(v)
		}
	}
	return x, y
}

// randomMatrix returns an n×d matrix of standard normal entries.
func randomMatrix(r *rand.Rand, n, d int) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// normaliseRows scales each d-dimensional row of x to unit L2 norm.
func normaliseRows(x []float32, d int) {
	for i := 0; i < len(x); i += d {
		var s float64
		for _, v := range x[i : i+d] {
			s += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(s)
		for j := i; j < i+d; j++ {
			x[j] = float32(float64(x[j]) * inv)
		}
	}
}
