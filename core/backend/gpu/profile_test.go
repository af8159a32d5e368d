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
	// Where the device has timestamp queries (SwiftShader in Chromium), each kernel's passes are also
	// timed on the GPU's clock, which runs inside the wall time measured around them.
	var wall, gpu float64
	for _, k := range g.Profiled() {
		wall, gpu = wall+k.Seconds, gpu+k.GPUSeconds
	}
	t.Logf("timestamp queries: %v; all kernels so far: wall %.1f ms, GPU %.1f ms", g.Timestamps(), 1000*wall, 1000*gpu)
	for _, k := range g.Profiled() {
		if g.Timestamps() {
			assert.Positive(t, k.GPUSeconds, k.Kernel)
			assert.LessOrEqual(t, k.GPUSeconds, k.Seconds, k.Kernel)
		} else {
			assert.Zero(t, k.GPUSeconds, k.Kernel)
		}
	}
	for _, k := range []string{"augment_views", g.pick("conv3x3", "conv3x3_tiled"), g.pick("gemm", "gemm_tiled"), "gather_rows", "scatter_rows", g.pick("mh_sweep", "mh_sweep_staged"), "optim_adam"} {
		assert.True(t, names[k] || names[k+"_v4"], "%s (or its four-channel form) was timed", k)
	}
}
