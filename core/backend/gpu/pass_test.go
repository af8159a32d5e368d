package gpu

import (
	"runtime"
	"testing"

	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplayedStepsEqualFreshOnes: 20 training steps recorded the usual way — passes replayed from
// what the browser already holds, uniform slots uploaded only where they changed — leave the same
// bits (every loss and every weight) as 20 steps with every command and every slot sent afresh; and
// once the first step has been sent, a step sends little.
func TestReplayedStepsEqualFreshOnes(t *testing.T) {
	_, g := backends(t)
	split := stepSplit(t, 64, 32)
	const steps, every = 20, 5
	for _, m := range []string{"simclr", "emc2"} {
		t.Run(m, func(t *testing.T) {
			type result struct {
				losses  []float64
				weights []float32
				counts  Counts // of steps 2..20
			}
			runSteps := func(fresh bool) result {
				g.fresh = fresh
				defer func() { g.fresh = false }()
				cfg := stepConfig(t, m)
				cfg.LogEvery = every // the statistics slot moves step by step, so some bind groups change
				tr, err := train.NewTrainer(g, cfg, split.Train)
				require.NoError(t, err)
				var r result
				var c0 Counts
				for s := range steps {
					if s == 1 {
						require.NoError(t, g.Flush()) // the first step's pass is sent
						c0 = g.Counts()
					}
					tr.TrainStep()
					if s%every == every-1 {
						st, err := tr.ReadStats()
						require.NoError(t, err)
						r.losses = append(r.losses, st.Loss)
					}
				}
				require.NoError(t, g.Flush())
				c1 := g.Counts()
				r.counts = Counts{Dispatches: c1.Dispatches - c0.Dispatches, Sent: c1.Sent - c0.Sent, UniformBytes: c1.UniformBytes - c0.UniformBytes}
				r.weights = read(t, g, tr.Enc.Params)
				return r
			}
			fresh, replayed := runSteps(true), runSteps(false)
			require.Equal(t, fresh.losses, replayed.losses, "losses")
			require.Equal(t, fresh.weights, replayed.weights, "weights")

			d := replayed.counts.Dispatches
			assert.Equal(t, d*slotBytes, fresh.counts.UniformBytes, "the reference uploads every slot")
			assert.Less(t, replayed.counts.UniformBytes, d*slotBytes/2, "only the slots that changed are uploaded")
			assert.Equal(t, d, fresh.counts.Sent, "the reference sends every command")
			if runtime.GOOS == "js" {
				assert.Less(t, replayed.counts.Sent, d/10, "a replayed step sends only what changed")
			} else {
				assert.Equal(t, d, replayed.counts.Sent, "natively every command goes to wgpu")
			}
			t.Logf("%s: %d dispatches in steps 2–%d; sent %d (fresh %d); uniform bytes %d (fresh %d)", m, d, steps,
				replayed.counts.Sent, fresh.counts.Sent, replayed.counts.UniformBytes, fresh.counts.UniformBytes)
		})
	}
}
