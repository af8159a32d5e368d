package gpu

import (
	"testing"

	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProfileTimesEveryKernel: a profiled step times every dispatch it makes, under its kernel's
// name, and trains exactly as an unprofiled one.
func TestProfileTimesEveryKernel(t *testing.T) {
	_, g := backends(t)
	split := stepSplit(t, 64, 32)
	cfg := stepConfig(t, "emc2-cached")
	plain, err := train.NewTrainer(g, cfg, split.Train)
	require.NoError(t, err)
	profiled, err := train.NewTrainer(g, cfg, split.Train)
	require.NoError(t, err)

	plain.TrainStep()
	want, err := plain.ReadStats()
	require.NoError(t, err)
	c0 := g.Counts()
	before := map[string]int{}
	for _, k := range g.Profiled() {
		before[k.Kernel] = k.Dispatches
	}
	g.Profile(true)
	profiled.TrainStep()
	got, err := profiled.ReadStats()
	g.Profile(false)
	require.NoError(t, err)
	assert.Equal(t, want, got, "profiling changes nothing but the timing")

	var n int
	names := map[string]bool{}
	for _, k := range g.Profiled() {
		n += k.Dispatches - before[k.Kernel]
		names[k.Kernel] = true
		assert.Positive(t, k.Seconds, k.Kernel)
	}
	assert.EqualValues(t, g.Counts().Dispatches-c0.Dispatches, n, "every dispatch is timed")
	for _, k := range []string{"augment_views", g.pick("conv3x3", "conv3x3_tiled"), g.pick("gemm", "gemm_tiled"), "gather_rows", "scatter_rows", "mh_sweep", "optim_adam"} {
		assert.True(t, names[k], "%s was timed", k)
	}
}
