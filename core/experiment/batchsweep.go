package experiment

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
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

// MethodConfig sets a train.Config's method from an experiment's method label.
func MethodConfig(c train.Config, label string) train.Config {
	c.Method, c.Variant = label, ""
	if v, ok := strings.CutPrefix(label, "emc2-"); ok {
		c.Method, c.Variant = "emc2", v
	}
	return c
}

// BatchSweep runs the sweep on split, each run on a fresh backend; the floors (raw pixels and the
// random-init encoder) come first, with Method "floor: raw pixels" / "floor: random init" and Epoch 0.
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
				tc := MethodConfig(cfg.Base, m)
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

func sweepOne(ctx context.Context, be backend.Backend, split *data.Split, tc train.Config, method string, floors bool, emit func(SweepPoint)) error {
	t, err := train.NewTrainer(be, tc, split.Train)
	if err != nil {
		return err
	}
	ev, err := train.NewEvaluator(tc, split)
	if err != nil {
		return err
	}
	if floors {
		raw, err := ev.RawPixelFloor(ctx)
		if err != nil {
			return err
		}
		emit(SweepPoint{Method: "floor: raw pixels", Seed: tc.Seed, Probe: raw.ProbeTest, KNN1: raw.KNN1, KNN10: raw.KNN10})
		r, err := ev.Evaluate(ctx, t)
		if err != nil {
			return err
		}
		emit(SweepPoint{Method: "floor: random init", Seed: tc.Seed, Probe: r.ProbeTest, KNN1: r.KNN1, KNN10: r.KNN10})
	}
	start := time.Now()
	var evalSecs float64
	_, err = t.Run(ctx, ev, evalObserver(func(r train.EvalReport) {
		evalSecs += r.Seconds
		emit(SweepPoint{Method: method, Batch: tc.Batch, Seed: tc.Seed, Epoch: int(r.Epoch + 0.5),
			TrainSecs: time.Since(start).Seconds() - evalSecs, Probe: r.ProbeTest, KNN1: r.KNN1, KNN10: r.KNN10})
	}))
	return err
}

// evalObserver forwards only the evaluations.
type evalObserver func(train.EvalReport)

func (evalObserver) Started(train.RunInfo)          {}
func (evalObserver) Stepped(train.Progress)         {}
func (f evalObserver) Evaluated(r train.EvalReport) { f(r) }
