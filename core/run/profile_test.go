package run

import (
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeProfiler is the CPU backend posing as one that times its kernels: every profiled stretch adds
// fixed times, so that Profile's arithmetic can be checked exactly.
type fakeProfiler struct {
	*cpu.Backend
	on    bool
	times map[string]backend.KernelTime
}

func (f *fakeProfiler) Profile(on bool) {
	if f.on && !on { // a stretch ends: conv 3 calls / 30 ms, gemm 9 calls / 9 ms, idle never ran
		for _, k := range []backend.KernelTime{{Kernel: "gemm", Dispatches: 9, Seconds: 0.009}, {Kernel: "conv", Dispatches: 3, Seconds: 0.030}} {
			t := f.times[k.Kernel]
			t.Kernel, t.Dispatches, t.Seconds = k.Kernel, t.Dispatches+k.Dispatches, t.Seconds+k.Seconds
			f.times[k.Kernel] = t
		}
	}
	f.on = on
}

func (f *fakeProfiler) Profiled() []backend.KernelTime {
	out := []backend.KernelTime{{Kernel: "idle", Dispatches: 5, Seconds: 1}}
	for _, k := range f.times {
		out = append(out, k)
	}
	return out
}

// TestProfileReportsPerStepShares: rows are per step, only of what ran in this stretch (not what
// was measured before), slowest first, with shares adding up to 1; training goes on meanwhile.
func TestProfileReportsPerStepShares(t *testing.T) {
	f := &fakeProfiler{Backend: cpu.New(), times: map[string]backend.KernelTime{"gemm": {Kernel: "gemm", Dispatches: 100, Seconds: 5}}}
	tr, err := train.NewTrainer(f, smallConfig(t, "simclr"), smallSplit(t).Train)
	require.NoError(t, err)
	rows, err := Profile(f, tr, 3)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "conv", rows[0].Kernel)
	assert.InDelta(t, 1.0, rows[0].Dispatches, 1e-12)
	assert.InDelta(t, 10.0, rows[0].Ms, 1e-9)
	assert.InDelta(t, 30.0/39, rows[0].Share, 1e-9)
	assert.Equal(t, "gemm", rows[1].Kernel)
	assert.InDelta(t, 3.0, rows[1].Dispatches, 1e-12)
	assert.InDelta(t, 3.0, rows[1].Ms, 1e-9)
	assert.InDelta(t, 1.0, rows[0].Share+rows[1].Share, 1e-12)
	assert.Equal(t, 3, tr.Step, "the profiled steps train")
}
