package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/optim"
	"github.com/stretchr/testify/require"
)

// optimArena is a multi-segment parameter arena like the model's: weights with decay, biases
// without, a large segment (several hundred update workgroups and a long norm reduction), an empty
// segment, an all-zero weight (LARS's ‖p‖ = 0 case), and gaps between segments that no update touches.
func optimArena() ([]optim.Segment, int) {
	var segs []optim.Segment
	off := 0
	add := func(name string, n int, decay bool) {
		segs = append(segs, optim.Segment{Name: name, Off: off, Len: n, Decay: decay})
		off += (n+backend.Align-1)/backend.Align*backend.Align + backend.Align // leave a gap
	}
	add("conv1.w", 9*3*8, true)
	add("conv1.b", 8, false)
	add("empty", 0, true)
	add("hidden.w", 70001, true)
	add("hidden.b", 33, false)
	add("zero.w", 300, true)
	add("proj.w", 4096, true)
	add("proj.b", 17, false)
	return segs, off
}

// requireOptimClose checks a GPU tensor against the CPU twin per element, |g − r| ≤ rel·|r| + abs
// (+ floor[i] when floor is given), and by relative L2 error.
func requireOptimClose(t *testing.T, name string, got, want []float32, rel, abs, l2 float64, floor ...[]float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), name)
	var worst float64
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		tol := rel*math.Abs(float64(want[i])) + abs
		if len(floor) > 0 {
			tol += floor[0][i]
		}
		if math.IsNaN(float64(got[i])) || d > tol {
			require.Failf(t, "GPU differs from CPU", "%s[%d]: gpu %v, cpu %v", name, i, got[i], want[i])
		}
		if want[i] != 0 {
			worst = max(worst, d/math.Abs(float64(want[i])))
		}
	}
	e := relL2(got, want)
	t.Logf("%s: max relative error %.3g, relative L2 %.3g", name, worst, e)
	require.LessOrEqual(t, e, l2, "%s: relative L2 error", name)
}

// TestOptimStepParity runs several steps of each optimizer on both backends (fresh gradients each
// step, T increasing, the learning rate changing) and compares parameters and state after each.
// Tolerances: SGD's multiply-adds |g − r| ≤ 1e-6·|r| + 1e-7 (FMA
// contraction); Adam's moments likewise, its parameters 1e-5 relative on the update (sqrt, divide);
// LARS's trust ratio comes from float32 sums on the GPU against float64 sums on the CPU, which scales
// each segment's update by ≈1e-7 relative: relative to the terms of m = μ·m + q·d, not to m itself,
// which cancels now and then, so the momentum's floor is 1e-6 of its segment's RMS.
func TestOptimStepParity(t *testing.T) {
	c, g := backends(t)
	segs, n := optimArena()
	for _, kind := range []optim.Kind{optim.SGD, optim.Adam, optim.LARS} {
		t.Run(string(kind), func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(kind))))
			p0 := randVec(r, n)
			for i := range p0 {
				p0[i] *= 0.1
			}
			zero := segs[5]
			clear(p0[zero.Off : zero.Off+zero.Len])
			pc, pg := pair(c, g, p0)
			gc, gg := pair(c, g, make([]float32, n))
			mc, mg := c.Alloc(n), g.Alloc(n)
			vc, vg := c.Alloc(n), g.Alloc(n)
			if kind != optim.Adam {
				vg = nil // SGD and LARS have no second moment
			}
			hp := optim.Params{Kind: kind, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
				WeightDecay: 5e-4, Trust: 1e-3, Segments: segs}
			for step := 1; step <= 4; step++ {
				grad := randVec(r, n)
				for i := range grad {
					grad[i] *= 0.01 * float32(step)
				}
				c.Write(gc, grad)
				g.Write(gg, grad)
				hp.T, hp.LR = step, 0.05/float32(step)
				if kind == optim.Adam {
					hp.LR = 1e-3 * float32(step)
				}
				c.OptimStep(pc, gc, mc, vc, hp)
				g.OptimStep(pg, gg, mg, vg, hp)
				require.NoError(t, g.Flush())
				at := fmt.Sprintf("step %d ", step)
				switch kind {
				case optim.SGD:
					requireOptimClose(t, at+"params", read(t, g, pg), read(t, c, pc), 1e-6, 1e-7, 1e-6)
					requireOptimClose(t, at+"momentum", read(t, g, mg), read(t, c, mc), 1e-6, 1e-7, 1e-6)
				case optim.Adam:
					requireOptimClose(t, at+"params", read(t, g, pg), read(t, c, pc), 1e-6, 1e-5*float64(hp.LR), 1e-6)
					requireOptimClose(t, at+"m", read(t, g, mg), read(t, c, mc), 1e-6, 1e-12, 1e-6)
					requireOptimClose(t, at+"v", read(t, g, vg), read(t, c, vc), 1e-6, 1e-15, 1e-6)
				case optim.LARS:
					requireOptimClose(t, at+"params", read(t, g, pg), read(t, c, pc), 1e-6, 1e-7, 1e-6)
					want := read(t, c, mc)
					requireOptimClose(t, at+"momentum", read(t, g, mg), want, 1e-6, 1e-12, 1e-6, segmentFloor(want, segs, 1e-6))
				}
				require.Equal(t, grad, read(t, g, gg), "the gradient is left unchanged")
			}
		})
	}
}

// segmentFloor returns scale·RMS(x over its segment) for each element (0 outside the segments).
func segmentFloor(x []float32, segs []optim.Segment, scale float64) []float64 {
	out := make([]float64, len(x))
	for _, s := range segs {
		var ss float64
		for _, v := range x[s.Off : s.Off+s.Len] {
			ss += float64(v) * float64(v)
		}
		for i := s.Off; i < s.Off+s.Len; i++ {
			out[i] = scale * math.Sqrt(ss/float64(s.Len))
		}
	}
	return out
}

// TestOptimSegmentTables checks that switching between arenas (each with its cached table) updates
// only the segments given.
func TestOptimSegmentTables(t *testing.T) {
	c, g := backends(t)
	segs, n := optimArena()
	r := rand.New(rand.NewPCG(1, 9))
	p0 := randVec(r, n)
	pc, pg := pair(c, g, p0)
	gc, gg := pair(c, g, randVec(r, n))
	mc, mg, vc := c.Alloc(n), g.Alloc(n), c.Alloc(n)
	for i, s := range [][]optim.Segment{segs, segs[3:5], segs, segs[6:]} {
		hp := optim.Params{Kind: optim.LARS, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, Trust: 1e-3, T: i + 1, Segments: s}
		c.OptimStep(pc, gc, mc, vc, hp)
		g.OptimStep(pg, gg, mg, nil, hp)
		requireOptimClose(t, fmt.Sprintf("params after call %d", i), read(t, g, pg), read(t, c, pc), 1e-6, 1e-7, 1e-6)
	}
}

// BenchmarkOptimStep times one Adam step over the default model's arena (28×28×1, channels 32/64,
// hidden 128, projection 64: ≈430 k parameters), one call and one wait per iteration.
func BenchmarkOptimStep(b *testing.B) {
	g := benchGPU(b)
	for _, kind := range []optim.Kind{optim.Adam, optim.LARS} {
		b.Run(string(kind), func(b *testing.B) {
			segs, n := model.Arch{InH: 28, InW: 28, InC: 1, Channels: []int{32, 64}, Hidden: 128, Proj: 64}.Layout()
			r := rand.New(rand.NewPCG(1, 1))
			p, gr := g.Alloc(n), g.Alloc(n)
			g.Write(p, randVec(r, n))
			g.Write(gr, randVec(r, n))
			m, v := g.Alloc(n), g.Alloc(n)
			hp := optim.Params{Kind: kind, LR: 1e-3, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
				WeightDecay: 1e-4, Trust: 1e-3, Segments: segs}
			one := make([]float32, 1)
			for b.Loop() {
				hp.T++
				g.OptimStep(p, gr, m, v, hp)
				if err := g.Read(p, one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
