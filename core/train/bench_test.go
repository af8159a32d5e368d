package train

import (
	"fmt"
	"testing"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
)

// BenchmarkTrainStep times one training step of the default encoder on the CPU backend, per method
// and batch size, including the augmentations. Compare with `make bench-torch`.
func BenchmarkTrainStep(b *testing.B) {
	s, err := data.Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []string{"simclr", "sogclr", "emc2-paper", "emc2-fresh", "emc2-cached"} {
		for _, batch := range []int{32, 256} {
			name := fmt.Sprintf("%s/B=%d", m, batch)
			b.Run(name, func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Method, cfg.Variant, _ = ParseRunName(m)
				cfg.Batch = batch
				tr, err := NewTrainer(cpu.New(), cfg, s.Train)
				if err != nil {
					b.Fatal(err)
				}
				tr.TrainStep() // warm-up
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					tr.TrainStep()
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
