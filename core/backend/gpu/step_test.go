package gpu

import (
	"context"
	"math"
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stepSplit(t *testing.T, n, m int) *data.Split {
	t.Helper()
	s, err := data.Default()
	require.NoError(t, err)
	idx := func(k int) []int {
		out := make([]int, k)
		for i := range out {
			out[i] = i
		}
		return out
	}
	return &data.Split{Train: s.Train.Subset(idx(n)), Test: s.Test.Subset(idx(m))}
}

func segmentsOf(t *testing.T, be backend.Backend, tr *train.Trainer, buf backend.Buf) map[string][]float32 {
	all := read(t, be, buf)
	out := map[string][]float32{}
	for _, s := range tr.Enc.Segments {
		out[s.Name] = all[s.Off : s.Off+s.Len]
	}
	return out
}

// TestTrainingStepParity runs one full training step (augment → encoder → similarity → weights →
// backward → optimizer) at a fixed seed on both backends and compares the loss, every gradient
// tensor and every updated weight tensor (relative L2 ≤ 1e-4 and cosine ≥ 0.99999 per tensor, loss
// relative ≤ 1e-5: the step chains many kernels whose rounding differs from the CPU's).
func TestTrainingStepParity(t *testing.T) {
	c, g := backends(t)
	split := stepSplit(t, 64, 32)
	for _, m := range []string{"simclr", "sogclr", "emc2-paper", "emc2-fresh", "emc2-cached"} {
		t.Run(m, func(t *testing.T) {
			cfg := stepConfig(t, m)
			tc, err := train.NewTrainer(c, cfg, split.Train)
			require.NoError(t, err)
			tg, err := train.NewTrainer(g, cfg, split.Train)
			require.NoError(t, err)
			tc.TrainStep()
			tg.TrainStep()
			sc, err := tc.ReadStats()
			require.NoError(t, err)
			sg, err := tg.ReadStats()
			require.NoError(t, err)
			assert.InDelta(t, sc.Loss, sg.Loss, 1e-5*math.Abs(sc.Loss), "loss")
			assert.Equal(t, sc.AcceptRate, sg.AcceptRate, "MH decisions")
			gc, gg := segmentsOf(t, c, tc, tc.Enc.Grads), segmentsOf(t, g, tg, tg.Enc.Grads)
			pc, pg := segmentsOf(t, c, tc, tc.Enc.Params), segmentsOf(t, g, tg, tg.Enc.Params)
			for _, s := range tc.Enc.Segments {
				assert.LessOrEqual(t, relL2(gg[s.Name], gc[s.Name]), 1e-4, "gradient %s", s.Name)
				assert.GreaterOrEqual(t, cosine(gg[s.Name], gc[s.Name]), 0.99999, "gradient %s", s.Name)
				assert.LessOrEqual(t, relL2(pg[s.Name], pc[s.Name]), 1e-4, "weights %s", s.Name)
			}
		})
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 && bb == 0 {
		return 1
	}
	return ab / math.Sqrt(aa*bb)
}

// TestShortRunMatchesCPU trains EMC² for two epochs on 256 images on both backends. Trajectories
// diverge chaotically (float rounding differs), so the comparison is on the outcome: the exact
// held-out global loss and the probe accuracy must agree within a few percent.
func TestShortRunMatchesCPU(t *testing.T) {
	c, g := backends(t)
	split := stepSplit(t, 256, 128)
	cfg := train.DefaultConfig()
	cfg.Batch, cfg.Epochs, cfg.Channels, cfg.Hidden, cfg.Proj, cfg.GlobalSize, cfg.LogEvery = 16, 2, []int{8, 16}, 32, 16, 64, 8
	final := func(be backend.Backend) train.EvalReport {
		j, err := run.New(be, cfg, split, run.Options{})
		require.NoError(t, err)
		require.NoError(t, j.Run(context.Background(), nil))
		return j.Summary().Final
	}
	rc, rg := final(c), final(g)
	t.Logf("cpu: global loss %.4f probe %.4f | gpu: global loss %.4f probe %.4f", rc.GlobalLoss, rc.ProbeTest, rg.GlobalLoss, rg.ProbeTest)
	assert.InDelta(t, rc.GlobalLoss, rg.GlobalLoss, 0.05*rc.GlobalLoss)
	assert.InDelta(t, rc.ProbeTest, rg.ProbeTest, 0.05)
}

// TestTraceMatchesTheGPUStep: the chain trace, replayed in Go from the GPU step's own similarity
// matrix, ends every chain where the GPU's sweep left it — the page shows the decisions the GPU made.
func TestTraceMatchesTheGPUStep(t *testing.T) {
	_, g := backends(t)
	split := stepSplit(t, 64, 32)
	for _, m := range []string{"emc2-paper", "emc2-fresh", "emc2-cached"} {
		t.Run(m, func(t *testing.T) {
			tg, err := train.NewTrainer(g, stepConfig(t, m), split.Train)
			require.NoError(t, err)
			for range 3 {
				require.NoError(t, tg.TraceNextStep())
				tg.TrainStep()
				tr, err := tg.LastTrace()
				require.NoError(t, err)
				ck, err := tg.Snapshot()
				require.NoError(t, err)
				for k, c := range tr.Chains {
					i := tr.Batch[k]
					assert.Equal(t, ck.U32["emc2.chain_idx"][i], c.After.Index, "chain %d", k)
					assert.Equal(t, ck.F32["emc2.chain_score"][i], c.After.Score, "chain %d", k)
				}
			}
		})
	}
}

// stepConfig is the default config with method m (a run name), B = 8, a small encoder, and
// statistics read every step.
func stepConfig(t *testing.T, m string) train.Config {
	cfg := train.DefaultConfig()
	method, variant, err := train.ParseRunName(m)
	require.NoError(t, err)
	cfg.Method, cfg.Variant, cfg.Batch, cfg.Channels, cfg.LogEvery = method, variant, 8, []int{8, 16}, 1
	return cfg
}

// TestDefaultRunNeedsNoOnDemandKernel: a training step and an evaluation of the default configuration
// on a fresh backend dispatch none of the kernels New leaves to their first use (onDemand), so that
// list spares the start compiles and never moves one onto the first step.
func TestDefaultRunNeedsNoOnDemandKernel(t *testing.T) {
	backends(t) // skips without an adapter
	g, err := New()
	require.NoError(t, err)
	defer g.Close()
	cfg := train.DefaultConfig()
	split := stepSplit(t, 256, 128)
	tr, err := train.NewTrainer(g, cfg, split.Train)
	require.NoError(t, err)
	tr.TrainStep()
	_, err = tr.ReadStats()
	require.NoError(t, err)
	ev, err := train.NewEvaluator(cfg, split)
	require.NoError(t, err)
	_, err = ev.Evaluate(context.Background(), tr.Embedder())
	require.NoError(t, err)
	for name := range onDemand {
		k := g.kernels[name]
		require.NotNil(t, k, "onDemand names %s, which is no kernel", name)
		assert.Nil(t, k.pipe, "the default run compiled %s at first use", name)
	}
}
