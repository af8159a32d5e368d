package compare

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

func TestPlanValidateAndRuns(t *testing.T) {
	p := Plan{Methods: []string{"simclr", "emc2:paper", "emc2"}, Batches: []int{8, 32}, Seeds: []uint64{1, 2}, Base: train.DefaultConfig()}
	require.NoError(t, p.Validate())
	assert.Equal(t, []string{"simclr", "emc2-paper", "emc2-cached"}, p.Methods, "names are normalised")
	runs := p.Runs()
	require.Len(t, runs, 12)
	assert.Equal(t, Key{"simclr", 8, 1}, runs[0])
	assert.Equal(t, Key{"emc2-cached", 32, 2}, runs[11])
	c, err := p.Config(runs[1])
	require.NoError(t, err)
	assert.Equal(t, train.EMC2, c.Method)
	assert.Equal(t, 1, c.EvalEvery, "a point per epoch for accuracy against time")

	for name, mod := range map[string]func(*Plan){
		"no methods":     func(p *Plan) { p.Methods = nil },
		"unknown method": func(p *Plan) { p.Methods = []string{"moco"} },
		"twice":          func(p *Plan) { p.Methods = []string{"simclr", "simclr"} },
		"batch 1":        func(p *Plan) { p.Batches = []int{1} },
		"no seeds":       func(p *Plan) { p.Seeds = nil },
		"budget":         func(p *Plan) { p.Budget = -1 },
		"bad base":       func(p *Plan) { p.Base.LR = 0 },
	} {
		q := Plan{Methods: []string{"simclr"}, Batches: []int{8}, Seeds: []uint64{1}, Base: train.DefaultConfig()}
		mod(&q)
		assert.Error(t, q.Validate(), name)
	}
	huge := Plan{Methods: []string{"simclr"}, Batches: make([]int, 100), Seeds: make([]uint64, 11), Base: train.DefaultConfig()}
	assert.ErrorContains(t, huge.Validate(), "the plan has 1100 runs (1 methods × 100 batch sizes × 11 seeds); at most 1000", "refused before the runs are listed")
}

// result makes a finished run with a given final probe accuracy and step time.
func result(m string, b int, seed uint64, probe, stepMs float64) Result {
	s := run.Summary{Final: train.EvalReport{Labeled: true, ProbeTest: probe, GlobalLoss: 3 - probe}, StepMs: stepMs, DeviceBytes: 1 << 20,
		Floors: []train.Floor{{Name: train.FloorRawPixels, ProbeTest: 0.5}, {Name: train.FloorRandomInit, ProbeTest: 0.4 + float64(seed)/100}}}
	if m != "simclr" {
		s.StateBytesPerImage = 8
	}
	return Result{Key: Key{m, b, seed}, Summary: s}
}

func TestReportReadsTheSpread(t *testing.T) {
	p := Plan{Methods: []string{"simclr", "emc2-fresh"}, Batches: []int{8, 64}, Seeds: []uint64{1, 2, 3}, Base: train.DefaultConfig()}
	var rs []Result
	for _, s := range p.Seeds {
		d := float64(s) / 1000
		rs = append(rs, result("simclr", 8, s, 0.80+d, 10), result("emc2-fresh", 8, s, 0.85+d, 11),
			result("simclr", 64, s, 0.84+3*d, 40), result("emc2-fresh", 64, s, 0.842+3*d, 42))
	}
	r := Build(p, rs)
	require.Len(t, r.Rows, 4)
	assert.Empty(t, r.Missing)
	assert.InDelta(t, 0.852, r.Rows[1].Probe.Mean, 1e-9)
	assert.InDelta(t, 0.001, r.Rows[1].Probe.SD, 1e-9)
	assert.InDelta(t, 1.1, r.Rows[1].StepRatio, 1e-9)
	assert.Len(t, r.Floors, 2)
	assert.InDelta(t, 0.42, r.Floors[1].Probe.Mean, 1e-9, "random init is averaged over seeds")
	assert.Contains(t, r.Reading, "At B = 8, emc2-fresh leads with 85.2 % ± 0.1 against SimCLR's 80.2 % ± 0.1")
	assert.Contains(t, r.Reading, "a real difference")
	assert.Contains(t, r.Reading, "At B = 64, emc2-fresh leads")
	assert.Contains(t, r.Reading, "not a real difference at 3 seeds", "0.2 points against an sd of 0.3")
	assert.Contains(t, r.Reading, "matches or beats SimCLR at B = 64")
	csv, err := r.CSV()
	require.NoError(t, err)
	assert.Contains(t, string(csv), "floor: raw pixels")
	md := r.Markdown("t")
	assert.Contains(t, md, "| emc2-fresh | 8 | 85.2 ± 0.1 |")

	part := Build(p, rs[:2])
	assert.Len(t, part.Missing, 10)
	assert.Contains(t, part.Reading, "10 of 12 runs are not finished yet")
	assert.Contains(t, Build(p, rs[:2]).Reading, "cannot be called", "one seed: no spread")
}

type memStore struct{ rs []Result }

func (m *memStore) Done() ([]Result, error) { return m.rs, nil }
func (m *memStore) Save(r Result) error     { m.rs = append(m.rs, r); return nil }

// TestBudgetStopsEachRun: with a budget, a run stops once its training time reaches it, evaluates
// what it trained and is kept.
func TestBudgetStopsEachRun(t *testing.T) {
	s, err := data.Default()
	require.NoError(t, err)
	split := &data.Split{Train: s.Train.Head(512), Test: s.Test.Head(128)}
	cfg := train.DefaultConfig()
	cfg.Epochs, cfg.Channels, cfg.Hidden, cfg.Proj, cfg.LogEvery, cfg.GlobalSize = 50, []int{4}, 16, 8, 2, 32
	p := Plan{Methods: []string{"simclr"}, Batches: []int{16}, Seeds: []uint64{1}, Budget: 0.2, Base: cfg}
	store := &memStore{}
	var events []Event
	rs, err := Execute(context.Background(), p, split, func() (backend.Backend, error) { return cpu.New(), nil }, store, func(e Event) { events = append(events, e) })
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.True(t, rs[0].Budget)
	assert.Less(t, rs[0].Summary.Steps, 50*32, "stopped long before 50 epochs")
	assert.GreaterOrEqual(t, rs[0].Summary.TrainSecs, 0.2)
	assert.Equal(t, rs[0].Summary.Steps, rs[0].Summary.Final.Step, "what was trained is evaluated")
	assert.Equal(t, store.rs, rs)
	last := events[len(events)-1]
	require.NotNil(t, last.Result)
	assert.Equal(t, 1.0, last.Done)
}
