package rng

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Known-answer vectors of Random123's kat_vectors for philox4x32_10.
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct {
		name string
		ctr  [4]uint32
		key  Key
		want [4]uint32
	}{
		{"zero", [4]uint32{}, Key{}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{"ones", [4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, Key{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{"pi", [4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, Key{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Philox4x32(c.ctr, c.key))
		})
	}
}

func TestUniformMoments(t *testing.T) {
	k := NewKey(42)
	const n = 20000
	var sum, sq float64
	for i := 0; i < n; i++ {
		for _, u := range k.Uniform4(StreamAugment, 3, uint32(i), 0) {
			require.True(t, u >= 0 && u < 1)
			sum += float64(u)
			sq += float64(u) * float64(u)
		}
	}
	mean := sum / (4 * n)
	assert.InDelta(t, 0.5, mean, 0.005)
	assert.InDelta(t, 1.0/12, sq/(4*n)-mean*mean, 0.002)
}

func TestNormal4Moments(t *testing.T) {
	k := NewKey(7)
	const n = 40000
	var sum, sq float64
	for i := 0; i < n; i++ {
		z := float64(Normal4(k.Bits(StreamNoise, 0, uint32(i), 0)))
		sum += z
		sq += z * z
	}
	assert.InDelta(t, 0, sum/n, 0.02)
	assert.InDelta(t, 1, math.Sqrt(sq/n), 0.02)
}

func TestPermIsPermutation(t *testing.T) {
	p := NewKey(1).Perm(StreamShuffle, 0, 1000)
	seen := make([]bool, 1000)
	for _, v := range p {
		require.False(t, seen[v])
		seen[v] = true
	}
	assert.NotEqual(t, p, NewKey(1).Perm(StreamShuffle, 1, 1000), "epochs must shuffle differently")
	assert.Equal(t, p, NewKey(1).Perm(StreamShuffle, 0, 1000), "same counter, same permutation")
}
