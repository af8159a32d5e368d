package gpu

import (
	"testing"

	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/require"
)

// BenchmarkStepHostCost is what recording one training step (default configuration, built-in data)
// costs the host: the Go side of every operation, the bind-group lookups, the dispatches reaching
// the compute pass and the submit. The GPU work is queued, not awaited (the queue is drained
// outside the timer every 5 steps), so on a fast GPU this bounds the step; in the browser
// (make bench-browser) it includes every syscall/js crossing.
func BenchmarkStepHostCost(b *testing.B) {
	be, err := New()
	if err != nil {
		b.Skip(err)
	}
	defer be.Close()
	s, err := data.Default()
	require.NoError(b, err)
	tr, err := train.NewTrainer(be, train.DefaultConfig(), s.Train)
	require.NoError(b, err)
	tr.TrainStep()
	_, err = tr.ReadStats()
	require.NoError(b, err)
	c0 := be.Counts()
	b.ResetTimer()
	for i := range b.N {
		tr.TrainStep()
		require.NoError(b, be.Flush())
		if i%5 == 4 {
			b.StopTimer()
			_, err = tr.ReadStats()
			require.NoError(b, err)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(be.Counts().Dispatches-c0.Dispatches)/float64(b.N), "dispatches/step")
}
