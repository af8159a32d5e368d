package eval

import (
	"errors"
	"fmt"
	"math"
)

// GlobalLoss returns the exact global contrastive loss of the EMC² paper
// (compute_global_loss) on a finite augmented set, and its gradient.
//
// F holds n·K rows of dimension d (row-major); row r = a·n + i is
// augmentation a ∈ [0, K) of image i ∈ [0, n), so with K = 2 rows 0..n−1 are
// the first view and n..2n−1 the second. For an anchor row r = (a, i) the
// logits are β⟨F_r, F_c⟩ over every row c ≠ r (the K−1 positives, rows of
// image i with another augmentation, are included in the denominator, as in
// InfoNCE), and the loss of r is the cross-entropy towards each positive,
// averaged over the K−1 positives:
//
//	loss_r = −(1/(K−1)) Σ_{p ∈ P(r)} β⟨F_r, F_p⟩ + logsumexp_{c ≠ r} β⟨F_r, F_c⟩.
//
// The global loss is the mean of loss_r over all n·K rows. dF is its exact
// gradient with respect to F (row-major, same shape), including both the
// anchor and the candidate roles of every row; all arithmetic is in float64.
// It costs O((n·K)²·d) time (two passes over the similarity rows, which are
// never stored), parallelised over rows with O(n·K) memory per goroutine,
// and is deterministic.
//
// GlobalLoss requires n ≥ 1, K ≥ 2, d ≥ 1, len(F) = n·K·d, finite F and a
// finite beta.
func GlobalLoss(F []float32, n, K, d int, beta float64) (loss float64, dF []float64, err error) {
	return globalContrastive(F, n, K, d, beta, false)
}

// GCLNegOnly is the variant of GlobalLoss (§1.1 of the EMC² paper) whose
// denominator sums over negatives only, i.e. rows of other images:
//
//	loss_r = −(1/(K−1)) Σ_{p ∈ P(r)} β⟨F_r, F_p⟩ + logsumexp_{c : image(c) ≠ i} β⟨F_r, F_c⟩,
//
// which for K = 2 is −β⟨F_r, F_{r+}⟩ + logsumexp over the 2(n−1) negatives.
// It returns the mean over all n·K rows and its exact gradient with respect
// to F. It requires n ≥ 2 (so every row has a negative), K ≥ 2, d ≥ 1,
// len(F) = n·K·d, finite F and a finite beta.
func GCLNegOnly(F []float32, n, K, d int, beta float64) (loss float64, dF []float64, err error) {
	return globalContrastive(F, n, K, d, beta, true)
}

// globalContrastive implements GlobalLoss (negOnly false) and GCLNegOnly.
//
// With S = β·F·Fᵀ and, for every anchor r, D(r) its denominator set and
// P(r) its positives, the loss is (1/N)·Σ_r [lse_r − mean_{p∈P(r)} S_rp].
// Its derivative with respect to S_rc is G_rc = (1/N)·(1[c∈D(r)]·
// softmax_r(c) − 1[c∈P(r)]/(K−1)), hence dF = β·(G + Gᵀ)·F. Because S is
// symmetric, row c of G + Gᵀ is computable from row c of S alone once every
// lse_r is known, so two passes over the rows suffice.
func globalContrastive(F []float32, n, K, d int, beta float64, negOnly bool) (float64, []float64, error) {
	name := "global loss"
	minN := 1
	if negOnly {
		name = "negatives-only global loss"
		minN = 2
	}
	if n < minN {
		return 0, nil, fmt.Errorf("eval: %s: n=%d images, need at least %d", name, n, minN)
	}
	if K < 2 {
		return 0, nil, fmt.Errorf("eval: %s: K=%d augmentations, need at least 2", name, K)
	}
	if n > math.MaxInt/K {
		return 0, nil, fmt.Errorf("eval: %s: n·K = %d·%d overflows int", name, n, K)
	}
	N := n * K
	if err := checkMatrix(name+" features", F, N, d); err != nil {
		return 0, nil, err
	}
	if math.IsNaN(beta) || math.IsInf(beta, 0) {
		return 0, nil, fmt.Errorf("eval: %s: beta=%v must be finite", name, beta)
	}
	if err := checkFinite(name+" features", F); err != nil {
		return 0, nil, err
	}
	x := toFloat64(F)

	invPos := 1 / float64(K-1)
	rowBuf := make([][]float64, numWorkers(N))
	getRow := func(w int) []float64 {
		if rowBuf[w] == nil {
			rowBuf[w] = make([]float64, N)
		}
		return rowBuf[w]
	}

	// Pass 1: log-sum-exp and loss of every anchor. Candidate c = a·n + j
	// is a positive of r = (ar, ir) when j == ir and c ≠ r; it is in the
	// denominator when c ≠ r and, for the negatives-only variant, j ≠ ir.
	lse := make([]float64, N)
	rowLoss := make([]float64, N)
	parallelFor(N, func(w, r int) {
		s := getRow(w)
		similarityRow(x, d, r, beta, s)
		ir := r % n
		m := math.Inf(-1)
		var pos float64
		for a := 0; a < K; a++ {
			row := s[a*n : (a+1)*n]
			for j, v := range row {
				if j == ir {
					if a*n+j == r {
						continue
					}
					pos += v
					if negOnly {
						continue
					}
				}
				if v > m {
					m = v
				}
			}
		}
		var sum float64
		for a := 0; a < K; a++ {
			row := s[a*n : (a+1)*n]
			for j, v := range row {
				if j == ir && (negOnly || a*n+j == r) {
					continue
				}
				sum += math.Exp(v - m)
			}
		}
		lse[r] = m + math.Log(sum)
		rowLoss[r] = lse[r] - pos*invPos
	})
	var loss float64
	for _, l := range rowLoss {
		loss += l
	}
	loss /= float64(N)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, nil, errors.New("eval: " + name + ": non-finite loss (beta·||F||² too large?)")
	}

	// Pass 2: dF_c = β·Σ_r (G_cr + G_rc)·F_r, where row c of S gives every
	// S_cr = S_rc and the coefficients are
	// (1/N)·(exp(S_cr − lse_c) + exp(S_cr − lse_r)) for r in the denominator
	// of c, minus (2/N)/(K−1) for its positives.
	dF := make([]float64, N*d)
	scale := beta / float64(N)
	xT := make([]float64, d*N)
	for r := 0; r < N; r++ {
		for k, v := range x[r*d : (r+1)*d] {
			xT[k*N+r] = v
		}
	}
	parallelFor(N, func(w, c int) {
		s := getRow(w)
		similarityRow(x, d, c, beta, s)
		ic := c % n
		lc := lse[c]
		for a := 0; a < K; a++ {
			row := s[a*n : (a+1)*n]
			for j, v := range row {
				r := a*n + j
				var coef float64
				switch {
				case r == c:
				case j == ic && negOnly:
					coef = -2 * invPos
				case j == ic:
					coef = math.Exp(v-lc) + math.Exp(v-lse[r]) - 2*invPos
				default:
					coef = math.Exp(v-lc) + math.Exp(v-lse[r])
				}
				row[j] = coef * scale
			}
		}
		// s now holds the coefficients: dF_c[k] = Σ_r s[r]·x_r[k], a dot
		// product with column k of x, taken four columns at a time.
		dst := dF[c*d : (c+1)*d]
		k := 0
		for ; k+4 <= d; k += 4 {
			dst[k], dst[k+1], dst[k+2], dst[k+3] = dot4(xT[k*N:(k+1)*N], xT[(k+1)*N:(k+2)*N], xT[(k+2)*N:(k+3)*N], xT[(k+3)*N:(k+4)*N], s)
		}
		for ; k < d; k++ {
			dst[k] = dot(s, xT[k*N:(k+1)*N])
		}
	})
	return loss, dF, nil
}

// similarityRow writes s[c] = beta·⟨x_r, x_c⟩ for every row c.
func similarityRow(x []float64, d, r int, beta float64, s []float64) {
	xr := x[r*d : (r+1)*d]
	N := len(s)
	c := 0
	for ; c+4 <= N; c += 4 {
		s0, s1, s2, s3 := dot4(x[c*d:(c+1)*d], x[(c+1)*d:(c+2)*d], x[(c+2)*d:(c+3)*d], x[(c+3)*d:(c+4)*d], xr)
		s[c], s[c+1], s[c+2], s[c+3] = beta*s0, beta*s1, beta*s2, beta*s3
	}
	for ; c < N; c++ {
		s[c] = beta * dot(xr, x[c*d:(c+1)*d])
	}
}
