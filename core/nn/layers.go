package nn

import (
	"math"

	"github.com/emc2ml/emc2/core/internal/par"
)

// PoolShape describes a 2×2 max pool with stride 2 over N images of H×W×C (NHWC). Odd trailing rows
// and columns are dropped, as in PyTorch's default floor mode.
type PoolShape struct{ N, H, W, C int }

// OutH and OutW are the pooled sizes.
func (s PoolShape) OutH() int { return s.H / 2 }

// OutW is the pooled width.
func (s PoolShape) OutW() int { return s.W / 2 }

// MaxPool2 writes the window maxima to y and, per output, the position of the maximum in its window
// (0..3, row-major; the first maximum wins ties) to arg, which the backward pass routes gradients by.
func MaxPool2(y []float32, arg []uint32, x []float32, s PoolShape) {
	oh, ow := s.OutH(), s.OutW()
	par.For(s.N*oh, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oy := r/oh, r%oh
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < s.C; c++ {
					best, bi := float32(0), uint32(0)
					for q := uint32(0); q < 4; q++ {
						iy, ix := 2*oy+int(q/2), 2*ox+int(q%2)
						v := x[((n*s.H+iy)*s.W+ix)*s.C+c]
						if q == 0 || v > best {
							best, bi = v, q
						}
					}
					o := ((n*oh+oy)*ow+ox)*s.C + c
					y[o], arg[o] = best, bi
				}
			}
		}
	})
}

// MaxPool2Back routes each output gradient to the input position that won its window; dx is
// overwritten (zero elsewhere, including dropped odd rows and columns).
func MaxPool2Back(dx, dy []float32, arg []uint32, s PoolShape) {
	oh, ow := s.OutH(), s.OutW()
	clear(dx[:s.N*s.H*s.W*s.C])
	par.For(s.N*oh, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oy := r/oh, r%oh
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < s.C; c++ {
					o := ((n*oh+oy)*ow+ox)*s.C + c
					q := int(arg[o])
					iy, ix := 2*oy+q/2, 2*ox+q%2
					dx[((n*s.H+iy)*s.W+ix)*s.C+c] = dy[o]
				}
			}
		}
	})
}

// Linear computes y = x·w + b for m rows (x is m×k, w is k×n), with an optional ReLU.
func Linear(y, x, w, b []float32, m, k, n int, relu bool) {
	Gemm(false, false, m, n, k, x, w, 0, y)
	biasAct(y, b, m, n, relu)
}

// LinearBack computes dw = xᵀ·g, db = Σ g and (unless dx is nil) dx = g·wᵀ, where g is dy masked by
// the ReLU of the forward output y when relu is set (dy is overwritten with g).
func LinearBack(dx, dw, db, dy, x, w, y []float32, m, k, n int, relu bool) {
	if relu {
		reluMask(dy[:m*n], y[:m*n])
	}
	colSums(db, dy, m, n)
	Gemm(true, false, k, n, m, x, dy, 0, dw)
	if dx != nil {
		Gemm(false, true, m, k, n, dy, w, 0, dx)
	}
}

// NormEps floors the row norm in L2Norm so that a zero row stays finite.
const NormEps = 1e-6

// L2Norm writes y = x/‖x‖ row by row for rows×d matrices, keeping the norms for the backward pass.
func L2Norm(y, norm, x []float32, rows, d int) {
	for r := 0; r < rows; r++ {
		xr := x[r*d : (r+1)*d]
		var s float64
		for _, v := range xr {
			s += float64(v) * float64(v)
		}
		nr := float32(math.Max(math.Sqrt(s), NormEps))
		norm[r] = nr
		inv := 1 / nr
		for j, v := range xr {
			y[r*d+j] = v * inv
		}
	}
}

// L2NormBack computes dx = (dy − y·⟨y, dy⟩)/‖x‖.
func L2NormBack(dx, dy, y, norm []float32, rows, d int) {
	for r := 0; r < rows; r++ {
		yr, gr := y[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		var dot float64
		for j := range yr {
			dot += float64(yr[j]) * float64(gr[j])
		}
		inv := 1 / norm[r]
		for j := range yr {
			dx[r*d+j] = (gr[j] - yr[j]*float32(dot)) * inv
		}
	}
}
