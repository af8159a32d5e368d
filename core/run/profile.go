package run

import (
	"cmp"
	"slices"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/train"
)

// KernelRow is one kernel's share of a profiled training step.
type KernelRow struct {
	Kernel     string  `json:"kernel"`
	File       string  `json:"file"`
	Dispatches float64 `json:"dispatches_per_step"`
	Ms         float64 `json:"ms_per_step"`     // wall time, the queue drained around each dispatch
	GPUMs      float64 `json:"gpu_ms_per_step"` // on the GPU's clock (0 without timestamp queries)
	Share      float64 `json:"share"`           // of the profiled step's kernel wall time
}

// Profile runs n training steps of t with every kernel timed on its own (backend.Profiler) and
// returns each kernel's dispatches and time per step, slowest first. Profiling makes a step slower
// (the device is drained around every kernel) but trains exactly as an unprofiled step.
func Profile(p backend.Profiler, t *train.Trainer, n int) ([]KernelRow, error) {
	before := map[string]backend.KernelTime{}
	for _, k := range p.Profiled() {
		before[k.Kernel] = k
	}
	p.Profile(true)
	for range n {
		t.TrainStep()
	}
	_, err := t.ReadStats()
	p.Profile(false)
	if err != nil {
		return nil, err
	}
	var rows []KernelRow
	var total float64
	for _, k := range p.Profiled() {
		b := before[k.Kernel]
		d, secs, gpu := k.Dispatches-b.Dispatches, k.Seconds-b.Seconds, k.GPUSeconds-b.GPUSeconds
		if d == 0 {
			continue
		}
		total += secs
		rows = append(rows, KernelRow{Kernel: k.Kernel, File: k.File, Dispatches: float64(d) / float64(n),
			Ms: 1000 * secs / float64(n), GPUMs: 1000 * gpu / float64(n)})
	}
	for i := range rows {
		rows[i].Share = rows[i].Ms / 1000 * float64(n) / total
	}
	slices.SortStableFunc(rows, func(a, b KernelRow) int { return cmp.Compare(b.Ms, a.Ms) })
	return rows, nil
}
