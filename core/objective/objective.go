// Package objective holds the reference kernels that turn a batch's similarity matrix into the
// weights Ω of one common surrogate, the form in which every method's gradient estimate is written
//
//	L̂ = β/(2B) · Σ_r Σ_c Ω[r,c]·s[r,c],   Ω detached,
//
// whose gradient is each method's gradient estimate. Rows r are the 2B anchors (view 1 of the batch,
// then view 2); columns are the 2B in-batch views, plus, for the fresh EMC² variant, one extra column
// per chain holding its current state (see core/mcmc). Ω[r, pos(r)] carries the positive term and
// Ω[r, r] is always 0. All methods share this one loss scale, so plain-SGD comparisons are fair.
//
// SimCLR and SogCLR live here; EMC²'s weights come from the Metropolis–Hastings sweep in core/mcmc.
package objective

import (
	"math"

	"github.com/emc2ml/emc2/core/nn"
)

// Stats are the per-step statistics every weight kernel writes (indices into a NumStats vector).
const (
	StatLoss      = iota // mean in-batch InfoNCE (NT-Xent) over the 2B anchors, the same for all methods
	StatProposals        // MH: proposals evaluated (masked columns excluded)
	StatAccepted         // MH: proposals accepted
	StatRecorded         // MH: recorded chain steps (after burn-in)
	StatDropped          // MH: recorded steps whose state is out of the batch and unused (paper variant)
	StatState            // MH: recorded steps on the re-scored out-of-batch state (fresh variant)
	NumStats
)

// Shape is the geometry of a batch: B images, 2B anchor rows, Cols similarity columns, inverse
// temperature Beta.
type Shape struct {
	B    int
	Cols int
	Beta float32
}

// Rows is the number of anchors, 2B.
func (s Shape) Rows() int { return 2 * s.B }

// Pos is the column of the positive partner of anchor r.
func (s Shape) Pos(r int) int { return (r + s.B) % (2 * s.B) }

// Masked reports whether in-batch column c is anchor r's own image (itself or its positive).
func (s Shape) Masked(r, c int) bool { return c < 2*s.B && c%s.B == r%s.B }

// Scale is the loss scale β/(2B) of the surrogate.
func (s Shape) Scale() float32 { return s.Beta / float32(2*s.B) }

// Unvisited marks a per-image log-score or log-u that has never been set. WGSL assumes finite
// floats, so the sentinel is the most negative finite float32 rather than -Inf.
const Unvisited float32 = -math.MaxFloat32

// InfoNCE returns the mean in-batch NT-Xent loss: for each anchor, cross-entropy of βs over its positive
// and its 2B-2 in-batch negatives, with the positive as the target (positive in the denominator).
func InfoNCE(s []float32, p Shape) float64 {
	var total float64
	for r := 0; r < p.Rows(); r++ {
		row := s[r*p.Cols : r*p.Cols+2*p.B]
		pos := float64(p.Beta) * float64(row[p.Pos(r)])
		total += logSumExpRow(row, r, p, true) - pos
	}
	return total / float64(p.Rows())
}

// logSumExpRow is log Σ exp(β·s) over the in-batch negatives of r, and the positive when withPos.
func logSumExpRow(row []float32, r int, p Shape, withPos bool) float64 {
	m := math.Inf(-1)
	for c := 0; c < 2*p.B; c++ {
		if include(r, c, p, withPos) {
			m = math.Max(m, float64(p.Beta)*float64(row[c]))
		}
	}
	var sum float64
	for c := 0; c < 2*p.B; c++ {
		if include(r, c, p, withPos) {
			sum += math.Exp(float64(p.Beta)*float64(row[c]) - m)
		}
	}
	return m + math.Log(sum)
}

func include(r, c int, p Shape, withPos bool) bool {
	if c == p.Pos(r) {
		return withPos
	}
	return !p.Masked(r, c)
}

// SimCLRWeights fills Ω for NT-Xent: the softmax p of βs over {positive} ∪ negatives, with
// Ω = p on negatives and p_pos − 1 on the positive, which is exactly ∂ℓ_r/∂(βs).
func SimCLRWeights(omega, stats, s []float32, p Shape) {
	clear(omega[:p.Rows()*p.Cols])
	for r := 0; r < p.Rows(); r++ {
		row := s[r*p.Cols : (r+1)*p.Cols]
		lse := logSumExpRow(row, r, p, true)
		for c := 0; c < 2*p.B; c++ {
			if include(r, c, p, true) {
				omega[r*p.Cols+c] = float32(math.Exp(float64(p.Beta)*float64(row[c]) - lse))
			}
		}
		omega[r*p.Cols+p.Pos(r)] -= 1
	}
	writeLoss(stats, s, p)
}

func writeLoss(stats, s []float32, p Shape) {
	clear(stats[:NumStats])
	stats[StatLoss] = float32(InfoNCE(s, p))
}

// SogCLRParams configures SogCLR's moving average of each image's negative partition function.
type SogCLRParams struct {
	Shape
	Gamma float32 // moving-average weight of the new estimate (γ = 0.9 by default)
}

// SogCLRWeights fills Ω for SogCLR (Yuan et al. 2022) in the common scale. Each image i keeps
// log u_i, a moving average of g = mean over its anchor's negatives of exp(βs); the first visit
// uses γ = 1 (LibAUC PR #53: only while u_i is unset). Ω[r,c] = exp(βs_rc)/(|N|·u_r) on negatives,
// −1 on the positive. logU is indexed by dataset index through batch; it is updated in place with
// the mean of the two views' estimates. Working in log space keeps large β finite.
func SogCLRWeights(omega, stats, s, logU []float32, batch []uint32, p SogCLRParams) {
	clear(omega[:p.Rows()*p.Cols])
	nNeg := float64(2*p.B - 2)
	logNeg := math.Log(nNeg)
	lg1, lg2 := math.Log(1-float64(p.Gamma)), math.Log(float64(p.Gamma))
	for k := 0; k < p.B; k++ {
		i := batch[k]
		prev := logU[i]
		var upd [2]float64
		for v := 0; v < 2; v++ {
			r := v*p.B + k
			row := s[r*p.Cols : (r+1)*p.Cols]
			lg := logSumExpRow(row, r, p.Shape, false) - logNeg // log of the batch estimate g
			lu := lg
			if prev != Unvisited && p.Gamma < 1 {
				lu = logAddExp(lg1+float64(prev), lg2+lg)
			}
			upd[v] = lu
			for c := 0; c < 2*p.B; c++ {
				if !p.Masked(r, c) {
					omega[r*p.Cols+c] = float32(math.Exp(float64(p.Beta)*float64(row[c])-lu) / nNeg)
				}
			}
			omega[r*p.Cols+p.Pos(r)] = -1
		}
		logU[i] = float32(logAddExp(upd[0], upd[1]) - math.Ln2)
	}
	writeLoss(stats, s, p.Shape)
}

func logAddExp(a, b float64) float64 {
	m := math.Max(a, b)
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m))
}

// SurrogateBack writes dF = scale·(Ω·F[:cols] into rows 0..rows-1, plus Ωᵀ·F[:rows] into all cols
// rows), the gradient of scale·Σ Ω⊙(F[:rows]·F[:cols]ᵀ) with Ω held constant. dF has cols rows.
func SurrogateBack(df, omega, f []float32, rows, cols, d int, scale float32) {
	nn.Gemm(true, false, cols, d, rows, omega, f[:rows*d], 0, df[:cols*d])
	nn.Gemm(false, false, rows, d, cols, omega, f[:cols*d], 1, df[:rows*d])
	for i := range df[:cols*d] {
		df[i] *= scale
	}
}
