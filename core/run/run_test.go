package run

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/optim"
	"github.com/emc2ml/emc2/core/train"
)

// smallSplit is a 512/256-image slice of the embedded default data.
func smallSplit(t *testing.T) *data.Split {
	t.Helper()
	s, err := data.Default()
	require.NoError(t, err)
	return &data.Split{Train: s.Train.Head(512), Test: s.Test.Head(256)}
}

// smallConfig is a tiny encoder that trains in a second or two; method is a run name ("emc2-paper").
func smallConfig(t *testing.T, method string) train.Config {
	c := train.DefaultConfig()
	m, v, err := train.ParseRunName(method)
	require.NoError(t, err)
	c.Method, c.Variant = m, v
	c.Batch, c.Epochs, c.Channels, c.Hidden, c.Proj = 16, 2, []int{8}, 32, 16
	c.LogEvery, c.GlobalSize = 4, 64
	return c
}

// log records a job's events in order.
type log struct {
	Nop
	events   []string
	progress []Progress
	evals    []train.EvalReport
	floors   []train.Floor
	cks      []CheckpointInfo
	onStep   func(Progress)
}

func (l *log) Started(Info) { l.events = append(l.events, "started") }
func (l *log) Stepped(p Progress) {
	l.progress = append(l.progress, p)
	if l.onStep != nil {
		l.onStep(p)
	}
}
func (l *log) Evaluated(r train.EvalReport) {
	l.events = append(l.events, "eval")
	l.evals = append(l.evals, r)
}
func (l *log) Floor(f train.Floor) {
	l.events = append(l.events, "floor: "+f.Name)
	l.floors = append(l.floors, f)
}
func (l *log) Checkpointed(c CheckpointInfo) {
	l.events = append(l.events, "checkpoint")
	l.cks = append(l.cks, c)
}

func params(t *testing.T, j *Job) []float32 {
	t.Helper()
	ck, err := j.T.Snapshot()
	require.NoError(t, err)
	return ck.F32["params"]
}

// TestEveryMethodLowersTheGlobalLoss trains each method briefly and checks the exact held-out global
// contrastive loss falls below its value at initialisation.
func TestEveryMethodLowersTheGlobalLoss(t *testing.T) {
	split := smallSplit(t)
	for _, m := range []string{"simclr", "sogclr", "emc2-paper", "emc2-fresh"} {
		t.Run(m, func(t *testing.T) {
			j, err := New(cpu.New(), smallConfig(t, m), split, Options{})
			require.NoError(t, err)
			l := &log{}
			require.NoError(t, j.Run(context.Background(), l))
			require.Len(t, j.History.Evals, 2, "random init and the end")
			before, after := j.History.Evals[0], j.History.Evals[1]
			assert.Equal(t, j.T.TotalSteps(), j.T.Step)
			assert.Equal(t, j.T.TotalSteps(), after.Step)
			assert.Less(t, after.GlobalLoss, before.GlobalLoss, "global loss must fall")
			assert.Greater(t, after.ProbeTest, 0.3, "probe far above chance (0.1)")
			if j.Cfg.Method.HasChains() {
				for _, p := range l.progress {
					assert.True(t, p.AcceptRate > 0 && p.AcceptRate <= 1, "acceptance rate %v", p.AcceptRate)
				}
				if j.Cfg.Variant.Rescores() {
					last := l.progress[len(l.progress)-1]
					assert.Zero(t, last.StaleShare)
					assert.Greater(t, last.StateShare, 0.0)
				}
			}
		})
	}
}

// TestLifecycle: the job's schedule, in order — training first, evaluations every EvalEvery epochs
// and at the end, the floors (the random-init evaluation, kept first in the history, and raw
// pixels) after the first evaluation, periodic checkpoints and one at the end; the summary agrees.
func TestLifecycle(t *testing.T) {
	split := smallSplit(t)
	cfg := smallConfig(t, "emc2-fresh")
	cfg.Epochs, cfg.EvalEvery, cfg.LogEvery = 3, 2, 8
	var saved []int
	j, err := New(cpu.New(), cfg, split, Options{CheckpointEvery: 40, Save: func(ck *train.Checkpoint) error {
		saved = append(saved, ck.Step)
		return nil
	}})
	require.NoError(t, err)
	l := &log{}
	require.NoError(t, j.Run(context.Background(), l))
	spe := j.T.StepsPerEpoch() // 32
	require.Equal(t, 32, spe)
	assert.Equal(t, []string{"started", "checkpoint", "eval", "eval", "floor: random init", "floor: raw pixels", "checkpoint", "eval", "checkpoint"}, l.events)
	assert.Equal(t, []int{2 * spe, 0, 3 * spe}, []int{l.evals[0].Step, l.evals[1].Step, l.evals[2].Step})
	h := j.History.Evals
	assert.Equal(t, []int{0, 2 * spe, 3 * spe}, []int{h[0].Step, h[1].Step, h[2].Step}, "the history in step order")
	assert.Equal(t, []int{40, 80, 96}, saved)
	assert.True(t, j.Done())
	s := j.Summary()
	assert.Equal(t, l.evals[2], s.Final)
	assert.Len(t, s.Floors, 2)
	_, ok := s.Floor(train.FloorRawPixels)
	assert.True(t, ok)
	assert.Greater(t, s.MeanAccept, 0.0)
	assert.Greater(t, s.TrainSecs, 0.0)
	assert.False(t, s.Stopped)
	assert.Equal(t, l.progress, j.History.Progress)
	require.NoError(t, j.Run(context.Background(), l), "a finished run has nothing left to do")
	assert.Len(t, l.evals, 3)
}

// TestRandomInitFloorIsTheStepZeroEncoder: the random-init evaluation, measured after the first
// epoch so that training starts at once, equals an evaluation of the encoder before step 1.
func TestRandomInitFloorIsTheStepZeroEncoder(t *testing.T) {
	split := smallSplit(t)
	for _, m := range []string{"simclr", "emc2-fresh"} {
		t.Run(m, func(t *testing.T) {
			j, err := New(cpu.New(), smallConfig(t, m), split, Options{})
			require.NoError(t, err)
			before, err := j.Ev.Evaluate(context.Background(), j.T.Embedder())
			require.NoError(t, err)
			l := &log{}
			l.onStep = func(Progress) { l.events = append(l.events, "step") }
			require.NoError(t, j.Run(context.Background(), l))
			assert.Equal(t, []string{"started", "step"}, l.events[:2], "training comes first")
			got := j.History.Evals[0]
			require.Zero(t, got.Step)
			before.Seconds, got.Seconds = 0, 0
			assert.Equal(t, before, got, "the same numbers as an evaluation at step 0")
			f, ok := j.Summary().Floor(train.FloorRandomInit)
			require.True(t, ok)
			assert.Equal(t, before.ProbeTest, f.ProbeTest)
		})
	}
}

// TestPauseResumeAndRestore: a run cancelled between steps checkpoints and can be continued by Run
// in the same job, or restored from its checkpoint into a new job; both continue bit for bit like
// the uninterrupted run, and the restored job has the whole history.
func TestPauseResumeAndRestore(t *testing.T) {
	split := smallSplit(t)
	for _, m := range []string{"sogclr", "emc2-paper", "emc2-fresh"} {
		t.Run(m, func(t *testing.T) {
			cfg := smallConfig(t, m)
			whole, err := New(cpu.New(), cfg, split, Options{})
			require.NoError(t, err)
			require.NoError(t, whole.Run(context.Background(), nil))

			var last *train.Checkpoint
			j, err := New(cpu.New(), cfg, split, Options{Save: func(ck *train.Checkpoint) error { last = ck; return nil }})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			cancelledAt := -1
			l := &log{onStep: func(p Progress) {
				if p.Step >= 12 && cancelledAt < 0 {
					cancel()
					cancelledAt = j.T.Step
				}
			}}
			err = j.Run(ctx, l)
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, cancelledAt, j.T.Step, "stops at the next step boundary")
			require.NotNil(t, last)
			assert.Equal(t, cancelledAt, last.Step, "a paused run is checkpointed")
			assert.False(t, j.Done())

			b, err := train.ParseCheckpoint(mustMarshal(t, last))
			require.NoError(t, err)
			k, err := New(cpu.New(), b.Config, split, Options{})
			require.NoError(t, err)
			require.NoError(t, k.Restore(b))
			assert.Equal(t, j.History, k.History, "the checkpoint carries the history")

			require.NoError(t, j.Run(context.Background(), nil))
			require.NoError(t, k.Run(context.Background(), nil))
			assert.Equal(t, params(t, whole), params(t, j), "resumed in place")
			assert.Equal(t, params(t, whole), params(t, k), "restored from the checkpoint")
			assert.Equal(t, whole.Summary().Final.GlobalLoss, k.Summary().Final.GlobalLoss)
			assert.Len(t, k.History.Evals, 2, "one evaluation at step 0, one at the end: none repeated")
		})
	}
}

func mustMarshal(t *testing.T, ck *train.Checkpoint) []byte {
	b, err := ck.Marshal()
	require.NoError(t, err)
	return b
}

// TestStopEvaluatesWhatWasTrained: Stop after a pause evaluates the step reached, measures the
// raw-pixel floor that the end would have, marks the run stopped and checkpoints.
func TestStopEvaluatesWhatWasTrained(t *testing.T) {
	split := smallSplit(t)
	saves := 0
	j, err := New(cpu.New(), smallConfig(t, "simclr"), split, Options{Save: func(*train.Checkpoint) error { saves++; return nil }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	l := &log{onStep: func(p Progress) { cancel() }}
	require.ErrorIs(t, j.Run(ctx, l), context.Canceled)
	step := j.T.Step
	require.NoError(t, j.Stop(context.Background(), l))
	assert.True(t, j.Done())
	s := j.Summary()
	assert.True(t, s.Stopped)
	assert.Equal(t, step, s.Final.Step)
	assert.Len(t, s.Floors, 2)
	assert.Equal(t, 2, saves, "on pause and on stop")
	require.NoError(t, j.Stop(context.Background(), l), "stopping twice is harmless")
	assert.Equal(t, 2, saves)
}

// TestSelectIsTheSubsetOfThePreparedData: Prepare holds out every tenth image of data without a
// test set once, before any subset; Select then takes the first TrainSubset training images, so
// the held-out set is the same for every subset size.
func TestSelectIsTheSubsetOfThePreparedData(t *testing.T) {
	s, err := data.Default()
	require.NoError(t, err)
	split := &data.Split{Train: s.Train.Head(200)}
	k, err := Prepare(split)
	require.NoError(t, err)
	assert.Equal(t, 20, k)
	for _, n := range []int{0, 10, 99, 180, 500} {
		cfg := train.DefaultConfig()
		cfg.TrainSubset = n
		sel := Select(split, cfg)
		assert.Same(t, split.Test, sel.Test)
		want := min(n, 180)
		if n == 0 {
			want = 180
		}
		require.Equal(t, want, sel.Train.N)
		for i := range sel.Train.N {
			src := sel.Train.SourceIndex(i)
			assert.NotEqual(t, 9, src%10, "held-out image %d trained on", src)
		}
	}
	_, err = Prepare(&data.Split{Train: s.Train.Head(2)})
	assert.ErrorContains(t, err, "too few")
}

func TestNewRefusesBadConfigs(t *testing.T) {
	split := smallSplit(t)
	cfg := smallConfig(t, "simclr")
	cfg.Batch = 1000
	_, err := New(cpu.New(), cfg, split, Options{})
	var se *train.SettingError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "batch", se.Setting)
	cfg.Batch, cfg.LR = 16, -1
	_, err = New(cpu.New(), cfg, split, Options{})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "lr", se.Setting)
}

// TestDivergenceStopsTheRun: a learning rate that blows the weights up stops the run at the first
// report of a non-finite loss, with a message that says what to do, and no checkpoint of the broken
// weights is ever saved.
func TestDivergenceStopsTheRun(t *testing.T) {
	split := smallSplit(t)
	cfg := smallConfig(t, "simclr")
	cfg.LR, cfg.Optimizer, cfg.Warmup = 1e6, optim.SGD, 0 // the largest learning rate Validate accepts
	var saved []int
	j, err := New(cpu.New(), cfg, split, Options{CheckpointEvery: 2, Save: func(ck *train.Checkpoint) error {
		saved = append(saved, ck.Step)
		return nil
	}})
	require.NoError(t, err)
	err = j.Run(context.Background(), nil)
	var div *DivergedError
	require.ErrorAs(t, err, &div)
	assert.Less(t, div.Step, 16, "stopped within a few steps, not at the end")
	assert.Contains(t, err.Error(), "smaller learning rate")
	for _, s := range saved {
		assert.Less(t, s, div.Step)
	}
	if div.LastGood >= 0 {
		assert.Contains(t, err.Error(), "last good checkpoint")
		assert.Equal(t, saved[len(saved)-1], div.LastGood)
	}
}

// TestCollapseRaisesTheAlarm: a run that collapses its embeddings finishes, with the alarm on its
// final evaluation and in its summary; a healthy run has none.
func TestCollapseRaisesTheAlarm(t *testing.T) {
	split := smallSplit(t)
	cfg := smallConfig(t, "simclr")
	cfg.LR, cfg.Optimizer = 1000, optim.SGD
	j, err := New(cpu.New(), cfg, split, Options{})
	require.NoError(t, err)
	require.NoError(t, j.Run(context.Background(), nil))
	s := j.Summary()
	assert.Contains(t, s.Alarm, "collapsed")
	assert.Empty(t, j.History.Evals[0].Alarm, "the random-init encoder is not judged")

	healthy, err := New(cpu.New(), smallConfig(t, "simclr"), split, Options{})
	require.NoError(t, err)
	require.NoError(t, healthy.Run(context.Background(), nil))
	assert.Empty(t, healthy.Summary().Alarm)
}
