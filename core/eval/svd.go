package eval

import (
	"math"
	"slices"
)

// singularValues returns the singular values of the rows×cols row-major matrix a, in decreasing
// order (min(rows, cols) of them). It replaces gonum's LAPACK SVD, which was 0.4 MB of the browser
// engine, and agrees with it to a few ε·σ_max (svd_test.go). A wide matrix is transposed first, so
// that cols ≤ rows; then:
//
//  1. The eigenvalues of the small Gram matrix G = AᵀA = V·Λ·Vᵀ (Householder reduction to
//     tridiagonal form, then the implicit QR algorithm) give σ_k = √λ_k.
//  2. Forming G rounds at ε·σ_max², so √λ_k is only as good as an SVD's σ_k when σ_k is not small:
//     for the eigenvalues below refineBelow·λ_max (the near-zero directions that centring, a wide
//     matrix or a collapsed representation bring, which weigh in the effective rank), σ is
//     recomputed as the singular values of B = A·V_small, recursively. B holds only those
//     directions, so its own Gram matrix rounds at ε times their scale, not σ_max's.
//
// Its cost is about the SVD's: rows·cols²/2 for G and (4/3)·cols³ for its eigenvalues. Only when
// some are small does it add a few cols³ for the eigenvectors, and the same again for B, whose
// width is the number of small singular values (most of them, for a collapsed representation).
func singularValues(a []float64, rows, cols int) []float64 {
	if rows < cols {
		t := make([]float64, len(a))
		for i := range rows {
			for j := range cols {
				t[j*rows+i] = a[i*cols+j]
			}
		}
		a, rows, cols = t, cols, rows
	}
	c := cols
	g := make([]float64, c*c)
	for i := range rows {
		row := a[i*c : (i+1)*c]
		for p, x := range row {
			if x == 0 {
				continue
			}
			gp := g[p*c : (p+1)*c]
			for q := p; q < c; q++ {
				gp[q] += x * row[q]
			}
		}
	}
	for p := range c {
		for q := p + 1; q < c; q++ {
			g[q*c+p] = g[p*c+q]
		}
	}
	t := tridiagonalise(g, c)
	lambda := t.eigenvalues()
	sigma := make([]float64, c)
	if top := slices.Max(lambda); top > 0 { // else A = 0
		var small []int
		for k, l := range lambda {
			if l <= refineBelow*top {
				small = append(small, k)
			} else {
				sigma[k] = math.Sqrt(l)
			}
		}
		if w := len(small); w > 0 { // w < c: the largest eigenvalue is not small
			b := make([]float64, rows*w)
			for s, vk := range t.eigenvectors(small) {
				for i := range rows {
					b[i*w+s] = dotF64(a[i*c:(i+1)*c], vk)
				}
			}
			for s, x := range singularValues(b, rows, w) {
				sigma[small[s]] = x
			}
		}
	}
	slices.Sort(sigma)
	slices.Reverse(sigma)
	return sigma
}

// refineBelow is the eigenvalue of AᵀA, relative to the largest, below which singularValues
// recomputes σ: above it √λ is within a few ε/refineBelow (relative) of an SVD's value.
const refineBelow = 1e-6

func dotF64(x, y []float64) float64 {
	var s float64
	for k, xk := range x {
		s += xk * y[k]
	}
	return s
}

// rotate replaces x and y by cs·x − sn·y and sn·x + cs·y.
func rotate(x, y []float64, cs, sn float64) {
	for k, xk := range x {
		yk := y[k]
		x[k], y[k] = cs*xk-sn*yk, sn*xk+cs*yk
	}
}

// tridiagonal is the tridiagonal form T = H_{n−3}…H_0·A·H_0…H_{n−3} of a symmetric matrix A
// (tridiagonalise): its diagonal d, its subdiagonal e (e[i] couples i and i+1) and the
// Householder reflections H_k.
type tridiagonal struct {
	d, e []float64
	refl []reflector
}

// eigenvalues returns the eigenvalues of A, in the order eigenvectors numbers them.
func (t tridiagonal) eigenvalues() []float64 {
	d := slices.Clone(t.d)
	tridiagonalQR(d, slices.Clone(t.e), nil)
	return d
}

// eigenvectors returns the unit eigenvectors of A for the eigenvalues numbered ks: the QR
// algorithm run again, accumulating its rotations (so it costs a few n³ where eigenvalues costs
// n²), then the reflections applied to the vectors wanted.
func (t tridiagonal) eigenvectors(ks []int) [][]float64 {
	n := len(t.d)
	zt := make([]float64, n*n)
	for k := range n {
		zt[k*n+k] = 1
	}
	tridiagonalQR(slices.Clone(t.d), slices.Clone(t.e), zt)
	out := make([][]float64, len(ks))
	for o, k := range ks {
		x := zt[k*n : (k+1)*n]
		for j := len(t.refl) - 1; j >= 0; j-- {
			r := t.refl[j]
			if r.beta == 0 {
				continue
			}
			tail := x[len(x)-len(r.v):]
			f := r.beta * dotF64(r.v, tail)
			for i, vi := range r.v {
				tail[i] -= f * vi
			}
		}
		out[o] = x
	}
	return out
}

// tridiagonalQR diagonalises the symmetric tridiagonal matrix (d, e) in place (the eigenvalues are
// left in d) and applies its rotations to the vectors zt[k·n : (k+1)·n] (the columns of Z), if
// zt is not nil. Each
// step chases the bulge of a Wilkinson-shifted QR step down the unreduced block at the bottom;
// off-diagonal entries negligible beside their diagonal neighbours are set to zero, splitting it.
func tridiagonalQR(d, e, zt []float64) {
	n := len(d)
	const eps = 0x1p-52
	negligible := func(k int) bool {
		return math.Abs(e[k]) <= eps*(math.Abs(d[k])+math.Abs(d[k+1])) || math.Abs(e[k]) < 0x1p-1022
	}
	for steps, m := 0, n-1; m > 0 && steps < 30*n; {
		if negligible(m - 1) {
			e[m-1] = 0
			m--
			continue
		}
		l := m - 1
		for l > 0 && !negligible(l-1) {
			l--
		}
		if l > 0 {
			e[l-1] = 0
		}
		steps++
		// The shift: the eigenvalue of the trailing 2×2 block nearer its last diagonal entry.
		delta, f := (d[m-1]-d[m])/2, e[m-1]
		mu := d[m] - f*f/(delta+math.Copysign(math.Hypot(delta, f), delta))
		x, z := d[l]-mu, e[l]
		for k := l; k < m; k++ {
			// The rotation of rows and columns k, k+1 (row k ← c·row k − s·row k+1, row k+1 ←
			// s·row k + c·row k+1) that zeroes z: the bulge, or at first e[l] of T − μI.
			r := math.Hypot(x, z)
			c, s := 1.0, 0.0
			if r > 0 {
				c, s = x/r, -z/r
			}
			if k > l {
				e[k-1] = r
			}
			a, b, f := d[k], d[k+1], e[k]
			d[k] = c*c*a - 2*c*s*f + s*s*b
			d[k+1] = s*s*a + 2*c*s*f + c*c*b
			e[k] = c*s*(a-b) + (c*c-s*s)*f
			if k+1 < m {
				x, z = e[k], -s*e[k+1]
				e[k+1] *= c
			}
			if zt != nil {
				rotate(zt[k*n:(k+1)*n], zt[(k+1)*n:(k+2)*n], c, s)
			}
		}
	}
}

// reflector is a Householder reflection I − β·v·vᵀ acting on the last len(v) coordinates.
type reflector struct {
	v    []float64
	beta float64
}

// tridiagonalise reduces the symmetric n×n row-major matrix a (overwritten) to tridiagonal form
// by Householder reflections.
func tridiagonalise(a []float64, n int) tridiagonal {
	d, e := make([]float64, n), make([]float64, max(n-1, 0))
	var refl []reflector
	p := make([]float64, n) // p[i] for i > k
	for k := 0; k+2 < n; k++ {
		// The reflection H = I − β·v·vᵀ maps column k below the diagonal, x, onto alpha·e_1; it
		// acts on the trailing block S (rows and columns k+1…) as S ← H·S·H.
		m := k + 1
		var s float64
		for i := m; i < n; i++ {
			s += a[i*n+k] * a[i*n+k]
		}
		x0 := a[m*n+k]
		alpha := -math.Copysign(math.Sqrt(s), x0)
		e[k] = alpha
		if s == 0 {
			refl = append(refl, reflector{}) // the column is zero already: H = I
			continue
		}
		v := make([]float64, n) // v[i] for i ≥ m
		for i := m; i < n; i++ {
			v[i] = a[i*n+k]
		}
		v[m] -= alpha
		beta := 1 / (s - alpha*x0) // 2 / vᵀv
		refl = append(refl, reflector{v[m:], beta})
		// p = β·S·v, then w = p − (β/2)(vᵀp)·v, and S ← S − v·wᵀ − w·vᵀ.
		var vp float64
		for i := m; i < n; i++ {
			row := a[i*n : (i+1)*n]
			var sum float64
			for j := m; j < n; j++ {
				sum += row[j] * v[j]
			}
			p[i] = beta * sum
			vp += v[i] * p[i]
		}
		half := beta / 2 * vp
		for i := m; i < n; i++ {
			p[i] -= half * v[i]
		}
		for i := m; i < n; i++ {
			row := a[i*n : (i+1)*n]
			vi, wi := v[i], p[i]
			for j := m; j < n; j++ {
				row[j] -= vi*p[j] + wi*v[j]
			}
		}
	}
	for i := range n {
		d[i] = a[i*n+i]
	}
	if n >= 2 {
		e[n-2] = a[(n-1)*n+n-2]
	}
	return tridiagonal{d, e, refl}
}
