package gpu

import (
	"cmp"
	"slices"
	"time"

	"github.com/emc2ml/emc2/core/backend"
)

// KernelTime is one entry point's share of the work profiled (see Profile).
type KernelTime = backend.KernelTime

var (
	_ backend.Profiler    = (*Backend)(nil)
	_ backend.Timestamper = (*Backend)(nil)
)

// Profile turns per-kernel timing on or off. While it is on, every dispatch is submitted on its own
// and the device is waited for after it, so each kernel's wall time is measured with the queue
// empty before and after: slower than a normal step (one submit per dispatch), but on a device
// without timestamp queries the only way to say which kernel a step spends its time in. In the
// browser the wait is an awaited onSubmittedWorkDone (drain); where the device has timestamp
// queries, each dispatch's pass is also timed on the GPU's clock (pass_js.go).
func (b *Backend) Profile(on bool) {
	b.submit()
	b.drain()
	b.profiling = on
	if on && b.profile == nil {
		b.profile = map[*kernel]*KernelTime{}
	}
}

// Profiled returns the time per kernel measured since profiling was first turned on, slowest first.
func (b *Backend) Profiled() []KernelTime {
	out := make([]KernelTime, 0, len(b.profile))
	for _, kt := range b.profile {
		out = append(out, *kt)
	}
	slices.SortFunc(out, func(x, y KernelTime) int { return cmp.Compare(y.Seconds, x.Seconds) })
	return out
}

// timed runs a recorded dispatch to completion and adds its wall time to its kernel's.
func (b *Backend) timed(k *kernel, start time.Time) {
	b.submit()
	b.drain()
	kt := b.profile[k]
	if kt == nil {
		kt = &KernelTime{Kernel: k.entry, File: k.file}
		b.profile[k] = kt
	}
	kt.Dispatches++
	kt.Seconds += time.Since(start).Seconds()
	kt.GPUSeconds += b.passSeconds()
}

// Timestamps reports whether a profile also times each kernel on the GPU's clock.
func (b *Backend) Timestamps() bool { return b.info.Timestamps }
