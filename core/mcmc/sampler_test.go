package mcmc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
)

// TestSamplerIsTheSweep: the public Sampler advances exactly like Sweep over the same chains.
func TestSamplerIsTheSweep(t *testing.T) {
	for _, v := range Variants() {
		t.Run(v.String(), func(t *testing.T) {
			const n, b = 20, 5
			s, err := NewSampler(n, SamplerOptions{Beta: 7, BurnIn: 0.5, Variant: v, Seed: 3})
			require.NoError(t, err)
			idx, score := make([]uint32, n), make([]float32, n)
			for i := range idx {
				idx[i], score[i] = NoState, objective.Unvisited
			}
			key := rng.NewKey(3)
			for step := uint32(0); step < 4; step++ {
				batch := []int{int(step), 5, 9, 13, 19 - int(step)}
				cols := s.Cols(b)
				sim := make([]float32, 2*b*cols)
				for i := range sim {
					sim[i] = float32(key.Bits(rng.StreamShuffle, step, uint32(i), 0)[0]%2000)/1000 - 1
				}
				got, _, err := s.Step(sim, batch)
				require.NoError(t, err)
				want, stats := make([]float32, len(sim)), make([]float32, objective.NumStats)
				u := []uint32{uint32(batch[0]), 5, 9, 13, uint32(batch[4])}
				Sweep(want, stats, sim, idx, score, u, Params{Shape: objective.Shape{B: b, Cols: cols, Beta: 7}, BurnIn: 0.5, Variant: v, Key: key, Step: step})
				assert.Equal(t, want, got)
				assert.Equal(t, idx, s.chainIdx)
			}
		})
	}
}

func TestSamplerRefusesBadInput(t *testing.T) {
	_, err := NewSampler(1, SamplerOptions{Beta: 1})
	assert.Error(t, err)
	_, err = NewSampler(10, SamplerOptions{Beta: 0})
	assert.Error(t, err)
	_, err = NewSampler(10, SamplerOptions{Beta: 1, BurnIn: 1})
	assert.Error(t, err)
	s, err := NewSampler(10, SamplerOptions{Beta: 1, Variant: Paper})
	require.NoError(t, err)
	_, _, err = s.Step(make([]float32, 16), []int{0, 1})
	assert.NoError(t, err)
	for _, batch := range [][]int{{0}, {0, 0}, {0, 10}, {-1, 2}} {
		_, _, err = s.Step(make([]float32, 4*len(batch)*len(batch)), batch)
		assert.Error(t, err, batch)
	}
	_, _, err = s.Step(make([]float32, 15), []int{0, 1})
	assert.ErrorContains(t, err, "similarity matrix")
	assert.Nil(t, s.StateImages([]int{0, 1}), "Paper needs no state column")
}
