package train

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/mcmc"
)

// TestTraceIsTheStep: a traced step trains exactly as an untraced one, and its replayed chains end
// in the states the step stored, for every variant.
func TestTraceIsTheStep(t *testing.T) {
	split := smallSplit(t)
	for _, m := range []string{"emc2-paper", "emc2-fresh", "emc2-iid", "emc2-cached"} {
		t.Run(m, func(t *testing.T) {
			cfg := smallConfig(m)
			a, err := NewTrainer(cpu.New(), cfg, split.Train)
			require.NoError(t, err)
			b, err := NewTrainer(cpu.New(), cfg, split.Train)
			require.NoError(t, err)
			for step := range 4 {
				require.NoError(t, b.TraceNextStep())
				a.TrainStep()
				b.TrainStep()
				tr, err := b.LastTrace()
				require.NoError(t, err)
				require.Equal(t, step, tr.Step)
				require.Len(t, tr.Chains, cfg.Batch)
				idx, score := make([]uint32, b.N), make([]float32, b.N)
				ib, sb, _ := b.method.chains()
				require.NoError(t, b.be.ReadU32(ib, idx))
				require.NoError(t, b.be.Read(sb, score))
				accepted := 0
				for k, c := range tr.Chains {
					i := tr.Batch[k]
					assert.Equal(t, mcmc.ChainState{Index: idx[i], Score: score[i]}, c.After, "chain %d", k)
					assert.Len(t, c.Decisions, 4*cfg.Batch)
					for _, d := range c.Decisions {
						if d.Accepted {
							accepted++
						}
					}
				}
				assert.Positive(t, accepted)
			}
			assert.Equal(t, params(t, a), params(t, b), "tracing does not change training")
		})
	}
	tr, err := NewTrainer(cpu.New(), smallConfig("simclr"), split.Train)
	require.NoError(t, err)
	assert.ErrorContains(t, tr.TraceNextStep(), "only runs")
}

func TestStepWithFindsTheImagesBatch(t *testing.T) {
	split := smallSplit(t)
	tr, err := NewTrainer(cpu.New(), smallConfig("emc2-paper"), split.Train)
	require.NoError(t, err)
	for _, i := range []int{0, 7, 300, 511} {
		s := tr.StepWith(i)
		require.GreaterOrEqual(t, s, 0)
		assert.Contains(t, tr.batchAt(s), uint32(i), "image %d in the batch of step %d", i, s)
		for early := tr.Step; early < s; early++ {
			assert.NotContains(t, tr.batchAt(early), uint32(i))
		}
	}
	require.NoError(t, tr.TraceStep(tr.StepWith(300)))
	assert.True(t, tr.TracePending())
	for tr.TracePending() {
		tr.TrainStep()
	}
	got, err := tr.LastTrace()
	require.NoError(t, err)
	assert.Contains(t, got.Batch, 300)
}
