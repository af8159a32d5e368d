package experiment

import (
	"context"
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBatchSweepQuick(t *testing.T) {
	s, err := data.Default()
	require.NoError(t, err)
	split := &data.Split{Train: s.Train.Subset(seqN(256)), Test: s.Test.Subset(seqN(128))}
	cfg := DefaultBatchSweep()
	cfg.Batches, cfg.Epochs, cfg.Methods, cfg.Seeds = []int{8, 16}, 2, []string{"simclr", "emc2-paper"}, []uint64{1, 2}
	cfg.Base.Channels, cfg.Base.Hidden, cfg.Base.Proj = []int{8}, 16, 8
	pts, err := BatchSweep(context.Background(), func() (backend.Backend, error) { return cpu.New(), nil }, split, cfg, nil)
	require.NoError(t, err)
	count := map[string]int{}
	for _, p := range pts {
		count[p.Method]++
		assert.True(t, p.Probe > 0 && p.Probe <= 1, "%+v", p)
		if p.Batch > 0 {
			assert.Positive(t, p.TrainSecs)
			assert.True(t, p.Epoch >= 1 && p.Epoch <= cfg.Epochs)
		}
	}
	// floors once per seed; every method: batches × seeds × epochs evaluations
	assert.Equal(t, map[string]int{"floor: raw pixels": 2, "floor: random init": 2, "simclr": 8, "emc2-paper": 8}, count)
}

func seqN(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
