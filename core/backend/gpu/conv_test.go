package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/nn"
	"github.com/stretchr/testify/require"
)

// convShapes cover Cin = 1 and 3 (first layers), a Cout that is not a multiple of the 4-wide blocks,
// a 16→32 layer, an 8→64 one (two channel groups per invocation forward), and a batch whose weight
// gradient takes several split-K chunks.
var convShapes = []nn.ConvShape{
	{N: 2, H: 5, W: 7, Cin: 1, Cout: 8},
	{N: 3, H: 6, W: 5, Cin: 3, Cout: 6},
	{N: 2, H: 8, W: 8, Cin: 16, Cout: 32},
	{N: 2, H: 6, W: 5, Cin: 8, Cout: 64},
	{N: 64, H: 14, W: 14, Cin: 16, Cout: 32},
}

// TestConvParity checks Conv3x3 and Conv3x3Back against the CPU reference. Tolerances: relative L2
// ≤ 1e-5 for y and dX (sums of K ≤ 4k products, whose float32 error grows like √K·2⁻²⁴), ≤ 1e-4 for
// the long reductions over the batch (dW and db). Both kernel versions are checked.
func TestConvParity(t *testing.T) {
	c, g := backends(t)
	bothKernels(t, g, func(t *testing.T) { convParity(t, c, g) })
}

// TestConvV4EqualsScalar: the four-channel kernels (conv3x3_v4, conv3x3_dx_v4, conv3x3_dw_v4),
// which the backend picks when the channel counts allow, add the same products in the same order as
// the scalar ones, so they must give the same bits: forward with bias and ReLU, dX (each with one
// and with two groups of 4 output channels per invocation), and dW in one chunk and in several.
func TestConvV4EqualsScalar(t *testing.T) {
	_, g := backends(t)
	shapes := []nn.ConvShape{{N: 2, H: 5, W: 7, Cin: 4, Cout: 8}, {N: 2, H: 8, W: 8, Cin: 16, Cout: 32}, {N: 3, H: 9, W: 6, Cin: 12, Cout: 4},
		{N: 3, H: 9, W: 6, Cin: 8, Cout: 12}, {N: 64, H: 14, W: 14, Cin: 8, Cout: 4}, {N: 2, H: 6, W: 5, Cin: 8, Cout: 64}}
	for _, s := range shapes {
		if s.Cin%8 != 0 {
			continue
		}
		t.Run(fmt.Sprintf("dW %+v", s), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(s.Cin), uint64(s.N)))
			px := s.N * s.H * s.W
			x, dy := g.Alloc(px*s.Cin), g.Alloc(px*s.Cout)
			g.Write(x, randVec(r, px*s.Cin))
			g.Write(dy, randVec(r, px*s.Cout))
			rowsPer, chunks := dwChunks(s)
			count := s.K() * s.Cout
			params := convParams{N: uint32(s.N), H: uint32(s.H), W: uint32(s.W), C1: uint32(s.Cin), C2: uint32(s.Cout), RowsPerChunk: uint32(rowsPer), Count: uint32(count), Chunks: uint32(chunks)}
			run := func(entry string, bufs binds) []float32 {
				part := g.Alloc(chunks * count)
				bufs["C"] = part.(*Buf)
				g.dispatch(entry, params, bufs, ceilDiv(s.Cout, 32), ceilDiv(s.K(), 8*registerRows), chunks)
				return read(t, g, part)
			}
			scalar := run("conv3x3_dw", binds{"A": x.(*Buf), "B": dy.(*Buf)})
			v4 := run("conv3x3_dw_v4", binds{"A4": x.(*Buf), "B4": dy.(*Buf)})
			require.Equal(t, scalar, v4)
		})
	}
	for _, s := range shapes {
		for _, flip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v flip=%v", s, flip), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(s.Cin), uint64(s.Cout)))
				c1, c2 := s.Cin, s.Cout
				if flip {
					c1, c2 = s.Cout, s.Cin
				}
				px := s.N * s.H * s.W
				in, w, bias := g.Alloc(px*c1), g.Alloc(s.K()*s.Cout), g.Alloc(c2)
				g.Write(in, randVec(r, px*c1))
				g.Write(w, randVec(r, s.K()*s.Cout))
				g.Write(bias, randVec(r, c2))
				params := convParams{N: uint32(s.N), H: uint32(s.H), W: uint32(s.W), C1: uint32(c1), C2: uint32(c2), Bias: bit(!flip), Relu: bit(!flip)}
				entry := "conv3x3"
				if flip {
					entry = "conv3x3_dx"
				}
				run := func(entry string, quads int, bufs binds) []float32 {
					out := g.Alloc(px * c2)
					bufs["C"] = out.(*Buf)
					params.Quads = uint32(quads)
					g.dispatch(entry, params, bufs, ceilDiv(c2, 32*quads), ceilDiv(px, 8*registerRows), 1) // the register kernels' grid
					return read(t, g, out)
				}
				scalar := run(entry, 1, binds{"A": in.(*Buf), "B": w.(*Buf), "D": bias.(*Buf)})
				for _, quads := range []int{1, 2} { // one or two groups of 4 output channels per invocation
					v4 := run(entry+"_v4", quads, binds{"A4": in.(*Buf), "B4": w.(*Buf), "D": bias.(*Buf)})
					require.Equal(t, scalar, v4, "quads %d", quads)
				}
			})
		}
	}
}

func convParity(t *testing.T, c *cpu.Backend, g *Backend) {
	for _, s := range convShapes {
		for _, relu := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v relu=%v", s, relu), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(s.N*s.Cin), uint64(s.Cout)))
				px := s.N * s.H * s.W
				xc, xg := pair(c, g, randVec(r, px*s.Cin))
				wc, wg := pair(c, g, randVec(r, s.K()*s.Cout))
				bc, bg := pair(c, g, randVec(r, s.Cout))
				yc, yg := pair(c, g, randVec(r, px*s.Cout)) // garbage: must be overwritten
				c.Conv3x3(yc, xc, wc, bc, s, relu)
				g.Conv3x3(yg, xg, wg, bg, s, relu)
				y := read(t, c, yc)
				requireClose(t, "y", read(t, g, yg), y, 1e-5, 1e-4)

				// Both backward passes get the CPU's y, so that the ReLU masks agree exactly.
				_, yg2 := pair(c, g, y)
				dy := randVec(r, px*s.Cout)
				for _, withDX := range []bool{false, true} {
					dyc, dyg := pair(c, g, dy)
					dwc, dwg := pair(c, g, randVec(r, s.K()*s.Cout))
					dbc, dbg := pair(c, g, randVec(r, s.Cout))
					if !withDX {
						c.Conv3x3Back(nil, dwc, dbc, dyc, xc, wc, yc, s, relu)
						g.Conv3x3Back(nil, dwg, dbg, dyg, xg, wg, yg2, s, relu)
					} else {
						dxc, dxg := pair(c, g, randVec(r, px*s.Cin))
						c.Conv3x3Back(dxc, dwc, dbc, dyc, xc, wc, yc, s, relu)
						g.Conv3x3Back(dxg, dwg, dbg, dyg, xg, wg, yg2, s, relu)
						requireClose(t, "dx", read(t, g, dxg), read(t, c, dxc), 1e-5, 1e-4)
					}
					require.Equal(t, read(t, c, dyc), read(t, g, dyg), "masked dy")
					requireClose(t, "dw", read(t, g, dwg), read(t, c, dwc), 1e-4, 1e-3)
					requireClose(t, "db", read(t, g, dbg), read(t, c, dbc), 1e-4, 1e-3)
				}
			})
		}
	}
}

// TestConvSplitKChunks makes sure the parity shapes exercise both the one-chunk and the
// several-chunk weight-gradient paths.
func TestConvSplitKChunks(t *testing.T) {
	_, first := dwChunks(convShapes[0])
	require.Equal(t, 1, first)
	rowsPer, last := dwChunks(convShapes[len(convShapes)-1])
	require.Greater(t, last, 4)
	require.GreaterOrEqual(t, rowsPer*last, 64*14)
	require.Less(t, rowsPer*(last-1), 64*14)
}

// TestConvBackDeterministic runs the backward pass twice: without float atomics the split-K
// gradients must be bitwise identical.
func TestConvBackDeterministic(t *testing.T) {
	_, g := backends(t)
	s := convShapes[len(convShapes)-1]
	r := rand.New(rand.NewPCG(7, 7))
	px := s.N * s.H * s.W
	x, w, y := g.Alloc(px*s.Cin), g.Alloc(s.K()*s.Cout), g.Alloc(px*s.Cout)
	g.Write(x, randVec(r, px*s.Cin))
	g.Write(w, randVec(r, s.K()*s.Cout))
	dy := randVec(r, px*s.Cout)
	var runs [2][]float32
	for i := range runs {
		dyg, dw, db, dx := g.Alloc(px*s.Cout), g.Alloc(s.K()*s.Cout), g.Alloc(s.Cout), g.Alloc(px*s.Cin)
		g.Write(dyg, dy)
		g.Conv3x3Back(dx, dw, db, dyg, x, w, y, s, false)
		runs[i] = append(read(t, g, dw), read(t, g, dx)...)
	}
	require.Equal(t, runs[0], runs[1])
}

// TestMaxPoolParity checks MaxPool2 and MaxPool2Back exactly: values from {0, 1, 2} make ties
// common (the first maximum must win), odd sizes drop a row or column, and an image one pixel high
// has no window at all (dX all zero).
func TestMaxPoolParity(t *testing.T) {
	c, g := backends(t)
	for _, s := range []nn.PoolShape{{N: 2, H: 4, W: 6, C: 3}, {N: 3, H: 7, W: 5, C: 8}, {N: 64, H: 15, W: 14, C: 16}, {N: 2, H: 5, W: 7, C: 1}, {N: 2, H: 1, W: 6, C: 4}} {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(s.H), uint64(s.W)))
			in := make([]float32, s.N*s.H*s.W*s.C)
			for i := range in {
				in[i] = float32(r.IntN(3))
			}
			out := s.N * s.OutH() * s.OutW() * s.C
			xc, xg := pair(c, g, in)
			yc, yg := pair(c, g, randVec(r, out))
			ac, ag := pairU32(c, g, make([]uint32, out))
			c.MaxPool2(yc, ac, xc, s)
			g.MaxPool2(yg, ag, xg, s)
			require.Equal(t, read(t, c, yc), read(t, g, yg), "y")
			arg := readU32(t, c, ac)
			require.Equal(t, arg, readU32(t, g, ag), "arg")
			if out > 0 {
				require.Contains(t, arg, uint32(3), "some window's maximum is last")
			}

			dyc, dyg := pair(c, g, randVec(r, out))
			dxc, dxg := pair(c, g, randVec(r, len(in))) // garbage: must be overwritten
			c.MaxPool2Back(dxc, dyc, ac, s)
			g.MaxPool2Back(dxg, dyg, ag, s)
			require.Equal(t, read(t, c, dxc), read(t, g, dxg), "dx")
		})
	}
}

// BenchmarkConvForward times Conv3x3 (bias + ReLU) on the GPU backend at the encoder's first two
// layer shapes, batch 64.
func BenchmarkConvForward(b *testing.B) { benchConv(b, false) }

// BenchmarkConvBack times Conv3x3Back (ReLU mask, bias gradient, dW and, past the first layer, dX)
// at the same shapes.
func BenchmarkConvBack(b *testing.B) { benchConv(b, true) }

// benchConv times one direction of the convolution; each iteration reads one value back, so it
// measures finished work. GFLOP/s counts the products: one (forward, or dW alone) or two (dW, dX).
func benchConv(b *testing.B, back bool) {
	sharedOnce.Do(func() { shared, sharedErr = New() })
	if sharedErr != nil {
		b.Skipf("SKIPPED GPU benchmark: %v", sharedErr)
	}
	g := shared
	for _, s := range []nn.ConvShape{{N: 64, H: 28, W: 28, Cin: 1, Cout: 32}, {N: 64, H: 14, W: 14, Cin: 32, Cout: 64}} {
		b.Run(fmt.Sprintf("%dx%dx%d-%d", s.H, s.W, s.Cin, s.Cout), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			px := s.N * s.H * s.W
			x, w, bias, y := g.Alloc(px*s.Cin), g.Alloc(s.K()*s.Cout), g.Alloc(s.Cout), g.Alloc(px*s.Cout)
			dy, dw := g.Alloc(px*s.Cout), g.Alloc(s.K()*s.Cout)
			var dx backend.Buf
			if back && s.Cin > 1 {
				dx = g.Alloc(px * s.Cin)
			}
			for _, v := range []struct {
				buf backend.Buf
				n   int
			}{{x, px * s.Cin}, {w, s.K() * s.Cout}, {bias, s.Cout}, {y, px * s.Cout}, {dy, px * s.Cout}} {
				g.Write(v.buf, randVec(r, v.n))
			}
			probe := make([]float32, 1)
			run := func() {
				if back {
					g.Conv3x3Back(dx, dw, bias, dy, x, w, y, s, true) // bias takes the bias gradient
					require.NoError(b, g.Read(dw, probe))
				} else {
					g.Conv3x3(y, x, w, bias, s, true)
					require.NoError(b, g.Read(y, probe))
				}
			}
			run() // warm-up: bind group creation
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				run()
			}
			products := 1.0
			if dx != nil {
				products = 2
			}
			flops := products * 2 * float64(px) * float64(s.K()) * float64(s.Cout) * float64(b.N)
			b.ReportMetric(flops/time.Since(start).Seconds()/1e9, "GFLOP/s")
		})
	}
}
