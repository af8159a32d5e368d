package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/require"
)

// runBoth runs f with the register-blocked kernels and then the tiled ones, restoring the choice after,
// and returns what each run read back.
func runBoth(g *Backend, f func() []float32) (register, tiled []float32) {
	defer g.SetTiled(g.Tiled())
	g.SetTiled(false)
	register = f()
	g.SetTiled(true)
	return register, f()
}

// gemmOperands returns random operands of an m×n×k GEMM on the GPU (A, B and the bias) and a random
// starting C (on the host), the same for the same shape.
func gemmOperands(g *Backend, m, n, k int) (a, bb, bias backend.Buf, c0 []float32) {
	r := rand.New(rand.NewPCG(uint64(m), uint64(k)))
	a, bb, bias = g.Alloc(m*k), g.Alloc(k*n), g.Alloc(n)
	g.Write(a, randVec(r, m*k))
	g.Write(bb, randVec(r, k*n))
	g.Write(bias, randVec(r, n))
	return a, bb, bias, randVec(r, m*n)
}

// TestTiledGemmEqualsRegister: the tiled GEMM adds each output's products in the same order with fma
// as the register-blocked one, so the two must agree bit for bit (not just to rounding) on every
// transpose, with alpha, beta, bias and ReLU, on shapes cut by the 32-wide tiles and blocks.
func TestTiledGemmEqualsRegister(t *testing.T) {
	_, g := backends(t)
	for _, s := range []struct{ m, n, k int }{{1, 1, 1}, {5, 7, 3}, {33, 65, 31}, {64, 32, 100}, {70, 130, 257}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("%dx%dx%d trans=%v", s.m, s.n, s.k, tr), func(t *testing.T) {
				a, bb, bias, c0 := gemmOperands(g, s.m, s.n, s.k)
				reg, tiled := runBoth(g, func() []float32 {
					c := g.Alloc(s.m * s.n)
					g.Write(c, c0)
					g.gemmOp(c.(*Buf), a.(*Buf), bb.(*Buf), bias.(*Buf), s.m, s.n, s.k, tr[0], tr[1], 0.7, 0.5, true)
					return read(t, g, c)
				})
				require.Equal(t, reg, tiled)
			})
		}
	}
}

// TestTiledConvEqualsRegister is the same bit-for-bit check for the convolution's three products
// (forward, dX and the split-K dW), on every parity shape.
func TestTiledConvEqualsRegister(t *testing.T) {
	_, g := backends(t)
	for _, s := range convShapes {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(s.N), uint64(s.Cin)))
			px := s.N * s.H * s.W
			x, w, bias := g.Alloc(px*s.Cin), g.Alloc(s.K()*s.Cout), g.Alloc(s.Cout)
			g.Write(x, randVec(r, px*s.Cin))
			g.Write(w, randVec(r, s.K()*s.Cout))
			g.Write(bias, randVec(r, s.Cout))
			dy := randVec(r, px*s.Cout)
			reg, tiled := runBoth(g, func() []float32 {
				y, dyg := g.Alloc(px*s.Cout), g.Alloc(px*s.Cout)
				dx, dw, db := g.Alloc(px*s.Cin), g.Alloc(s.K()*s.Cout), g.Alloc(s.Cout)
				g.Conv3x3(y, x, w, bias, s, true)
				g.Write(dyg, dy)
				g.Conv3x3Back(dx, dw, db, dyg, x, w, y, s, true)
				return append(append(read(t, g, y), read(t, g, dx)...), read(t, g, dw)...)
			})
			require.Equal(t, reg, tiled)
		})
	}
}

// TestTiledStepEqualsRegister: since every tiled kernel gives its twin's bits, three whole training
// steps (every convolution, GEMM and the optimizer after them) must leave the same weights and loss.
func TestTiledStepEqualsRegister(t *testing.T) {
	_, g := backends(t)
	split := stepSplit(t, 64, 32)
	for _, m := range []string{"simclr", "emc2-cached"} {
		t.Run(m, func(t *testing.T) {
			var loss [2]float64
			reg, tiled := runBoth(g, func() []float32 {
				tr, err := train.NewTrainer(g, stepConfig(t, m), split.Train)
				require.NoError(t, err)
				for range 3 {
					tr.TrainStep()
				}
				st, err := tr.ReadStats()
				require.NoError(t, err)
				loss[bit(g.Tiled())] = st.Loss
				return read(t, g, tr.Enc.Params)
			})
			require.Equal(t, loss[0], loss[1], "loss")
			require.Equal(t, reg, tiled, "weights")
		})
	}
}

// TestSoftwareAdapters: the register-blocked kernels are chosen on the adapters that run on the CPU,
// however they name themselves natively (wgpu's adapter type) and in browsers (adapter info strings).
func TestSoftwareAdapters(t *testing.T) {
	for _, c := range []struct {
		info Info
		soft bool
	}{
		{Info{Name: "llvmpipe (LLVM 15.0.6, 256 bits)", Backend: "vulkan", Type: "cpu"}, true},
		{Info{Vendor: "google", Name: "swiftshader", Type: "browser"}, true},
		{Info{Vendor: "mesa", Driver: "ANGLE (Mesa, llvmpipe (LLVM 15.0.6 256 bits), Vulkan 1.3)", Type: "browser"}, true},
		{Info{Name: "NVIDIA H200", Backend: "vulkan", Type: "discrete-gpu"}, false},
		{Info{Vendor: "apple", Name: "metal-3", Type: "browser"}, false},
		{Info{Name: "Intel(R) UHD Graphics 620", Type: "integrated-gpu"}, false},
	} {
		require.Equal(t, c.soft, c.info.Software(), "%+v", c.info)
	}
}
