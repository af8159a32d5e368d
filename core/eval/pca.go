package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Power-iteration limits of PCA2. An iteration costs d² multiply-adds, so at the cap both directions
// together cost about what building the covariance (n·d²/2) does for a thousand rows. The cap is
// reached only when the leading eigenvalues nearly coincide (error ∝ (λ₂/λ₁)^k), and then any
// direction in their span shows the data about as well.
const (
	pcaMaxIter = 500
	// pcaTol stops the iteration when the eigen-residual ‖Cv − λv‖ falls below pcaTol·trace(C).
	pcaTol = 1e-12
)

// PCA2 projects the n×d row-major matrix x onto its top two principal components, for a 2-D scatter
// of embeddings. It centres the columns, forms the d×d covariance in float64 and finds its two
// leading eigenvectors by power iteration, the second deflated by projecting out the first. It
// returns the n×2 row-major projections (the centred rows' coordinates along the two directions)
// and the share of the total variance each direction explains.
//
// Each direction's sign is fixed by making its largest-magnitude component positive (the first
// such component on ties), so the picture does not flip between runs, and x and −x get the same
// directions with opposite projections.
// When x has no variance the projections and shares are zero; when it has less than two
// dimensions' worth, the second direction is an arbitrary one orthogonal to the first with share 0.
// Where two eigenvalues (nearly) coincide, the direction within their span is whichever the
// iteration reaches within its cap; the shares are still the variance along the returned
// directions. It costs O(n·d²) time and O(n·d + d²) memory, in parallel and deterministically.
func PCA2(x []float32, n, d int) (proj []float32, explained [2]float64, err error) {
	if n < 2 {
		return nil, explained, fmt.Errorf("eval: pca: need at least 2 rows, got %d", n)
	}
	if err := checkMatrix("pca", x, n, d); err != nil {
		return nil, explained, err
	}
	if err := checkFinite("pca", x); err != nil {
		return nil, explained, err
	}
	xt := centredTranspose(x, n, d)
	cov := covariance(xt, n, d)
	var trace float64
	for j := 0; j < d; j++ {
		trace += cov[j*d+j]
	}
	proj = make([]float32, 2*n)
	if !(trace > 0) {
		return proj, explained, nil
	}
	dirs, vals := principalPair(cov, d, trace)
	for k := range 2 {
		explained[k] = max(vals[k], 0) / trace
	}
	// λ₁ + λ₂ ≤ trace for a covariance; keep rounding from breaking that.
	explained[0] = min(explained[0], 1)
	explained[1] = min(explained[1], 1-explained[0])
	parallelFor(n, func(_, i int) {
		for k, v := range dirs {
			var s float64
			for j, vj := range v {
				s += xt[j*n+i] * vj
			}
			proj[2*i+k] = float32(s)
		}
	})
	return proj, explained, nil
}

// centredTranspose returns the d×n transpose of x with each row (a column of x) centred, so the
// covariance is a product of contiguous rows.
func centredTranspose(x []float32, n, d int) []float64 {
	xt := make([]float64, d*n)
	parallelFor(d, func(_, j int) {
		row := xt[j*n : (j+1)*n]
		var mean float64
		for i := range row {
			row[i] = float64(x[i*d+j])
			mean += row[i]
		}
		mean /= float64(n)
		for i := range row {
			row[i] -= mean
		}
	})
	return xt
}

// covariance returns the d×d sample covariance (divided by n−1) of the centred d×n matrix xt.
func covariance(xt []float64, n, d int) []float64 {
	cov := make([]float64, d*d)
	inv := 1 / float64(n-1)
	row := func(j int) []float64 { return xt[j*n : (j+1)*n] }
	parallelFor(d, func(_, i int) {
		a := row(i)
		j := i
		for ; j+4 <= d; j += 4 {
			s0, s1, s2, s3 := dot4(row(j), row(j+1), row(j+2), row(j+3), a)
			cov[i*d+j], cov[i*d+j+1], cov[i*d+j+2], cov[i*d+j+3] = s0*inv, s1*inv, s2*inv, s3*inv
		}
		for ; j < d; j++ {
			cov[i*d+j] = dot(a, row(j)) * inv
		}
	})
	for i := 0; i < d; i++ {
		for j := i + 1; j < d; j++ {
			cov[j*d+i] = cov[i*d+j]
		}
	}
	return cov
}

// errPCANoDirection reports that the deflated start vector vanished: there is no direction left.
var errPCANoDirection = errors.New("no direction orthogonal to the previous ones")

// principalPair returns the two leading unit eigenvectors of the symmetric positive semi-definite
// d×d matrix cov (trace its trace) and their Rayleigh quotients. A missing second direction (d = 1)
// is a zero vector with value 0.
func principalPair(cov []float64, d int, trace float64) ([2][]float64, [2]float64) {
	var dirs [2][]float64
	var vals [2]float64
	// A fixed pseudo-random start has, with probability one, a component along every eigenvector;
	// a structured one (all ones, a basis vector) can miss the leading one exactly.
	r := rand.New(rand.NewPCG(0x5ca1ab1e, 0x9e3779b97f4a7c15))
	for k := range dirs {
		start := make([]float64, d)
		for j := range start {
			start[j] = r.NormFloat64()
		}
		v, lambda, err := powerIteration(cov, d, trace, start, dirs[:k])
		if err != nil {
			dirs[k] = make([]float64, d)
			continue
		}
		fixSign(v)
		dirs[k], vals[k] = v, lambda
	}
	return dirs, vals
}

// powerIteration finds the leading eigenvector of cov restricted to the complement of the unit
// vectors prev, starting from v (overwritten). It stops when the residual ‖Cv − λv‖ is below
// pcaTol·trace or after pcaMaxIter steps, and returns the unit vector and its Rayleigh quotient.
func powerIteration(cov []float64, d int, trace float64, v []float64, prev [][]float64) ([]float64, float64, error) {
	project := func(u []float64) {
		for _, p := range prev {
			c := dot(p, u)
			for j := range u {
				u[j] -= c * p[j]
			}
		}
	}
	normalise := func(u []float64) bool {
		nrm := math.Sqrt(dot(u, u))
		if !(nrm > 0) {
			return false
		}
		for j := range u {
			u[j] /= nrm
		}
		return true
	}
	before := math.Sqrt(dot(v, v))
	project(v)
	// What is left after projecting out prev is rounding noise when prev already spans the space.
	if math.Sqrt(dot(v, v)) <= 1e-8*before || !normalise(v) {
		return nil, 0, errPCANoDirection
	}
	w := make([]float64, d)
	for it := 0; ; it++ {
		for i := range w {
			w[i] = dot(cov[i*d:(i+1)*d], v)
		}
		project(w) // deflation: iterate on (I − PPᵀ) C (I − PPᵀ)
		lambda := dot(v, w)
		var res float64
		for j := range w {
			e := w[j] - lambda*v[j]
			res += e * e
		}
		// Checked before stepping, so v is never replaced by the rounding noise of a C that
		// vanishes on the complement of prev (then res ≈ 0 and v, orthogonal to prev, is returned).
		if math.Sqrt(res) <= pcaTol*trace || it == pcaMaxIter || !normalise(w) {
			return v, lambda, nil
		}
		v, w = w, v
	}
}

// fixSign flips v so that its largest-magnitude component (the first on ties) is positive.
func fixSign(v []float64) {
	best := 0
	for j, x := range v {
		if math.Abs(x) > math.Abs(v[best]) {
			best = j
		}
	}
	if v[best] < 0 {
		for j := range v {
			v[j] = -v[j]
		}
	}
}
