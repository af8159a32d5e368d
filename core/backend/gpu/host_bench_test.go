package gpu

import (
	"testing"

	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/require"
)

// BenchmarkStepHostCost is what recording one training step (default configuration, built-in data)
// costs the host: the Go side of every operation, the bind-group lookups, the passes reaching the
// driver (in the browser, every syscall/js crossing) and the submit — what a training loop pays per
// step. The device is drained and its errors read before each step, outside the timer, so that on a
// software adapter (which runs on the same cores) the previous step's GPU work does not run beside
// the host's; in the browser the error check is a round trip to the GPU process (~6 ms here), which
// a run pays once per statistics read, not per step. On a fast GPU this cost bounds the step.
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
	c0 := be.Counts()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		_, err = tr.ReadStats()
		require.NoError(b, err)
		be.drain()
		b.StartTimer()
		tr.TrainStep()
		be.submit()
	}
	b.StopTimer()
	c := be.Counts()
	n := float64(b.N)
	b.ReportMetric(float64(c.Dispatches-c0.Dispatches)/n, "dispatches/step")
	b.ReportMetric(float64(c.Sent-c0.Sent)/n, "sent/step")
	b.ReportMetric(float64(c.UniformBytes-c0.UniformBytes)/n, "uniformB/step")
}
