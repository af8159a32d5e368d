package teach

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToyConfigValidate(t *testing.T) {
	ok := ToyConfig{Points: 40, Beta: 2, BurnIn: 100, Seed: 1}
	cases := []struct {
		name string
		edit func(*ToyConfig)
		want string
	}{
		{"ok", func(*ToyConfig) {}, ""},
		{"too few points", func(c *ToyConfig) { c.Points = 2 }, "2 points"},
		{"too many points", func(c *ToyConfig) { c.Points = MaxPoints + 1 }, "points"},
		{"negative beta", func(c *ToyConfig) { c.Beta = -1 }, "β"},
		{"NaN beta", func(c *ToyConfig) { c.Beta = math.NaN() }, "β"},
		{"huge beta", func(c *ToyConfig) { c.Beta = MaxBeta + 1 }, "β"},
		{"negative burn-in", func(c *ToyConfig) { c.BurnIn = -1 }, "burn-in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestToyWorld: the points are sorted angles fixed by the seed, the target is softmax(β·cos), and
// the chain is mcmc.Walk's over those log-scores, with burn-in steps left out of the histogram.
func TestToyWorld(t *testing.T) {
	cases := []struct {
		beta float64
		n    int
	}{{0, 10}, {1, 50}, {2, 40}, {14.28, 100}}
	for _, tc := range cases {
		c := ToyConfig{Points: tc.n, Beta: tc.beta, BurnIn: 30, Seed: 5}
		toy, err := NewToy(c)
		require.NoError(t, err)
		again, _ := NewToy(c)
		assert.Equal(t, toy.Angles, again.Angles, "the seed fixes the points")
		var sum float64
		for i, p := range toy.Target {
			sum += p
			if i > 0 {
				assert.LessOrEqual(t, toy.Angles[i-1], toy.Angles[i])
			}
			if tc.beta == 0 {
				assert.InDelta(t, 1/float64(tc.n), p, 1e-12)
			}
			assert.InDelta(t, math.Cos(toy.Angles[i]), toy.Sims[i], 1e-6)
		}
		assert.InDelta(t, 1, sum, 1e-9)

		walk := mcmc.NewWalk(toy.LogP, rng.NewKey(c.Seed), 0)
		for i := 0; i < 200; i++ {
			s := toy.Step()
			d := walk.Step()
			require.Equal(t, d.Column, s.Proposed)
			require.Equal(t, d.Accepted, s.Accepted)
			require.Equal(t, d.U, s.U)
			require.Equal(t, d.State, s.State)
			require.Equal(t, i < c.BurnIn, s.BurnIn)
			require.InDelta(t, math.Min(1, math.Exp(float64(s.Q)-float64(s.Score))), s.AcceptProb, 1e-12)
		}
		assert.Equal(t, 200-c.BurnIn, toy.Kept)
		assert.Equal(t, 200, toy.Steps())
	}
}

// TestToyTVFalls: at β = 2 the chain's TV distance to the target falls with chain length, and the
// independent-draws reference is below it (the steps are correlated) and falls too.
func TestToyTVFalls(t *testing.T) {
	c := ToyConfig{Points: 40, Beta: 2, BurnIn: 100, Seed: 1}
	lengths := []int{200, 1000, 10000, 100000}
	tv, err := TVCurve(c, lengths)
	require.NoError(t, err)
	t.Logf("TV after %v steps: %.4f", lengths, tv)
	toy, _ := NewToy(c)
	for i := range tv {
		if i > 0 {
			assert.Less(t, tv[i], tv[i-1])
			assert.Less(t, IndependentTV(toy.Target, lengths[i]), IndependentTV(toy.Target, lengths[i-1]))
		}
	}
	assert.Less(t, tv[len(tv)-1], 0.02)
	_, err = TVCurve(c, []int{10, 5})
	require.Error(t, err)
}

// TestInBatch: with every candidate in the batch the in-batch softmax is the target (no bias); at
// small B it is flatter than the target and the log-partition estimate is biased low.
func TestInBatch(t *testing.T) {
	toy, err := NewToy(ToyConfig{Points: 64, Beta: 5, Seed: 2})
	require.NoError(t, err)
	full, err := InBatch(toy.LogP, 64, 50, rng.NewKey(1))
	require.NoError(t, err)
	assert.InDelta(t, 0, full.TV, 1e-9)
	assert.InDelta(t, 0, full.LogZBias, 1e-9)
	var prevTV float64 = 2
	for _, b := range []int{2, 4, 8, 32} {
		st, err := InBatch(toy.LogP, b, 4000, rng.NewKey(1))
		require.NoError(t, err)
		var sum float64
		for _, w := range st.Weights {
			sum += w
		}
		assert.InDelta(t, 1, sum, 1e-9)
		assert.Less(t, st.LogZBias, 0.0, "B = %d: log of an unbiased estimate is biased low", b)
		assert.Less(t, st.TV, prevTV, "B = %d", b)
		prevTV = st.TV
	}
	for _, b := range []int{0, 65} {
		_, err := InBatch(toy.LogP, b, 10, rng.NewKey(1))
		require.Error(t, err)
	}
}

func TestF16(t *testing.T) {
	cases := []struct {
		f    float32
		bits uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e6, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {0.1, 0x2e66}, {float32(math.Ldexp(1, -24)), 0x0001},
		{float32(math.Ldexp(1, -14)), 0x0400}, {float32(math.Ldexp(1023, -24)), 0x03ff}, {1e-9, 0},
		{float32(math.Ldexp(1, -25)), 0}, {float32(math.Ldexp(3, -26)), 0x0001}, // tie to even, then above half
		{1 + float32(math.Ldexp(1, -11)), 0x3c00}, {1 + float32(math.Ldexp(3, -11)), 0x3c02}, // ties to even
	}
	for _, tc := range cases {
		assert.Equal(t, tc.bits, f32to16(tc.f), "%g", tc.f)
	}
	for h := uint32(0); h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN
		}
		require.Equal(t, uint16(h), f32to16(f16to32(uint16(h))), "%#04x round trip", h)
	}
}

// f32Safetensors writes an encoder the way emc2's weights export does (F32, one tensor per
// segment, arch and config in the metadata).
func f32Safetensors(t *testing.T, a model.Arch, params []float32, aug augment.Config) []byte {
	t.Helper()
	archJSON, _ := json.Marshal(a)
	cfgJSON, _ := json.Marshal(map[string]any{"augment": aug, "beta": 10})
	header := map[string]any{"__metadata__": map[string]string{"arch": string(archJSON), "config": string(cfgJSON)}}
	segs, _ := a.Layout()
	var body []byte
	for _, s := range segs {
		lo := len(body)
		for _, v := range params[s.Off : s.Off+s.Len] {
			body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
		}
		header[s.Name] = tensorEntry{DType: "F32", Shape: []int{s.Len}, Offsets: [2]int{lo, len(body)}}
	}
	hdr, err := json.Marshal(header)
	require.NoError(t, err)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(out, hdr...), body...)
}

var smallArch = model.Arch{InH: 28, InW: 28, InC: 1, Channels: []int{4, 8}, Hidden: 16, Proj: 8}

// TestEncoderRoundTrip: the F32 export reads back exactly, its F16 copy within F16's precision, and
// the embeddings of both are unit vectors that agree closely.
func TestEncoderRoundTrip(t *testing.T) {
	params := smallArch.Init(rng.NewKey(3))
	aug := augment.Config{FlipP: 0.5, NoiseStd: 0.01}
	f32 := f32Safetensors(t, smallArch, params, aug)
	e32, err := ReadEncoder(f32)
	require.NoError(t, err)
	assert.Equal(t, params, e32.Params)
	assert.Equal(t, aug, e32.Aug)
	assert.Equal(t, 10.0, e32.Beta)

	f16, err := ToF16(f32)
	require.NoError(t, err)
	assert.Less(t, len(f16), len(f32)*6/10)
	e16, err := ReadEncoder(f16)
	require.NoError(t, err)
	for i, v := range params {
		require.InDelta(t, v, e16.Params[i], 1e-3*math.Abs(float64(v))+1e-7)
	}
	_, err = ToF16(f16)
	require.Error(t, err, "F16 input")

	split, err := data.Default()
	require.NoError(t, err)
	d := split.Test
	x := append(View(d.Image(0), 28, 28, 1, augment.Config{}, rng.Key{}, 0, 0), View(d.Image(1), 28, 28, 1, aug, rng.NewKey(1), 0, 1)...)
	a, err := e32.Embed(x, 2)
	require.NoError(t, err)
	b, err := e16.Embed(x, 2)
	require.NoError(t, err)
	for r := 0; r < 2; r++ {
		assert.InDelta(t, 1, dot(a[r*8:(r+1)*8], a[r*8:(r+1)*8]), 1e-5)
		assert.InDelta(t, 1, dot(a[r*8:(r+1)*8], b[r*8:(r+1)*8]), 1e-3)
	}
	_, err = e32.Embed(x[:10], 2)
	require.Error(t, err)

	bad := []struct {
		name string
		b    []byte
	}{
		{"short", []byte{1, 2}},
		{"header past the end", binary.LittleEndian.AppendUint64(nil, 1<<40)},
		{"truncated data", f32[:len(f32)-4]},
		{"no arch", append(binary.LittleEndian.AppendUint64(nil, 2), '{', '}')},
	}
	for _, tc := range bad {
		_, err := ReadEncoder(tc.b)
		assert.Error(t, err, tc.name)
	}
}

// TestGalleryNegatives: the hard negatives are the most similar images of other classes, in order;
// the weights are softmax(β·sim) over the pool; the views are of the anchor.
func TestGalleryNegatives(t *testing.T) {
	split, err := data.Default()
	require.NoError(t, err)
	enc := &Encoder{Arch: smallArch, Params: smallArch.Init(rng.NewKey(3)), Aug: augment.Config{CropScale: [2]float32{0.5, 1}, FlipP: 0.5}}
	g, err := NewGallery(enc, split.Test, 6)
	require.NoError(t, err)
	require.Equal(t, 60, g.Data.N)
	v, err := g.Negatives(7, 5, 1, 10, []int{2, 8, 32, 100}, 200)
	require.NoError(t, err)
	assert.Len(t, v.Random, 5)
	assert.Len(t, v.Hard, 5)
	assert.Len(t, v.Views, 2)
	assert.Len(t, v.Sims, 59)
	assert.Len(t, v.Batches, 3, "B = 100 > 59 negatives is left out")
	assert.Equal(t, 28*28, len(v.Anchor.Pixels))
	for i, h := range v.Hard {
		assert.NotEqual(t, v.Anchor.Label, h.Label)
		if i > 0 {
			assert.LessOrEqual(t, h.Sim, v.Hard[i-1].Sim)
		}
	}
	var weights float64
	for i, s := range v.Sims {
		if !v.Same[i] {
			assert.LessOrEqual(t, s, v.Hard[0].Sim)
		}
		weights += math.Exp(10 * float64(s))
	}
	for _, r := range v.Random {
		assert.NotEqual(t, 7, r.Index)
		assert.InDelta(t, math.Exp(10*float64(r.Sim))/weights, r.Weight, 1e-6)
		if r.Label != v.Anchor.Label {
			assert.LessOrEqual(t, r.Sim, v.Hard[0].Sim)
		}
	}
	assert.Greater(t, v.HardMass, 0.0)
	assert.Greater(t, v.EffectiveN, 1.0)
	assert.LessOrEqual(t, v.EffectiveN, 59.0+1e-9)
	for _, b := range v.Batches {
		assert.Less(t, b.LogZBias, 1e-2, "B = %d: biased low, up to Monte Carlo noise", b.B)
		assert.Nil(t, b.Weights)
	}
	assert.Less(t, v.Batches[0].LogZBias, 0.0, "B = 2")
	js, err := json.Marshal(v)
	require.NoError(t, err)
	assert.True(t, bytes.Contains(js, []byte(`"hard_mass"`)))

	for _, tc := range []struct {
		a, k int
		beta float64
	}{{-1, 5, 1}, {60, 5, 1}, {0, 0, 1}, {0, 30, 1}, {0, 5, -1}} {
		_, err := g.Negatives(tc.a, tc.k, 1, tc.beta, nil, 10)
		assert.Error(t, err, "%+v", tc)
	}
	_, err = NewGallery(enc, split.Test, 0)
	assert.Error(t, err)
}
