package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/require"
)

// augShape is one image geometry of the parity tests.
type augShape struct {
	name                  string
	inH, inW, c, outH, oW int
}

var augShapes = []augShape{
	{"gray28", 28, 28, 1, 28, 28},
	{"rgb32", 32, 32, 3, 32, 32},
	{"rgb32to24", 32, 32, 3, 24, 24},
}

// augConfigs are the augmentation settings the parity tests cover, each stage alone and together.
func augConfigs() []struct {
	name string
	cfg  augment.Config
} {
	return []struct {
		name string
		cfg  augment.Config
	}{
		{"identity", augment.Config{}},
		{"crop+flip", augment.Config{CropScale: [2]float32{0.2, 1}, FlipP: 0.5}},
		{"crop ratio", augment.Config{CropScale: [2]float32{0.3, 0.9}, CropRatio: [2]float32{0.5, 2}, FlipP: 1}},
		{"jitter", augment.Config{JitterP: 1, Brightness: 0.6, Contrast: 0.6, Saturation: 0.4, Hue: 0.1}},
		{"jitter+gray", augment.Config{JitterP: 0.5, Brightness: 0.4, Contrast: 0.8, Saturation: 0.8, Hue: 0.5, GrayP: 0.5}},
		{"blur", augment.Config{BlurP: 1, BlurSigma: [2]float32{0.1, 2.5}}},
		{"noise", augment.Config{NoiseStd: 0.05}},
		{"blur+noise", augment.Config{BlurP: 0.5, BlurSigma: [2]float32{0.5, 1.5}, NoiseStd: 0.03}},
		{"default", train.DefaultConfig().Aug},
	}
}

// augImages returns n random images (uniform pixels: the hardest case for bilinear resampling).
func augImages(r *rand.Rand, n int, s augShape) []uint8 {
	pix := make([]uint8, n*s.inH*s.inW*s.c)
	for i := range pix {
		pix[i] = uint8(r.UintN(256))
	}
	return pix
}

func augBatch(s augShape, cfg augment.Config, base uint32, rows int, step uint32) augment.Batch {
	return augment.Batch{Base: base, Rows: rows, InH: s.inH, InW: s.inW, C: s.c, OutH: s.outH, OutW: s.oW,
		Cfg: cfg, Key: rng.NewKey(11), Step: step}
}

// augmentBoth runs one Augment on both backends and returns the GPU and CPU views.
func augmentBoth(t *testing.T, c *cpu.Backend, g *Backend, pix []uint8, idx []uint32, p augment.Batch) ([]float32, []float32) {
	t.Helper()
	o := p.OutH * p.OutW * p.C
	ic, ig := c.UploadImages(pix), g.UploadImages(pix)
	rc, rg := pairU32(c, g, idx)
	dc, dg := c.Alloc(p.Rows*o), g.Alloc(p.Rows*o)
	c.Augment(dc, ic, rc, p)
	g.Augment(dg, ig, rg, p)
	return read(t, g, dg), read(t, c, dc)
}

// requireAugClose is the criterion for views: per element |g − c| ≤ 2e-3 for at least 99.9 % of the
// values and relative L2 ≤ 1e-3 overall (crop boxes may differ by a few ulps between Go's float64
// log/exp/sqrt and WGSL's, which moves bilinear weights slightly); exact cases (no transcendental in
// play) must agree to 1e-6 everywhere.
func requireAugClose(t *testing.T, name string, got, want []float32, exact bool) {
	t.Helper()
	require.Equal(t, len(want), len(got), name)
	var bad int
	var worst float64
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(float64(got[i])) {
			d = math.Inf(1)
		}
		worst = max(worst, d)
		if exact {
			require.LessOrEqual(t, d, 1e-6, "%s[%d]: gpu %v, cpu %v", name, i, got[i], want[i])
		}
		if d > 2e-3 {
			bad++
		}
	}
	rel := relL2(got, want)
	t.Logf("%s: max |g−c| %.3g, %d of %d values off by more than 2e-3, relative L2 %.3g", name, worst, bad, len(want), rel)
	require.LessOrEqual(t, float64(bad), 0.001*float64(len(want)), "%s: values off by more than 2e-3", name)
	require.LessOrEqual(t, rel, 1e-3, "%s: relative L2", name)
}

// TestAugmentParity checks the WGSL augmentation against the CPU backend for every stage, on
// grayscale 28×28, RGB 32×32 and an RGB 32→24 resize, at a step and Base away from zero.
func TestAugmentParity(t *testing.T) {
	c, g := backends(t)
	const nImages, rows = 20, 64
	for _, s := range augShapes {
		r := rand.New(rand.NewPCG(uint64(s.inH), uint64(s.c)))
		pix := augImages(r, nImages, s)
		idx := make([]uint32, rows)
		for i := range idx {
			idx[i] = uint32(r.IntN(nImages))
		}
		for _, tc := range augConfigs() {
			t.Run(s.name+"/"+tc.name, func(t *testing.T) {
				got, want := augmentBoth(t, c, g, pix, idx, augBatch(s, tc.cfg, 1000, rows, 37))
				requireAugClose(t, "view", got, want, tc.name == "identity" || tc.name == "noise")
			})
		}
	}
}

// TestAugmentIdentityIsExact checks the zero Config against the source pixels themselves.
func TestAugmentIdentityIsExact(t *testing.T) {
	_, g := backends(t)
	s := augShapes[1]
	pix := augImages(rand.New(rand.NewPCG(1, 2)), 3, s)
	idx := []uint32{2, 0, 1, 2}
	rg := g.AllocU32(len(idx))
	g.WriteU32(rg, idx)
	o := s.inH * s.inW * s.c
	dg := g.Alloc(len(idx) * o)
	g.Augment(dg, g.UploadImages(pix), rg, augBatch(s, augment.Config{}, 0, len(idx), 0))
	got := read(t, g, dg)
	for r, im := range idx {
		for k := range o {
			require.InDelta(t, float32(pix[int(im)*o+k])/255, got[r*o+k], 1e-6, "row %d value %d", r, k)
		}
	}
}

// TestAugmentDrawParity checks the parameters drawn on the GPU against augment.Draw: every decision
// exactly; the jitter factors and σ (affine in exact uniforms: 1 + c·(2u − 1), lo + u·(hi − lo)) to
// one ulp of their terms (≤ 1 here), since the GPU may fuse the multiply-add and round once where Go
// rounds twice; the crop box (through log/exp/sqrt) to a few ulps of the image size.
func TestAugmentDrawParity(t *testing.T) {
	_, g := backends(t)
	const rows = 2048
	out := g.alloc(16*rows, "draws")
	for _, tc := range augConfigs() {
		for _, s := range augShapes[:2] {
			p := augBatch(s, tc.cfg, 77, rows, 5)
			augmentDraw(t, g, out, p)
			got := read(t, g, out)
			var crop float64
			for r := range rows {
				w := augment.Draw(p.Cfg, p.Key, p.Step, p.Base+uint32(r), p.InH, p.InW)
				gr := got[16*r:]
				where := fmt.Sprintf("%s %s row %d", tc.name, s.name, r)
				flag := func(b bool) float32 {
					if b {
						return 1
					}
					return 0
				}
				require.Equal(t, []float32{flag(w.Flip), flag(w.Jitter), flag(w.Gray), flag(w.Blur)},
					[]float32{gr[4], gr[5], gr[10], gr[11]}, "decisions, %s", where)
				for k, v := range []float32{w.Bright, w.Contr, w.Sat, w.Hue, w.Sigma} {
					gv := gr[[]int{6, 7, 8, 9, 12}[k]]
					require.InDelta(t, v, gv, ulp(max(float32(math.Abs(float64(v))), 1)), "jitter/blur parameter %d, %s", k, where)
				}
				for k, v := range []float32{w.X0, w.Y0, w.CW, w.CH} {
					require.InDelta(t, v, gr[k], 1e-5*float64(max(p.InH, p.InW)), "crop box %d, %s", k, where)
					crop = max(crop, math.Abs(float64(v-gr[k])))
				}
			}
			if tc.cfg.CropScale[1] > 0 {
				t.Logf("%s %s: crop boxes within %.3g px", tc.name, s.name, crop)
			}
		}
	}
}

func ulp(v float32) float64 {
	a := math.Abs(float64(v))
	return float64(math.Nextafter32(float32(a), float32(math.Inf(1)))) - a
}

// TestAugmentChunks checks that views made in chunks (Base offsets, dst views) equal one big call
// bit for bit, and match the CPU; and that the step changes the views.
func TestAugmentChunks(t *testing.T) {
	c, g := backends(t)
	cfg := train.DefaultConfig().Aug
	for _, s := range augShapes[:2] {
		r := rand.New(rand.NewPCG(3, uint64(s.c)))
		const nImages, rows, base = 12, 40, 500
		pix := augImages(r, nImages, s)
		idx := make([]uint32, rows)
		for i := range idx {
			idx[i] = uint32(r.IntN(nImages))
		}
		o := s.outH * s.oW * s.c
		ig := g.UploadImages(pix)
		rg := g.AllocU32(rows)
		g.WriteU32(rg, idx)
		big := g.Alloc(rows * o)
		g.Augment(big, ig, rg, augBatch(s, cfg, base, rows, 9))
		want := read(t, g, big)

		chunked := g.Alloc(rows * o)
		for lo := 0; lo < rows; lo += 16 {
			n := min(16, rows-lo)
			rc := g.AllocU32(n)
			g.WriteU32(rc, idx[lo:lo+n])
			g.Augment(g.View(chunked, lo*o, n*o), ig, rc, augBatch(s, cfg, base+uint32(lo), n, 9))
		}
		require.Equal(t, want, read(t, g, chunked), "%s: chunked views differ from one call", s.name)

		cpuRows := c.AllocU32(rows)
		c.WriteU32(cpuRows, idx)
		dc := c.Alloc(rows * o)
		c.Augment(dc, c.UploadImages(pix), cpuRows, augBatch(s, cfg, base, rows, 9))
		requireAugClose(t, s.name+" vs cpu", want, read(t, c, dc), false)

		other := g.Alloc(rows * o)
		g.Augment(other, ig, rg, augBatch(s, cfg, base, rows, 10))
		require.NotEqual(t, want, read(t, g, other), "%s: step 10 made the views of step 9", s.name)
	}
}

// TestAugmentRepeatable checks that the same call gives bitwise the same views (no races).
func TestAugmentRepeatable(t *testing.T) {
	_, g := backends(t)
	s := augShapes[1]
	pix := augImages(rand.New(rand.NewPCG(8, 9)), 4, s)
	rg := g.AllocU32(64)
	g.WriteU32(rg, make([]uint32, 64))
	ig := g.UploadImages(pix)
	p := augBatch(s, train.DefaultConfig().Aug, 0, 64, 1)
	p.Cfg.BlurP, p.Cfg.JitterP = 1, 1
	a, b := g.Alloc(64*3072), g.Alloc(64*3072)
	g.Augment(a, ig, rg, p)
	g.Augment(b, ig, rg, p)
	require.Equal(t, read(t, g, a), read(t, g, b))
}

// benchAugment times 64 views of 28×28 with the default config, one call and one wait per iteration.
func benchAugment(b *testing.B, be backend.Backend) {
	s := augShapes[0]
	pix := augImages(rand.New(rand.NewPCG(1, 1)), 256, s)
	idx := make([]uint32, 64)
	for i := range idx {
		idx[i] = uint32(i * 3)
	}
	im := be.UploadImages(pix)
	rows := be.AllocU32(64)
	be.WriteU32(rows, idx)
	dst := be.Alloc(64 * 784)
	one := make([]float32, 1)
	p := augBatch(s, train.DefaultConfig().Aug, 0, 64, 0)
	for b.Loop() {
		be.Augment(dst, im, rows, p)
		if err := be.Read(dst, one); err != nil {
			b.Fatal(err)
		}
		p.Step++
	}
}

// benchGPU returns the shared GPU backend for a benchmark, or skips it.
func benchGPU(b *testing.B) *Backend {
	b.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New() })
	if sharedErr != nil {
		b.Skipf("SKIPPED: %v", sharedErr)
	}
	return shared
}

func BenchmarkAugment(b *testing.B) { benchAugment(b, benchGPU(b)) }

func BenchmarkAugmentCPU(b *testing.B) { benchAugment(b, cpu.New()) }
