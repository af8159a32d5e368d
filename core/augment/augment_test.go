package augment

import (
	"testing"

	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ramp(h, w, c int) []uint8 {
	p := make([]uint8, h*w*c)
	for i := range p {
		p[i] = uint8((i * 37) % 256)
	}
	return p
}

func TestIdentityIsExact(t *testing.T) {
	for _, c := range []int{1, 3} {
		src := ramp(6, 5, c)
		p := Draw(Config{}, rng.NewKey(1), 0, 0, 6, 5)
		dst := make([]float32, len(src))
		Apply(dst, src, 6, 5, c, 6, 5, p, 0, rng.NewKey(1), 0, 0)
		for i, v := range src {
			require.InDelta(t, float32(v)/255, dst[i], 1e-6, "channel count %d, element %d", c, i)
		}
	}
}

func TestFlipMirrorsColumns(t *testing.T) {
	src := ramp(4, 5, 1)
	p := Draw(Config{}, rng.NewKey(1), 0, 0, 4, 5)
	p.Flip = true
	dst := make([]float32, len(src))
	Apply(dst, src, 4, 5, 1, 4, 5, p, 0, rng.Key{}, 0, 0)
	for y := 0; y < 4; y++ {
		for x := 0; x < 5; x++ {
			assert.InDelta(t, float32(src[y*5+4-x])/255, dst[y*5+x], 1e-6)
		}
	}
}

func TestDrawRespectsConfig(t *testing.T) {
	c := Config{CropScale: [2]float32{0.2, 1}, FlipP: 0.5, JitterP: 0.8, Brightness: 0.4, Contrast: 0.4,
		BlurP: 0.5, BlurSigma: [2]float32{0.1, 2}}
	key := rng.NewKey(3)
	var flips, jitters, blurs int
	const n = 4000
	for r := uint32(0); r < n; r++ {
		p := Draw(c, key, 7, r, 28, 28)
		require.Equal(t, p, Draw(c, key, 7, r, 28, 28), "draws are pure functions of the counter")
		area := p.CW * p.CH / (28 * 28)
		require.True(t, area >= 0.2*0.99 || p.CW == 28 || p.CH == 28, "crop area %v", area)
		require.True(t, p.X0 >= 0 && p.X0+p.CW <= 28.001 && p.Y0 >= 0 && p.Y0+p.CH <= 28.001)
		require.True(t, p.Bright >= 0.6 && p.Bright <= 1.4 && p.Contr >= 0.6 && p.Contr <= 1.4)
		if p.Flip {
			flips++
		}
		if p.Jitter {
			jitters++
		}
		if p.Blur {
			blurs++
			require.True(t, p.Sigma >= 0.1 && p.Sigma <= 2)
		}
	}
	assert.InDelta(t, 0.5, float64(flips)/n, 0.03)
	assert.InDelta(t, 0.8, float64(jitters)/n, 0.03)
	assert.InDelta(t, 0.5, float64(blurs)/n, 0.03)
}

func TestJitterAndNoiseChangeIntensity(t *testing.T) {
	src := ramp(8, 8, 1)
	base := Draw(Config{}, rng.Key{}, 0, 0, 8, 8)
	cases := []struct {
		name  string
		p     Params
		noise float32
		check func(t *testing.T, orig, out []float32)
	}{
		{"darker", func() Params { p := base; p.Jitter, p.Bright, p.Contr, p.Sat = true, 0.5, 1, 1; return p }(), 0,
			func(t *testing.T, orig, out []float32) { assert.InDelta(t, mean(orig)/2, mean(out), 1e-5) }},
		{"flat", func() Params { p := base; p.Jitter, p.Bright, p.Contr, p.Sat = true, 1, 0, 1; return p }(), 0,
			func(t *testing.T, orig, out []float32) {
				for _, v := range out {
					assert.InDelta(t, mean(orig), v, 1e-5)
				}
			}},
		{"blur keeps mean", func() Params { p := base; p.Blur, p.Sigma = true, 1; return p }(), 0,
			func(t *testing.T, orig, out []float32) { assert.InDelta(t, mean(orig), mean(out), 0.03) }},
		{"noise", base, 0.1, func(t *testing.T, orig, out []float32) { assert.NotEqual(t, orig, out) }},
	}
	orig := make([]float32, 64)
	Apply(orig, src, 8, 8, 1, 8, 8, base, 0, rng.Key{}, 0, 0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]float32, 64)
			Apply(out, src, 8, 8, 1, 8, 8, tc.p, tc.noise, rng.NewKey(5), 1, 2)
			for _, v := range out {
				require.True(t, v >= 0 && v <= 1)
			}
			tc.check(t, orig, out)
		})
	}
}

func TestBlurKernelNormalised(t *testing.T) {
	for _, s := range []float32{0.1, 0.5, 1, 2, 5} {
		k := BlurKernel(s)
		var sum float32
		for _, v := range k {
			sum += v
		}
		assert.InDelta(t, 1, sum, 1e-6)
		assert.LessOrEqual(t, len(k), 2*MaxBlurRadius+1)
	}
}

func mean(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x
	}
	return s / float32(len(v))
}
