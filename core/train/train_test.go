package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallSplit is a 512/256-image slice of the embedded default data.
func smallSplit(t *testing.T) *data.Split {
	t.Helper()
	s, err := data.Default()
	require.NoError(t, err)
	return &data.Split{Train: s.Train.Subset(seq(512)), Test: s.Test.Subset(seq(256))}
}

// smallConfig is a tiny encoder that trains in a second or two.
func smallConfig(method, variant string) Config {
	c := DefaultConfig()
	c.Method, c.Variant = method, variant
	c.Batch, c.Epochs, c.Channels, c.Hidden, c.Proj = 16, 2, []int{8}, 32, 16
	c.LogEvery, c.GlobalSize = 4, 64
	return c
}

func params(t *testing.T, tr *Trainer) []float32 {
	t.Helper()
	p := make([]float32, tr.Enc.Params.Len())
	require.NoError(t, tr.be.Read(tr.Enc.Params, p))
	return p
}

// TestEveryMethodLowersTheGlobalLoss trains each method briefly and checks the exact held-out global
// contrastive loss falls below its value at initialisation.
func TestEveryMethodLowersTheGlobalLoss(t *testing.T) {
	split := smallSplit(t)
	for _, tc := range []struct{ method, variant string }{
		{"simclr", ""}, {"sogclr", ""}, {"emc2", "paper"}, {"emc2", "fresh"},
	} {
		t.Run(tc.method+tc.variant, func(t *testing.T) {
			cfg := smallConfig(tc.method, tc.variant)
			tr, err := NewTrainer(cpu.New(), cfg, split.Train)
			require.NoError(t, err)
			ev, err := NewEvaluator(cfg, split)
			require.NoError(t, err)
			before, err := ev.Evaluate(context.Background(), tr)
			require.NoError(t, err)
			var steps []Progress
			hist, err := tr.Run(context.Background(), ev, observerFunc(func(p Progress) { steps = append(steps, p) }))
			require.NoError(t, err)
			require.Len(t, hist, 1)
			after := hist[0]
			assert.Equal(t, tr.TotalSteps(), tr.Step)
			assert.Less(t, after.GlobalLoss, before.GlobalLoss, "global loss must fall")
			assert.Greater(t, after.ProbeTest, 0.3, "probe far above chance (0.1)")
			if tc.method == "emc2" {
				for _, p := range steps {
					assert.True(t, p.AcceptRate > 0 && p.AcceptRate <= 1, "acceptance rate %v", p.AcceptRate)
				}
				if tc.variant == "fresh" {
					assert.Zero(t, steps[len(steps)-1].StaleShare)
					assert.Greater(t, steps[len(steps)-1].StateShare, 0.0)
				}
			}
		})
	}
}

type observerFunc func(Progress)

func (observerFunc) Started(RunInfo)      {}
func (f observerFunc) Stepped(p Progress) { f(p) }
func (observerFunc) Evaluated(EvalReport) {}

func TestSameSeedSameRun(t *testing.T) {
	split := smallSplit(t)
	cfg := smallConfig("emc2", "fresh")
	run := func(seed uint64) []float32 {
		c := cfg
		c.Seed = seed
		tr, err := NewTrainer(cpu.New(), c, split.Train)
		require.NoError(t, err)
		for i := 0; i < 5; i++ {
			tr.TrainStep()
		}
		return params(t, tr)
	}
	a := run(1)
	assert.Equal(t, a, run(1))
	assert.NotEqual(t, a, run(2))
}

// TestCheckpointResumesExactly: a run saved after 3 steps and resumed in a new trainer continues
// bit for bit like the uninterrupted run, for every method's per-image state.
func TestCheckpointResumesExactly(t *testing.T) {
	split := smallSplit(t)
	for _, m := range []struct{ method, variant string }{{"sogclr", ""}, {"emc2", "paper"}, {"emc2", "fresh"}} {
		t.Run(m.method+m.variant, func(t *testing.T) {
			cfg := smallConfig(m.method, m.variant)
			a, err := NewTrainer(cpu.New(), cfg, split.Train)
			require.NoError(t, err)
			for i := 0; i < 3; i++ {
				a.TrainStep()
			}
			ck, err := a.Snapshot()
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "run.ckpt")
			require.NoError(t, ck.Save(path))
			loaded, err := LoadCheckpoint(path)
			require.NoError(t, err)
			b, err := NewTrainer(cpu.New(), loaded.Config, split.Train)
			require.NoError(t, err)
			require.NoError(t, b.Restore(loaded))
			for i := 0; i < 3; i++ {
				a.TrainStep()
				b.TrainStep()
			}
			assert.Equal(t, params(t, a), params(t, b))
			assert.Equal(t, a.Step, b.Step)
		})
	}
}

func TestCheckpointRejectsDamage(t *testing.T) {
	split := smallSplit(t)
	tr, err := NewTrainer(cpu.New(), smallConfig("emc2", "paper"), split.Train)
	require.NoError(t, err)
	ck, err := tr.Snapshot()
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ckpt")
	require.NoError(t, ck.Save(path))
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0xff
	for _, tc := range []struct {
		name, want string
		b          []byte
	}{
		{"empty", "bad magic", nil},
		{"not a checkpoint", "bad magic", []byte("PNG\x89 this is something else entirely")},
		{"truncated", "checksum", good[:len(good)-100]},
		{"bit flip", "checksum", flipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCheckpoint(tc.b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err = LoadCheckpoint(filepath.Join(dir, "missing.ckpt"))
	assert.ErrorContains(t, err, "missing.ckpt")

	other := &data.Split{Train: split.Train.Subset(seq(100))}
	tr2, err := NewTrainer(cpu.New(), smallConfig("emc2", "paper"), other.Train)
	require.NoError(t, err)
	assert.ErrorContains(t, tr2.Restore(ck), "512 images")

	// A save into a folder that does not exist fails and writes nothing.
	assert.Error(t, ck.Save(filepath.Join(dir, "nope", "b.ckpt")))
}

func TestRunStopsWhenCancelled(t *testing.T) {
	split := smallSplit(t)
	cfg := smallConfig("simclr", "")
	tr, err := NewTrainer(cpu.New(), cfg, split.Train)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancelledAt := -1
	_, err = tr.Run(ctx, nil, observerFunc(func(p Progress) {
		if p.Step >= 8 && cancelledAt < 0 {
			cancel()
			cancelledAt = tr.Step
		}
	}))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, cancelledAt, tr.Step, "stops at the next step boundary")
	assert.Less(t, tr.Step, tr.TotalSteps())
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"default ok", func(*Config) {}, ""},
		{"method", func(c *Config) { c.Method = "moco" }, "--method"},
		{"variant", func(c *Config) { c.Variant = "exact" }, "--emc2-variant"},
		{"batch", func(c *Config) { c.Batch = 1 }, "--batch"},
		{"beta", func(c *Config) { c.Beta = -1 }, "--beta"},
		{"lr", func(c *Config) { c.LR = 0 }, "--lr"},
		{"optimizer", func(c *Config) { c.Optimizer = "rmsprop" }, "--optimizer"},
		{"burn-in", func(c *Config) { c.BurnIn = 1 }, "--mcmc-burn-in"},
		{"gamma", func(c *Config) { c.Gamma = 0 }, "--sogclr-gamma"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
