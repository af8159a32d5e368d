package experiment

import (
	"context"
	"fmt"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// BatchSweepConfig trains every method at every batch size for the same number of epochs, evaluating
// after each epoch, so that accuracy can be compared at equal epochs and at equal training time.
type BatchSweepConfig struct {
	Batches []int
	Methods []string // "simclr", "sogclr", "emc2-paper", "emc2-fresh", "emc2-iid"
	Seeds   []uint64
	Epochs  int
	Base    train.Config
}

// DefaultBatchSweep is the shipped size.
func DefaultBatchSweep() BatchSweepConfig {
	return BatchSweepConfig{Batches: []int{4, 8, 16, 32, 64, 128}, Methods: []string{"simclr", "sogclr", "emc2-fresh"},
		Seeds: []uint64{1}, Epochs: 3, Base: train.DefaultConfig()}
}

// SweepPoint is one evaluation of one run.
type SweepPoint struct {
	Method    string  `json:"method"`
	Batch     int     `json:"batch"`
	Seed      uint64  `json:"seed"`
	Epoch     int     `json:"epoch"`
	TrainSecs float64 `json:"train_s"` // training time up to this evaluation (evaluations excluded)
	Probe     float64 `json:"probe_test_acc"`
	KNN1      float64 `json:"knn1_acc"`
	KNN10     float64 `json:"knn10_acc"`
}

// MethodConfig sets a train.Config's method from a method label ("simclr", "emc2-fresh", "emc2:paper").
func MethodConfig(c train.Config, label string) (train.Config, error) {
	m, v, err := train.ParseRunName(label)
	if err != nil {
		return c, err
	}
	c.Method, c.Variant = m, v
	return c, nil
}

// BatchSweep runs the sweep on split (prepared, see run.Prepare), each run a run.Job on a fresh
// backend; the floors (raw pixels and the random-init encoder of the first run) come first, with
// Method "floor: raw pixels" / "floor: random init" and Epoch 0.
func BatchSweep(ctx context.Context, newBackend func() (backend.Backend, error), split *data.Split, cfg BatchSweepConfig, progress func(SweepPoint)) ([]SweepPoint, error) {
	var out []SweepPoint
	emit := func(p SweepPoint) {
		out = append(out, p)
		if progress != nil {
			progress(p)
		}
	}
	for _, b := range cfg.Batches {
		for _, seed := range cfg.Seeds {
			for mi, m := range cfg.Methods {
				tc, err := MethodConfig(cfg.Base, m)
				if err != nil {
					return out, fmt.Errorf("batch sweep: %w", err)
				}
				tc.Batch, tc.Seed, tc.Epochs, tc.EvalEvery, tc.GlobalSize = b, seed, cfg.Epochs, 1, 0
				tc.LogEvery = max(1, min(tc.LogEvery, 6000/b))
				be, err := newBackend()
				if err != nil {
					return out, err
				}
				err = sweepOne(ctx, be, split, tc, m, mi == 0 && b == cfg.Batches[0], emit)
				be.Close()
				if err != nil {
					return out, fmt.Errorf("batch sweep %s B=%d seed %d: %w", m, b, seed, err)
				}
			}
		}
	}
	return out, nil
}

// sweepObserver turns a job's evaluations into sweep points (and the first run's floors).
type sweepObserver struct {
	run.Nop
	method string
	cfg    train.Config
	floors bool
	emit   func(SweepPoint)
}

func (o *sweepObserver) Floor(f train.Floor) {
	if o.floors {
		o.emit(SweepPoint{Method: "floor: " + f.Name, Seed: o.cfg.Seed, Probe: f.ProbeTest, KNN1: f.KNN1, KNN10: f.KNN10})
	}
}

func (o *sweepObserver) Evaluated(r train.EvalReport) {
	if r.Step == 0 {
		return // the random-init encoder: a floor
	}
	o.emit(SweepPoint{Method: o.method, Batch: o.cfg.Batch, Seed: o.cfg.Seed, Epoch: int(r.Epoch + 0.5),
		TrainSecs: r.TrainSecs, Probe: r.ProbeTest, KNN1: r.KNN1, KNN10: r.KNN10})
}

func sweepOne(ctx context.Context, be backend.Backend, split *data.Split, tc train.Config, method string, floors bool, emit func(SweepPoint)) error {
	job, err := run.New(be, tc, split, run.Options{})
	if err != nil {
		return err
	}
	obs := &sweepObserver{method: method, cfg: tc, floors: floors, emit: emit}
	if err := job.Run(ctx, obs); err != nil {
		return err
	}
	return nil
}
