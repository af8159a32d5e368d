// Package rng is the project's one random number generator: Philox4x32-10 (Salmon et al., SC'11), a
// counter-based generator. A draw is a pure function of (key, counter), so the Go reference and the
// WGSL kernels (shaders/lib/rng.wgsl) produce bit-identical numbers for the same seed, and any draw can be
// made in any order on any device. That is what lets the GPU's augmentations and Metropolis–Hastings
// decisions be compared with the CPU's decision by decision.
//
// Counters are (draw, index, step, stream): stream names the purpose (augmentation, MH, shuffling ...),
// step is the training iteration, index the sample or chain, draw counts draws within it.
package rng

const (
	m0 = 0xD2511F53
	m1 = 0xCD9E8D57
	w0 = 0x9E3779B9 // golden ratio
	w1 = 0xBB67AE85 // sqrt(3) - 1
)

// Streams keep the draws of different purposes apart.
const (
	StreamInit    uint32 = 1 // weight initialisation
	StreamShuffle uint32 = 2 // epoch permutations
	StreamAugment uint32 = 3 // augmentation parameters
	StreamNoise   uint32 = 4 // per-pixel augmentation noise
	StreamMH      uint32 = 5 // Metropolis–Hastings accept/reject uniforms
	StreamEval    uint32 = 6 // evaluation subsets
)

// Key is the 64-bit Philox key, taken from the run's seed.
type Key struct{ K0, K1 uint32 }

// NewKey splits a seed into a key.
func NewKey(seed uint64) Key { return Key{uint32(seed), uint32(seed >> 32)} }

func mulhilo(a, b uint32) (hi, lo uint32) {
	p := uint64(a) * uint64(b)
	return uint32(p >> 32), uint32(p)
}

// Philox4x32 returns the 4 words for counter c under key k (10 rounds).
func Philox4x32(c [4]uint32, k Key) [4]uint32 {
	k0, k1 := k.K0, k.K1
	for r := 0; r < 10; r++ {
		hi0, lo0 := mulhilo(m0, c[0])
		hi1, lo1 := mulhilo(m1, c[2])
		c = [4]uint32{hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0}
		k0 += w0
		k1 += w1
	}
	return c
}

// Bits returns the 4 random words of one counter.
func (k Key) Bits(stream, step, index, draw uint32) [4]uint32 {
	return Philox4x32([4]uint32{draw, index, step, stream}, k)
}

// Uniform4 returns 4 uniform numbers in [0, 1) on the 2⁻²⁴ grid.
func (k Key) Uniform4(stream, step, index, draw uint32) [4]float32 {
	b := k.Bits(stream, step, index, draw)
	return [4]float32{ToUnit(b[0]), ToUnit(b[1]), ToUnit(b[2]), ToUnit(b[3])}
}

// ToUnit maps a word to [0, 1) exactly: both the shift and the scaling are exact in float32, so the
// WGSL twin `f32(u >> 8u) * (1.0 / 16777216.0)` gives the same bits.
func ToUnit(u uint32) float32 { return float32(u>>8) * (1.0 / (1 << 24)) }

// ToUnitOpen maps a word to (0, 1], safe to feed to log.
func ToUnitOpen(u uint32) float32 { return float32((u>>8)+1) * (1.0 / (1 << 24)) }

// Normal4 returns an approximately standard normal number from 4 words: the centred, scaled sum of
// four uniforms (Irwin–Hall). It uses only additions and one multiplication, each correctly rounded, so
// CPU and GPU can agree bit for bit where Box–Muller (log, cos) would not (the WGSL twin does the
// additions on integers with float32 rounding emulated, since a shader compiler may reassociate float
// expressions). Tails are cut at ±2√3, which is fine for noise.
func Normal4(b [4]uint32) float32 {
	s := (ToUnit(b[0]) + ToUnit(b[1])) + (ToUnit(b[2]) + ToUnit(b[3]))
	return (s - 2) * 1.7320508
}

// Perm returns a permutation of 0..n-1 for the given step (e.g. the epoch), by a Fisher–Yates shuffle
// driven by the counter stream.
func (k Key) Perm(stream, step uint32, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		b := k.Bits(stream, step, uint32(i), 0)
		j := int((uint64(b[0])<<32 | uint64(b[1])) % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
