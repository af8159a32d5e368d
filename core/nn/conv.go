package nn

import "github.com/emc2ml/emc2/core/internal/par"

// ConvShape describes a 3×3 convolution with stride 1 and zero padding 1 ("same") over N images of
// H×W×Cin in NHWC order, producing H×W×Cout. Weights are a (9·Cin)×Cout matrix whose row index is
// (ky·3+kx)·Cin + ci, so the convolution is the GEMM im2col(x)·W; biases have Cout entries.
type ConvShape struct{ N, H, W, Cin, Cout int }

// K is the GEMM inner dimension, 9·Cin.
func (s ConvShape) K() int { return 9 * s.Cin }

// im2colChunk bounds the scratch matrix to about 8 M floats (32 MiB).
func (s ConvShape) imagesPerChunk() int {
	per := s.H * s.W * s.K()
	return max(1, (8<<20)/per)
}

// im2col writes the 3×3 patches of images [n0, n1) as rows of col ((n1-n0)·H·W × 9·Cin).
func im2col(col, x []float32, s ConvShape, n0, n1 int) {
	hw, k := s.H*s.W, s.K()
	par.For((n1-n0)*s.H, 8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, y := n0+r/s.H, r%s.H
			for xx := 0; xx < s.W; xx++ {
				row := col[((n-n0)*hw+y*s.W+xx)*k:][:k]
				for ky := 0; ky < 3; ky++ {
					iy := y + ky - 1
					for kx := 0; kx < 3; kx++ {
						ix := xx + kx - 1
						dst := row[(ky*3+kx)*s.Cin:][:s.Cin]
						if iy < 0 || iy >= s.H || ix < 0 || ix >= s.W {
							clear(dst)
							continue
						}
						copy(dst, x[((n*s.H+iy)*s.W+ix)*s.Cin:][:s.Cin])
					}
				}
			}
		}
	})
}

// col2im adds the patch gradients dcol of images [n0, n1) back into dx (which it overwrites).
func col2im(dx, dcol []float32, s ConvShape, n0, n1 int) {
	hw, k := s.H*s.W, s.K()
	par.For(n1-n0, 1, func(lo, hi int) {
		for n := n0 + lo; n < n0+hi; n++ {
			img := dx[n*hw*s.Cin:][:hw*s.Cin]
			clear(img)
			for y := 0; y < s.H; y++ {
				for xx := 0; xx < s.W; xx++ {
					row := dcol[((n-n0)*hw+y*s.W+xx)*k:][:k]
					for ky := 0; ky < 3; ky++ {
						iy := y + ky - 1
						if iy < 0 || iy >= s.H {
							continue
						}
						for kx := 0; kx < 3; kx++ {
							ix := xx + kx - 1
							if ix < 0 || ix >= s.W {
								continue
							}
							src := row[(ky*3+kx)*s.Cin:][:s.Cin]
							dst := img[(iy*s.W+ix)*s.Cin:][:s.Cin]
							for c, v := range src {
								dst[c] += v
							}
						}
					}
				}
			}
		}
	})
}

// Conv3x3 computes y = ReLU(conv(x, w) + b) (or without the ReLU when relu is false).
func Conv3x3(y, x, w, b []float32, s ConvShape, relu bool) {
	hw, k := s.H*s.W, s.K()
	step := s.imagesPerChunk()
	col := make([]float32, min(step, s.N)*hw*k)
	for n0 := 0; n0 < s.N; n0 += step {
		n1 := min(n0+step, s.N)
		rows := (n1 - n0) * hw
		im2col(col, x, s, n0, n1)
		out := y[n0*hw*s.Cout : n1*hw*s.Cout]
		Gemm(false, false, rows, s.Cout, k, col, w, 0, out)
		biasAct(out, b, rows, s.Cout, relu)
	}
}

// Conv3x3Back computes the gradients of Conv3x3 from dy and the forward output y (for the ReLU mask):
// dw and db are overwritten; dx is overwritten unless nil (the first layer needs no input gradient).
// dy is used as scratch and holds the pre-activation gradient on return.
func Conv3x3Back(dx, dw, db, dy, x, w, y []float32, s ConvShape, relu bool) {
	hw, k := s.H*s.W, s.K()
	if relu {
		reluMask(dy[:s.N*hw*s.Cout], y[:s.N*hw*s.Cout])
	}
	colSums(db, dy, s.N*hw, s.Cout)
	step := s.imagesPerChunk()
	col := make([]float32, min(step, s.N)*hw*k)
	for n0 := 0; n0 < s.N; n0 += step {
		n1 := min(n0+step, s.N)
		rows := (n1 - n0) * hw
		g := dy[n0*hw*s.Cout : n1*hw*s.Cout]
		im2col(col, x, s, n0, n1)
		beta := float32(1)
		if n0 == 0 {
			beta = 0
		}
		Gemm(true, false, k, s.Cout, rows, col, g, beta, dw)
		if dx != nil {
			Gemm(false, true, rows, k, s.Cout, g, w, 0, col[:rows*k])
			col2im(dx, col, s, n0, n1)
		}
	}
}

// biasAct adds the bias to each of the rows and applies the ReLU when asked.
func biasAct(y, b []float32, rows, n int, relu bool) {
	par.For(rows, 256, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := y[r*n : (r+1)*n]
			for j := range row {
				v := row[j] + b[j]
				if relu && v < 0 {
					v = 0
				}
				row[j] = v
			}
		}
	})
}

// reluMask zeroes the gradient where the ReLU output was not positive.
func reluMask(dy, y []float32) {
	par.For(len(dy), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if y[i] <= 0 {
				dy[i] = 0
			}
		}
	})
}

// colSums writes the column sums of the rows×n matrix g into db, accumulating in float64 in a fixed
// order so the result does not depend on the number of cores.
func colSums(db, g []float32, rows, n int) {
	acc := make([]float64, n)
	for r := 0; r < rows; r++ {
		for j, v := range g[r*n : (r+1)*n] {
			acc[j] += float64(v)
		}
	}
	for j := range db[:n] {
		db[j] = float32(acc[j])
	}
}
