package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// orthonormal returns k random orthonormal vectors of dimension d (Gram–Schmidt).
func orthonormal(r *rand.Rand, k, d int) [][]float64 {
	var out [][]float64
	for len(out) < k {
		v := make([]float64, d)
		for j := range v {
			v[j] = r.NormFloat64()
		}
		for _, u := range out {
			c := dot(u, v)
			for j := range v {
				v[j] -= c * u[j]
			}
		}
		nrm := math.Sqrt(dot(v, v))
		for j := range v {
			v[j] /= nrm
		}
		out = append(out, v)
	}
	return out
}

// axisData draws n points Σ_k scale_k·g·axis_k + noise·g (g standard normal) plus an offset, so the
// principal directions are the axes in order of scale.
func axisData(r *rand.Rand, n, d int, scales []float64, noise float64) ([]float32, [][]float64) {
	axes := orthonormal(r, len(scales), d)
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		row := make([]float64, d)
		for j := range row {
			row[j] = 0.7*float64(j) + noise*r.NormFloat64()
		}
		for k, s := range scales {
			g := s * r.NormFloat64()
			for j := range row {
				row[j] += g * axes[k][j]
			}
		}
		for j, v := range row {
			x[i*d+j] = float32(v)
		}
	}
	return x, axes
}

// referencePCA computes the top two directions, shares and projections with gonum's full symmetric
// eigendecomposition, using PCA2's sign convention.
func referencePCA(t *testing.T, x []float32, n, d int) ([2][]float64, [2]float64, []float64) {
	t.Helper()
	c := make([]float64, n*d)
	for j := 0; j < d; j++ {
		var m float64
		for i := 0; i < n; i++ {
			m += float64(x[i*d+j])
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			c[i*d+j] = float64(x[i*d+j]) - m
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), mat.NewDense(n, d, c).T())
	var eig mat.EigenSym
	require.True(t, eig.Factorize(cov, true))
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	var trace float64
	for _, v := range vals {
		trace += v
	}
	var dirs [2][]float64
	var shares [2]float64
	for k := range dirs {
		col := d - 1 - k
		dirs[k] = mat.Col(nil, col, &vecs)
		fixSign(dirs[k])
		shares[k] = vals[col] / trace
	}
	proj := make([]float64, 2*n)
	for i := 0; i < n; i++ {
		for k := range dirs {
			proj[2*i+k] = dot(c[i*d:(i+1)*d], dirs[k])
		}
	}
	return dirs, shares, proj
}

func TestPCA2MatchesEigenSym(t *testing.T) {
	tests := []struct {
		name   string
		n, d   int
		scales []float64
		noise  float64
	}{
		{name: "dominant axis", n: 200, d: 6, scales: []float64{3, 1}, noise: 0.1},
		{name: "three axes", n: 80, d: 10, scales: []float64{2, 1.2, 0.6}, noise: 0.05},
		{name: "more dimensions than rows", n: 12, d: 30, scales: []float64{2.5, 1}, noise: 0.2},
		{name: "noisy", n: 300, d: 16, scales: []float64{1.5, 1}, noise: 0.5},
	}
	for ti, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(uint64(100 + ti))
			x, axes := axisData(r, tc.n, tc.d, tc.scales, tc.noise)
			wantDirs, wantShares, wantProj := referencePCA(t, x, tc.n, tc.d)

			xt := centredTranspose(x, tc.n, tc.d)
			cov := covariance(xt, tc.n, tc.d)
			var trace float64
			for j := 0; j < tc.d; j++ {
				trace += cov[j*tc.d+j]
			}
			dirs, _ := principalPair(cov, tc.d, trace)
			for k := range dirs {
				assert.InDeltaSlice(t, wantDirs[k], dirs[k], 1e-6, "direction %d", k)
			}
			assert.Greater(t, math.Abs(dot(dirs[0], axes[0])), 0.95, "the dominant axis is found")

			proj, shares, err := PCA2(x, tc.n, tc.d)
			require.NoError(t, err)
			require.Len(t, proj, 2*tc.n)
			for k := range shares {
				assert.InDelta(t, wantShares[k], shares[k], 1e-6, "share %d", k)
			}
			for i, w := range wantProj {
				assert.InDelta(t, w, float64(proj[i]), 1e-6*max(1, math.Abs(w)), "projection %d", i)
			}
		})
	}
}

func TestPCA2ExplainedShares(t *testing.T) {
	r := newRand(7)
	rank2, _ := axisData(r, 50, 8, []float64{2, 1}, 0)
	rank1, _ := axisData(r, 50, 8, []float64{3}, 0)
	iso := randomMatrix(r, 400, 5)
	tests := []struct {
		name      string
		x         []float32
		n, d      int
		wantSum   float64 // NaN: no expectation beyond ≤ 1
		wantFirst float64
	}{
		{name: "rank two", x: rank2, n: 50, d: 8, wantSum: 1, wantFirst: math.NaN()},
		{name: "rank one", x: rank1, n: 50, d: 8, wantSum: 1, wantFirst: 1},
		{name: "isotropic", x: iso, n: 400, d: 5, wantSum: math.NaN(), wantFirst: math.NaN()},
		{name: "one dimension", x: []float32{1, 2, 4, 8}, n: 4, d: 1, wantSum: 1, wantFirst: 1},
		{name: "two rows", x: []float32{0, 1, 2, 3, 4, 5}, n: 2, d: 3, wantSum: 1, wantFirst: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proj, e, err := PCA2(tc.x, tc.n, tc.d)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, e[1], 0.0)
			assert.GreaterOrEqual(t, e[0], e[1], "the first direction explains the most")
			assert.LessOrEqual(t, e[0]+e[1], 1.0)
			if !math.IsNaN(tc.wantSum) {
				assert.InDelta(t, tc.wantSum, e[0]+e[1], 1e-9)
			}
			if !math.IsNaN(tc.wantFirst) {
				assert.InDelta(t, tc.wantFirst, e[0], 1e-9)
			}
			if tc.name == "isotropic" {
				assert.Less(t, e[0], 0.35, "no direction dominates isotropic noise")
			}
			// The variance of each projection column is its share of the total variance.
			var total float64
			for j := 0; j < tc.d; j++ {
				total += columnVariance(tc.x, tc.n, tc.d, j)
			}
			for k := range e {
				assert.InDelta(t, e[k], columnVariance(proj, tc.n, 2, k)/total, 1e-5, "share %d", k)
			}
		})
	}
}

// columnVariance is the sample variance of column j of the n×d matrix x.
func columnVariance(x []float32, n, d, j int) float64 {
	var m, s float64
	for i := 0; i < n; i++ {
		m += float64(x[i*d+j])
	}
	m /= float64(n)
	for i := 0; i < n; i++ {
		v := float64(x[i*d+j]) - m
		s += v * v
	}
	return s / float64(n-1)
}

func TestPCA2SignIsStable(t *testing.T) {
	r := newRand(11)
	n, d := 500, 64
	x, _ := axisData(r, n, d, []float64{4, 2, 1}, 0.3)
	proj, e, err := PCA2(x, n, d)
	require.NoError(t, err)

	again, e2, err := PCA2(x, n, d)
	require.NoError(t, err)
	assert.Equal(t, proj, again, "bit-identical across runs")
	assert.Equal(t, e, e2)

	// −x has the same principal axes; the sign convention picks the same directions, so every
	// projection flips.
	neg := make([]float32, len(x))
	for i, v := range x {
		neg[i] = -v
	}
	negProj, negE, err := PCA2(neg, n, d)
	require.NoError(t, err)
	assert.InDeltaSlice(t, e[:], negE[:], 1e-12)
	for i, v := range proj {
		assert.InDelta(t, -v, negProj[i], 1e-5*max(1, math.Abs(float64(v))), "projection %d", i)
	}

	// Reversing the rows reverses the projections and nothing else.
	rev := make([]float32, len(x))
	for i := 0; i < n; i++ {
		copy(rev[(n-1-i)*d:(n-i)*d], x[i*d:(i+1)*d])
	}
	revProj, _, err := PCA2(rev, n, d)
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		for k := range 2 {
			v := proj[2*i+k]
			assert.InDelta(t, v, revProj[2*(n-1-i)+k], 1e-5*max(1, math.Abs(float64(v))))
		}
	}

	// The directions themselves follow the convention.
	xt := centredTranspose(x, n, d)
	cov := covariance(xt, n, d)
	var trace float64
	for j := 0; j < d; j++ {
		trace += cov[j*d+j]
	}
	dirs, _ := principalPair(cov, d, trace)
	for k, v := range dirs {
		best := 0
		for j := range v {
			if math.Abs(v[j]) > math.Abs(v[best]) {
				best = j
			}
		}
		assert.Positive(t, v[best], "direction %d: largest component positive", k)
	}
}

func TestPCA2Degenerate(t *testing.T) {
	// No variance at all: every row is the same point.
	x := []float32{1, 2, 3, 1, 2, 3, 1, 2, 3}
	proj, e, err := PCA2(x, 3, 3)
	require.NoError(t, err)
	assert.Equal(t, make([]float32, 6), proj)
	assert.Equal(t, [2]float64{}, e)

	// One dimension: the second coordinate is zero.
	proj, e, err = PCA2([]float32{-1, 0, 3}, 3, 1)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{-1.6666666, 0, -0.6666666, 0, 2.3333333, 0}, proj, 1e-6)
	assert.Equal(t, [2]float64{1, 0}, e)
}

func TestPCA2Errors(t *testing.T) {
	ok := []float32{1, 2, 3, 4}
	tests := []struct {
		name string
		x    []float32
		n, d int
		want string
	}{
		{name: "one row", x: []float32{1, 2}, n: 1, d: 2, want: "at least 2 rows"},
		{name: "no rows", x: nil, n: 0, d: 2, want: "at least 2 rows"},
		{name: "zero dimension", x: nil, n: 2, d: 0, want: "dimension d=0"},
		{name: "negative dimension", x: ok, n: 2, d: -2, want: "dimension d=-2"},
		{name: "length mismatch", x: ok, n: 3, d: 2, want: "got 4 values"},
		{name: "NaN", x: []float32{1, float32(math.NaN()), 3, 4}, n: 2, d: 2, want: "non-finite"},
		{name: "infinity", x: []float32{1, 2, float32(math.Inf(-1)), 4}, n: 2, d: 2, want: "non-finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proj, _, err := PCA2(tc.x, tc.n, tc.d)
			assert.ErrorContains(t, err, tc.want)
			assert.Nil(t, proj)
		})
	}
}

// BenchmarkPCA2 is the largest case the browser asks for: a few thousand 512-wide embeddings.
func BenchmarkPCA2(b *testing.B) {
	r := newRand(5)
	n, d := 3000, 512
	x := randomMatrix(r, n, d)
	b.ResetTimer()
	for range b.N {
		if _, _, err := PCA2(x, n, d); err != nil {
			b.Fatal(err)
		}
	}
}
