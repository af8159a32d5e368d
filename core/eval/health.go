package eval

import "math"

// uniformityBlockRows is the number of anchor rows per Uniformity work unit.
const uniformityBlockRows = 32

// Alignment returns the alignment metric of Wang & Isola (2020) with α = 2:
// the mean over rows i of ||z1_i − z2_i||², where z1 and z2 are two n×d
// row-major matrices holding L2-normalised embeddings of two views of the
// same n inputs. It is 0 for identical views and 4 for antipodal ones.
//
// Alignment does not normalise its inputs. It returns NaN when n < 1, d < 1
// or a slice length differs from n·d.
func Alignment(z1, z2 []float32, n, d int) float64 {
	if n < 1 || checkMatrix("alignment z1", z1, n, d) != nil || checkMatrix("alignment z2", z2, n, d) != nil {
		return math.NaN()
	}
	var sum float64
	for i, a := range z1 {
		diff := float64(a) - float64(z2[i])
		sum += diff * diff
	}
	return sum / float64(n)
}

// Uniformity returns the uniformity metric of Wang & Isola (2020) with
// t = 2: log of the mean over pairs i < j of exp(−2·||z_i − z_j||²), for an
// n×d row-major matrix of L2-normalised embeddings. Two antipodal points
// give −8; uniformly spread embeddings approach the minimum and collapsed
// ones reach the maximum 0. It is computed with a blocked log-sum-exp, so it
// never underflows, in parallel over rows and deterministically, in
// O(n²·d) time.
//
// Uniformity does not normalise its inputs. It returns NaN when n < 2,
// d < 1 or len(z) differs from n·d.
func Uniformity(z []float32, n, d int) float64 {
	if n < 2 || checkMatrix("uniformity", z, n, d) != nil {
		return math.NaN()
	}
	x := toFloat64(z)
	norms := rowNorms2(x, d)
	blocks := (n + uniformityBlockRows - 1) / uniformityBlockRows
	// Each block yields a partial log-sum-exp (max m, scaled sum s) over
	// its pairs (i, j > i); they are merged in block order. Squared
	// distances use ||a||² + ||b||² − 2a·b, clamped at zero.
	ms := make([]float64, blocks)
	ss := make([]float64, blocks)
	parallelFor(blocks, func(_, b int) {
		lo := b * uniformityBlockRows
		hi := min(lo+uniformityBlockRows, n-1)
		m, s := math.Inf(-1), 0.0
		vals := make([]float64, n)
		for i := lo; i < hi; i++ {
			xi := x[i*d : (i+1)*d]
			row := vals[:n-i-1]
			j := i + 1
			for ; j+4 <= n; j += 4 {
				s0, s1, s2, s3 := dot4(x[j*d:(j+1)*d], x[(j+1)*d:(j+2)*d], x[(j+2)*d:(j+3)*d], x[(j+3)*d:(j+4)*d], xi)
				base := norms[i]
				row[j-i-1] = -2 * clampNonNeg(base+norms[j]-2*s0)
				row[j-i] = -2 * clampNonNeg(base+norms[j+1]-2*s1)
				row[j-i+1] = -2 * clampNonNeg(base+norms[j+2]-2*s2)
				row[j-i+2] = -2 * clampNonNeg(base+norms[j+3]-2*s3)
			}
			for ; j < n; j++ {
				row[j-i-1] = -2 * clampNonNeg(norms[i]+norms[j]-2*dot(xi, x[j*d:(j+1)*d]))
			}
			rm := math.Inf(-1)
			for _, v := range row {
				if v > rm {
					rm = v
				}
			}
			var rs float64
			for _, v := range row {
				rs += math.Exp(v - rm)
			}
			m, s = mergeLSE(m, s, rm, rs)
		}
		ms[b], ss[b] = m, s
	})
	m, s := math.Inf(-1), 0.0
	for b := range ms {
		m, s = mergeLSE(m, s, ms[b], ss[b])
	}
	pairs := float64(n) * float64(n-1) / 2
	return m + math.Log(s) - math.Log(pairs)
}

// mergeLSE combines two partial log-sum-exps represented as exp(m)·s.
func mergeLSE(m1, s1, m2, s2 float64) (float64, float64) {
	switch {
	case s2 == 0:
		return m1, s1
	case s1 == 0:
		return m2, s2
	case m1 >= m2:
		return m1, s1 + s2*math.Exp(m2-m1)
	default:
		return m2, s2 + s1*math.Exp(m1-m2)
	}
}

// EffectiveRank returns the effective rank of Roy & Vetterli (2007) of the
// n×d row-major matrix x after centring its columns: exp(H(p)) where
// p_k = σ_k / Σσ over the singular values σ and H is the Shannon entropy
// (natural log). It lies in [1, min(n, d)] and is 1 for a rank-1 matrix and
// d for one whose centred columns are orthogonal with equal norms. Note that
// centring removes one direction when the rows sum to a constant vector, e.g.
// the d×d identity has effective rank d−1.
//
// EffectiveRank returns 0 when the centred matrix is zero, and NaN when
// n < 1, d < 1, len(x) differs from n·d, or x holds non-finite values.
func EffectiveRank(x []float32, n, d int) float64 {
	if n < 1 || checkMatrix("effective rank", x, n, d) != nil || checkFinite("effective rank", x) != nil {
		return math.NaN()
	}
	data := toFloat64(x)
	for j := 0; j < d; j++ {
		var mean float64
		for i := 0; i < n; i++ {
			mean += data[i*d+j]
		}
		mean /= float64(n)
		for i := 0; i < n; i++ {
			data[i*d+j] -= mean
		}
	}
	sigma := singularValues(data, n, d)
	var total float64
	for _, s := range sigma {
		total += s
	}
	if !(total > 0) {
		return 0
	}
	var h float64
	for _, s := range sigma {
		if p := s / total; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return math.Exp(h)
}
