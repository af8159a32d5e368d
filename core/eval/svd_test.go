package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// svdMatrix is a test matrix for singularValues: n×d, row-major.
type svdMatrix struct {
	name string
	n, d int
	a    []float64
}

// svdMatrices returns matrices of every shape and kind singularValues meets: square, tall and
// wide, full rank and rank-deficient, badly scaled, with zero and repeated columns, and the
// centred float32 features EffectiveRank hands it.
func svdMatrices() []svdMatrix {
	r := newRand(7)
	normal := func(n, d int) []float64 {
		a := make([]float64, n*d)
		for i := range a {
			a[i] = r.NormFloat64()
		}
		return a
	}
	lowRank := func(n, d, k int) []float64 {
		u, v := normal(n, k), normal(k, d)
		a := make([]float64, n*d)
		for i := range n {
			for j := range d {
				for l := range k {
					a[i*d+j] += u[i*k+l] * v[l*d+j]
				}
			}
		}
		return a
	}
	scaled := func(n, d int, decades float64) []float64 {
		a := normal(n, d)
		for i := range n {
			for j := range d {
				a[i*d+j] *= math.Pow(10, decades*(float64(j)/float64(max(d-1, 1))-0.5))
			}
		}
		return a
	}
	columns := func(a []float64, n, d int, f func(row []float64)) []float64 {
		for i := range n {
			f(a[i*d : (i+1)*d])
		}
		return a
	}
	features := func(n, d int) []float64 {
		x := randomMatrix(r, n, d)
		for i, v := range x { // post-ReLU, like the hidden features
			x[i] = max(v, 0)
		}
		a := centred(x, n, d)
		return a
	}
	return []svdMatrix{
		{"1×1", 1, 1, []float64{-3}},
		{"row", 1, 5, normal(1, 5)},
		{"column", 5, 1, normal(5, 1)},
		{"square", 6, 6, normal(6, 6)},
		{"tall", 40, 7, normal(40, 7)},
		{"wide", 7, 40, normal(7, 40)},
		{"zero", 4, 3, make([]float64, 12)},
		{"rank 1", 30, 8, lowRank(30, 8, 1)},
		{"rank 3 of 20", 50, 20, lowRank(50, 20, 3)},
		{"wide rank 2", 10, 30, lowRank(10, 30, 2)},
		{"columns over 12 decades", 60, 10, scaled(60, 10, 12)},
		{"columns over 6 decades, wide", 10, 25, scaled(10, 25, 6)},
		{"zero column", 20, 5, columns(normal(20, 5), 20, 5, func(row []float64) { row[2] = 0 })},
		{"repeated column", 20, 5, columns(normal(20, 5), 20, 5, func(row []float64) { row[4] = row[1] })},
		{"tiny entries", 12, 4, scaled(12, 4, 0)[:48:48]},
		{"features 500×64", 500, 64, features(500, 64)},
		{"features 40×128 (fewer rows than dimensions)", 40, 128, features(40, 128)},
	}
}

// gonumSingularValues is the reference: LAPACK's SVD through gonum.
func gonumSingularValues(t *testing.T, a []float64, n, d int) []float64 {
	var svd mat.SVD
	require.True(t, svd.Factorize(mat.NewDense(n, d, append([]float64(nil), a...)), mat.SVDNone))
	return svd.Values(nil)
}

// TestSingularValuesMatchGonum: the singular values agree with LAPACK's SVD to a few ε·σ_max, the
// small ones too (√ of the Gram matrix's eigenvalues alone would miss those by up to √ε·σ_max).
func TestSingularValuesMatchGonum(t *testing.T) {
	for _, m := range svdMatrices() {
		t.Run(m.name, func(t *testing.T) {
			want := gonumSingularValues(t, m.a, m.n, m.d)
			got := singularValues(append([]float64(nil), m.a...), m.n, m.d)
			require.Len(t, got, len(want))
			tol := 1e-13 * want[0]
			for k := range want {
				assert.InDelta(t, want[k], got[k], tol, "σ_%d of %v", k, want)
			}
		})
	}
}

// TestEffectiveRankMatchesGonum: EffectiveRank reads the same value as it did with gonum's SVD, on
// random features and on the singular cases above.
func TestEffectiveRankMatchesGonum(t *testing.T) {
	reference := func(x []float32, n, d int) float64 {
		a := centred(x, n, d)
		var total, h float64
		sigma := gonumSingularValues(t, a, n, d)
		for _, s := range sigma {
			total += s
		}
		if !(total > 0) {
			return 0
		}
		for _, s := range sigma {
			if p := s / total; p > 0 {
				h -= p * math.Log(p)
			}
		}
		return math.Exp(h)
	}
	for _, m := range svdMatrices() {
		t.Run(m.name, func(t *testing.T) {
			x := make([]float32, len(m.a))
			for i, v := range m.a {
				x[i] = float32(v)
			}
			want := reference(x, m.n, m.d)
			assert.InDelta(t, want, EffectiveRank(x, m.n, m.d), 1e-9*max(want, 1))
		})
	}
}

// TestSymmetricEigen: the eigenvalues and eigenvectors of symmetric matrices built from known
// eigenvalues, repeated, zero and negative ones included: V is orthonormal and A·v_k = λ_k·v_k.
func TestSymmetricEigen(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Q·diag(eig)·Qᵀ with Q from the QR of a random matrix (gonum, in the test only).
	sym := func(eig []float64) []float64 {
		n := len(eig)
		g := mat.NewDense(n, n, nil)
		for i := range n {
			for j := range n {
				g.Set(i, j, r.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(g)
		var q, a mat.Dense
		qr.QTo(&q)
		a.Mul(&q, mat.NewDiagDense(n, eig))
		a.Mul(&a, q.T())
		return a.RawMatrix().Data
	}
	many := make([]float64, 60)
	for k := range many {
		many[k] = r.NormFloat64()
	}
	for _, tc := range []struct {
		name string
		a    []float64
		eig  []float64 // nil: unknown, checked through the residuals only
	}{
		{"one", sym([]float64{3}), []float64{3}},
		{"two", sym([]float64{-1, 2}), []float64{-1, 2}},
		{"distinct", sym([]float64{-2, 0.5, 1, 3, 5}), []float64{-2, 0.5, 1, 3, 5}},
		{"repeated", sym([]float64{1, 1, 2, 2, 2, 7}), []float64{1, 1, 2, 2, 2, 7}},
		{"singular", sym([]float64{0, 0, 1e-20, 4}), []float64{0, 0, 1e-20, 4}},
		{"zero", make([]float64, 9), []float64{0, 0, 0}},
		{"wide range", sym([]float64{1e-8, 1e-4, 1, 1e4, 1e8}), []float64{1e-8, 1e-4, 1, 1e4, 1e8}},
		{"60 normal", sym(many), many},
		{"tridiagonal already", []float64{2, 1, 0, 1, 2, 1, 0, 1, 2}, []float64{2 - math.Sqrt2, 2, 2 + math.Sqrt2}},
		{"diagonal", []float64{3, 0, 0, 0, -1, 0, 0, 0, 2}, []float64{-1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.eig)
			orig := mat.NewDense(n, n, append([]float64(nil), tc.a...))
			scale := max(mat.Norm(orig, 2), 1e-300)
			tri := tridiagonalise(tc.a, n)
			lambda := tri.eigenvalues()
			all := make([]int, n)
			for k := range all {
				all[k] = k
			}
			v := slices.Concat(tri.eigenvectors(all)...)
			vm := mat.NewDense(n, n, v) // rows are the eigenvectors
			var vvt, av mat.Dense
			vvt.Mul(vm, vm.T())
			av.Mul(orig, vm.T())
			for i := range n {
				for j := range n {
					want := 0.0
					if i == j {
						want = 1
					}
					assert.InDelta(t, want, vvt.At(i, j), 1e-13, "v_%d·v_%d", i, j)
					assert.InDelta(t, lambda[j]*v[j*n+i], av.At(i, j), 1e-13*scale, "(A·v_%d)_%d", j, i)
				}
			}
			want := slices.Sorted(slices.Values(tc.eig))
			got := slices.Sorted(slices.Values(lambda))
			assert.InDeltaSlice(t, want, got, 1e-13*scale)
		})
	}
}

// centred returns x (n×d, row-major) in float64 with each column's mean subtracted.
func centred(x []float32, n, d int) []float64 {
	a := toFloat64(x)
	for j := range d {
		var mean float64
		for i := range n {
			mean += a[i*d+j]
		}
		for i := range n {
			a[i*d+j] -= mean / float64(n)
		}
	}
	return a
}
