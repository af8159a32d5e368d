package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Gemm computes C = A'·B' + beta·C for row-major matrices, where A' is m×k (A stored transposed when
// transA) and B' is k×n (B stored transposed when transB). It is gonum's pure-Go, cache-blocked,
// multi-goroutine SGEMM with assembly inner loops: the one matrix kernel of the CPU reference.
func Gemm(transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range c[:m*n] {
			c[i] *= beta
		}
		return
	}
	ga := blas32.General{Rows: m, Cols: k, Stride: k, Data: a}
	ta := blas.NoTrans
	if transA {
		ga = blas32.General{Rows: k, Cols: m, Stride: m, Data: a}
		ta = blas.Trans
	}
	gb := blas32.General{Rows: k, Cols: n, Stride: n, Data: b}
	tb := blas.NoTrans
	if transB {
		gb = blas32.General{Rows: n, Cols: k, Stride: k, Data: b}
		tb = blas.Trans
	}
	blas32.Gemm(ta, tb, 1, ga, gb, beta, blas32.General{Rows: m, Cols: n, Stride: n, Data: c})
}
