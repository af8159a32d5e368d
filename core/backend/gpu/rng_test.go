package gpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/require"
)

// rngFill runs the rng_fill test kernel (testdata/rngtest.wgsl) over n counters and returns the words
// and the 12 floats per counter (ToUnit ×4, ToUnitOpen ×4, Normal4). With raw set, the kernel skips
// Philox and converts the words already in `words`.
func rngFill(t *testing.T, g *Backend, words, floats *Buf, n int, key rng.Key, stream, step, index0, draw0, drawEvery uint32, raw bool) ([]uint32, []float32) {
	t.Helper()
	withTestKernels(t, g)
	g.dispatch("rng_fill", rngParams{N: uint32(n), Key0: key.K0, Key1: key.K1, Stream: stream, Step: step,
		Index0: index0, Draw0: draw0, DrawEvery: drawEvery, Raw: bit(raw)}, binds{"words": words, "floats": floats}, ceilDiv(n, wg), 1, 1)
	return readU32(t, g, words)[:4*n], read(t, g, floats)[:12*n]
}

// requireConversions checks the floats rng_fill made from the words b of counter i, bit for bit.
func requireConversions(t *testing.T, b [4]uint32, f []float32, what string, i int) {
	t.Helper()
	for k := range 4 {
		require.Equal(t, math.Float32bits(rng.ToUnit(b[k])), math.Float32bits(f[k]), "ToUnit, %s counter %d word %d", what, i, k)
		require.Equal(t, math.Float32bits(rng.ToUnitOpen(b[k])), math.Float32bits(f[4+k]), "ToUnitOpen, %s counter %d word %d", what, i, k)
	}
	require.Equal(t, math.Float32bits(rng.Normal4(b)), math.Float32bits(f[8]), "Normal4(%08x), %s counter %d", b, what, i)
}

// TestPhiloxBitIdentical checks the WGSL Philox (shaders/lib/rng.wgsl, through the rng_fill kernel of
// testdata/rngtest.wgsl) against rng.Key.Bits word for word, and the float conversions ToUnit,
// ToUnitOpen and Normal4 bit for bit, over many counters: every stream, steps and indices near the
// 32-bit wrap, several draws per index, and keys with high bits set.
func TestPhiloxBitIdentical(t *testing.T) {
	_, g := backends(t)
	type run struct {
		key                                    rng.Key
		stream, step, index0, draw0, drawEvery uint32
	}
	runs := []run{
		{rng.NewKey(1), rng.StreamAugment, 0, 0, 0, 1 << 20},
		{rng.NewKey(0), rng.StreamInit, 0, 0, 0, 1 << 20},
		{rng.NewKey(0xDEADBEEFCAFEF00D), rng.StreamNoise, 123456, 4000, 0, 1000},
		{rng.Key{K0: 0xFFFFFFFF, K1: 0xFFFFFFFF}, rng.StreamMH, 0xFFFFFFFF, 0xFFFFFF00, 7, 1 << 20},
		{rng.NewKey(42), rng.StreamShuffle, 9, 0, 0xFFFFFFFE, 3},
		{rng.NewKey(7), rng.StreamEval, 1, 17, 2, 64},
	}
	const n = 8192
	words, floats := g.alloc(4*n, "words"), g.alloc(12*n, "floats")
	for _, r := range runs {
		gw, gf := rngFill(t, g, words, floats, n, r.key, r.stream, r.step, r.index0, r.draw0, r.drawEvery, false)
		for i := range n {
			u := uint32(i)
			b := r.key.Bits(r.stream, r.step, r.index0+u%r.drawEvery, r.draw0+u/r.drawEvery)
			require.Equal(t, b[:], gw[4*i:4*i+4], "run %+v counter %d", r, i)
			requireConversions(t, b, gf[12*i:], "philox", i)
		}
	}
}

// TestNormal4Rounding feeds Normal4 crafted words: every combination of uniforms at the edges of the
// float32 binades (where the sums round, with ties to even) and many random ones.
func TestNormal4Rounding(t *testing.T) {
	_, g := backends(t)
	edges := []uint32{0, 1, 2, 3, 1 << 22, 1<<23 - 1, 1 << 23, 1<<23 + 1, 1<<24 - 3, 1<<24 - 2, 1<<24 - 1}
	r := rand.New(rand.NewPCG(5, 6))
	var in []uint32
	for _, a := range edges {
		for _, b := range edges {
			for _, c := range edges {
				for _, d := range edges {
					for _, k := range []uint32{a, b, c, d} {
						in = append(in, k<<8|r.Uint32()&0xff)
					}
				}
			}
		}
	}
	for len(in) < 4*32768 {
		in = append(in, r.Uint32())
	}
	n := len(in) / 4
	words, floats := g.alloc(4*n, "words"), g.alloc(12*n, "floats")
	g.WriteU32(words, in)
	_, gf := rngFill(t, g, words, floats, n, rng.Key{}, 0, 0, 0, 0, 1, true)
	for i := range n {
		requireConversions(t, [4]uint32(in[4*i:4*i+4]), gf[12*i:], "crafted", i)
	}
}
