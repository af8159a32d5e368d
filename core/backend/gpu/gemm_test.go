package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/stretchr/testify/require"
)

// TestLinearParity checks the GEMM kernel through Linear and LinearBack (all three products, bias,
// ReLU, ReLU mask, column sums) against the CPU reference, on shapes that are not multiples of the
// 32×32 tile. Tolerance: relative L2 ≤ 1e-5 (sums of K ≤ 4k float32 products, in another order than
// the CPU's: the typical error grows like √K·2⁻²⁴). Both kernel versions are checked.
func TestLinearParity(t *testing.T) {
	c, g := backends(t)
	bothKernels(t, g, func(t *testing.T) { linearParity(t, c, g) })
}

func linearParity(t *testing.T, c *cpu.Backend, g *Backend) {
	for _, s := range []struct{ m, k, n int }{{5, 7, 3}, {64, 100, 37}, {130, 33, 65}} {
		for _, relu := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%dx%d relu=%v", s.m, s.k, s.n, relu), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(s.m), uint64(s.n)))
				xc, xg := pair(c, g, randVec(r, s.m*s.k))
				wc, wg := pair(c, g, randVec(r, s.k*s.n))
				bc, bg := pair(c, g, randVec(r, s.n))
				yc, yg := c.Alloc(s.m*s.n), g.Alloc(s.m*s.n)
				c.Linear(yc, xc, wc, bc, s.m, s.k, s.n, relu)
				g.Linear(yg, xg, wg, bg, s.m, s.k, s.n, relu)
				requireClose(t, "y", read(t, g, yg), read(t, c, yc), 1e-5, 1e-4)

				dy := randVec(r, s.m*s.n)
				dyc, dyg := pair(c, g, dy)
				dxc, dxg := c.Alloc(s.m*s.k), g.Alloc(s.m*s.k)
				dwc, dwg := c.Alloc(s.k*s.n), g.Alloc(s.k*s.n)
				dbc, dbg := c.Alloc(s.n), g.Alloc(s.n)
				c.LinearBack(dxc, dwc, dbc, dyc, xc, wc, yc, s.m, s.k, s.n, relu)
				g.LinearBack(dxg, dwg, dbg, dyg, xg, wg, yg, s.m, s.k, s.n, relu)
				requireClose(t, "dx", read(t, g, dxg), read(t, c, dxc), 1e-5, 1e-4)
				requireClose(t, "dw", read(t, g, dwg), read(t, c, dwc), 1e-5, 1e-4)
				requireClose(t, "db", read(t, g, dbg), read(t, c, dbc), 1e-5, 1e-4)
			})
		}
	}
}

// TestSimilarityAndSurrogateParity checks S = F·Fᵀ (with extra columns) and the surrogate backward.
func TestSimilarityAndSurrogateParity(t *testing.T) {
	c, g := backends(t)
	bothKernels(t, g, func(t *testing.T) { similarityParity(t, c, g) })
}

func similarityParity(t *testing.T, c *cpu.Backend, g *Backend) {
	rows, cols, d := 12, 18, 10
	r := rand.New(rand.NewPCG(4, 2))
	fc, fg := pair(c, g, randVec(r, cols*d))
	sc, sg := c.Alloc(rows*cols), g.Alloc(rows*cols)
	c.Similarity(sc, fc, rows, cols, d)
	g.Similarity(sg, fg, rows, cols, d)
	requireClose(t, "S", read(t, g, sg), read(t, c, sc), 1e-5, 1e-4)

	oc, og := pair(c, g, randVec(r, rows*cols))
	dc, dg := c.Alloc(cols*d), g.Alloc(cols*d)
	c.SurrogateBack(dc, oc, fc, rows, cols, d, 0.3)
	g.SurrogateBack(dg, og, fg, rows, cols, d, 0.3)
	requireClose(t, "dF", read(t, g, dg), read(t, c, dc), 1e-5, 1e-4)
}

// TestGemmV4EqualsScalar: gemm_v4, which the backend picks when k and the operands' row lengths
// are multiples of 4, adds each output's products in the same order as gemm, so the bits must be
// the same, for every transpose, with alpha, beta, bias and ReLU, on rows cut by the 64-row tiles.
func TestGemmV4EqualsScalar(t *testing.T) {
	_, g := backends(t)
	for _, s := range []struct{ m, n, k int }{{4, 4, 4}, {12, 8, 16}, {64, 32, 100}, {68, 132, 256}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("%dx%dx%d trans=%v", s.m, s.n, s.k, tr), func(t *testing.T) {
				a, bb, bias, c0 := gemmOperands(g, s.m, s.n, s.k)
				params := gemmParams{M: uint32(s.m), N: uint32(s.n), K: uint32(s.k), TransA: bit(tr[0]), TransB: bit(tr[1]),
					Alpha: 0.7, Beta: 0.5, Bias: 1, Relu: 1}
				run := func(entry string, bufs binds) []float32 {
					c := g.Alloc(s.m * s.n)
					g.Write(c, c0)
					bufs["C"], bufs["bias"] = c.(*Buf), bias.(*Buf)
					g.dispatch(entry, params, bufs, ceilDiv(s.n, 32), ceilDiv(s.m, 8*registerRows), 1) // the register kernels' grid
					return read(t, g, c)
				}
				scalar := run("gemm", binds{"A": a.(*Buf), "B": bb.(*Buf)})
				v4 := run("gemm_v4", binds{"A4": a.(*Buf), "B4": bb.(*Buf)})
				require.Equal(t, scalar, v4)
			})
		}
	}
}

// BenchmarkGemm reports the GEMM kernel's GFLOP/s on the shapes of the default encoder's training
// step (the hidden layer's forward and weight gradient at B = 32, 2B = 64 rows) and a square one.
func BenchmarkGemm(b *testing.B) {
	g, err := New()
	if err != nil {
		b.Skipf("SKIPPED: %v", err)
	}
	for _, s := range []struct{ m, n, k int }{{64, 128, 3136}, {3136, 128, 64}, {512, 512, 512}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x, w, y := g.Alloc(s.m*s.k), g.Alloc(s.k*s.n), g.Alloc(s.m*s.n)
			g.Write(x, randVec(r, s.m*s.k))
			g.Write(w, randVec(r, s.k*s.n))
			one := make([]float32, 1)
			const reps = 10 // dispatches per submit, so the submit/read-back cost is amortised
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < reps; j++ {
					g.gemmOp(y.(*Buf), x.(*Buf), w.(*Buf), nil, s.m, s.n, s.k, false, false, 1, 0, false)
				}
				_ = g.Read(y, one)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*reps*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
