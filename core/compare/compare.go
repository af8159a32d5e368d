// Package compare runs a plan of training runs on one dataset — methods × batch sizes × seeds, at
// equal epochs or at an equal training-time budget — and turns them into one table and an honest
// reading of it. A plan is a loop over run.Jobs: every run has the same data, data order and
// augmentations for the same seed, whatever its method. The CLI (emc2 compare) and the page's Compare
// mode both run plans through Execute and write the same report (Report, Markdown, CSV).
package compare

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// Plan is what to compare.
type Plan struct {
	Methods []string     `json:"methods"` // run names: simclr, sogclr, emc2-fresh, emc2-paper (emc2:paper works too)
	Batches []int        `json:"batches"`
	Seeds   []uint64     `json:"seeds"`
	Budget  float64      `json:"budget_s"` // training seconds per run; 0 = every run trains Base.Epochs epochs
	Base    train.Config `json:"base"`     // everything else, shared by every run
}

// DefaultPlan compares the three methods at two batch sizes, one seed, on cfg.
func DefaultPlan(cfg train.Config) Plan {
	return Plan{Methods: []string{"simclr", "sogclr", "emc2-fresh"}, Batches: []int{8, 32}, Seeds: []uint64{1}, Base: cfg}
}

// Key names one run of a plan.
type Key struct {
	Method string `json:"method"` // the run name, normalised ("emc2-fresh")
	Batch  int    `json:"batch"`
	Seed   uint64 `json:"seed"`
}

func (k Key) String() string { return fmt.Sprintf("%s B=%d seed %d", k.Method, k.Batch, k.Seed) }

// MaxRuns bounds a plan (a list of thousands of seeds is a typo, and each run is minutes).
const MaxRuns = 1000

// Validate checks the plan and normalises its method names.
func (p *Plan) Validate() error {
	if len(p.Methods) == 0 || len(p.Batches) == 0 || len(p.Seeds) == 0 {
		return errors.New("compare: the plan needs at least one method, one batch size and one seed")
	}
	if n := len(p.Methods) * len(p.Batches) * len(p.Seeds); n > MaxRuns {
		return fmt.Errorf("compare: the plan has %d runs (%d methods × %d batch sizes × %d seeds); at most %d", n, len(p.Methods), len(p.Batches), len(p.Seeds), MaxRuns)
	}
	seen := map[string]bool{}
	for i, m := range p.Methods {
		meth, v, err := train.ParseRunName(m)
		if err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		p.Methods[i] = train.RunName(meth, v)
		if seen[p.Methods[i]] {
			return fmt.Errorf("compare: method %s is listed twice", p.Methods[i])
		}
		seen[p.Methods[i]] = true
	}
	if !(p.Budget >= 0) || math.IsInf(p.Budget, 0) {
		return fmt.Errorf("compare: budget %vs: want a positive duration (or 0 for equal epochs)", p.Budget)
	}
	for _, k := range p.Runs() {
		if _, err := p.Config(k); err != nil {
			return fmt.Errorf("compare: %s: %w", k, err)
		}
	}
	return nil
}

// Runs lists the plan's runs in the order they execute: seed by seed, batch by batch, method by
// method, so that an interrupted plan already has every method at the first seed and batches.
func (p Plan) Runs() []Key {
	var out []Key
	for _, s := range p.Seeds {
		for _, b := range p.Batches {
			for _, m := range p.Methods {
				out = append(out, Key{Method: m, Batch: b, Seed: s})
			}
		}
	}
	return out
}

// Config is the training config of one run: the base with the run's method, batch and seed.
func (p Plan) Config(k Key) (train.Config, error) {
	c := p.Base
	m, v, err := train.ParseRunName(k.Method)
	if err != nil {
		return c, err
	}
	c.Method, c.Variant, c.Batch, c.Seed = m, v, k.Batch, k.Seed
	if c.EvalEvery == 0 {
		c.EvalEvery = 1 // accuracy against training time needs a point per epoch
	}
	return c, c.Validate()
}

// Result is one finished run.
type Result struct {
	Key
	Summary run.Summary `json:"summary"`
	Budget  bool        `json:"stopped_at_budget,omitempty"`
}

// Event tells a front end how the plan goes.
type Event struct {
	Run    Key               `json:"run"`
	Index  int               `json:"index"` // of the run in Plan.Runs()
	Runs   int               `json:"runs"`
	Step   int               `json:"step"`  // of the run
	Total  int               `json:"total"` // steps of the run
	Done   float64           `json:"done"`  // share of the whole plan's steps taken (0..1)
	ETA    float64           `json:"eta_s"` // seconds left for the plan, from the pace so far
	Status string            `json:"status,omitempty"`
	Result *Result           `json:"result,omitempty"` // set when the run has finished
	Eval   *train.EvalReport `json:"eval,omitempty"`
}

// Store keeps finished runs, so that a plan can resume after an interruption.
type Store interface {
	Done() ([]Result, error)
	Save(Result) error
}

// Execute runs every run of the plan that the store does not hold yet, each as a run.Job on a fresh
// backend, saving each result as it finishes. A cancelled ctx stops the run in progress (its work is
// lost; finished runs are kept) and returns ctx's error. split must be prepared (run.Prepare).
func Execute(ctx context.Context, p Plan, split *data.Split, newBackend func() (backend.Backend, error), store Store, events func(Event)) ([]Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if events == nil {
		events = func(Event) {}
	}
	done, err := store.Done()
	if err != nil {
		return nil, fmt.Errorf("compare: finished runs: %w", err)
	}
	results := slices.Clone(done)
	runs := p.Runs()
	steps := make([]int, len(runs)) // planned steps per run (at equal epochs; an estimate with a budget)
	var total, finished int
	for i, k := range runs {
		c, _ := p.Config(k)
		n := run.Select(split, c).Train.N
		steps[i] = n / c.Batch * c.Epochs
		total += steps[i]
		if has(done, k) {
			finished += steps[i]
		}
	}
	start, startDone := time.Now(), finished
	for i, k := range runs {
		if has(done, k) {
			continue
		}
		ev := Event{Run: k, Index: i, Runs: len(runs), Total: steps[i]}
		progress := func(step int) {
			ev.Step = step
			d := finished + step
			ev.Done = float64(d) / float64(max(total, 1))
			if d > startDone {
				ev.ETA = time.Since(start).Seconds() / float64(d-startDone) * float64(total-d)
			}
		}
		r, err := executeOne(ctx, p, k, split, newBackend, func(e Event) {
			progress(e.Step)
			ev.Status, ev.Eval = e.Status, e.Eval
			events(ev)
			ev.Eval = nil
		})
		if err != nil {
			return results, err
		}
		if err := store.Save(r); err != nil {
			return results, fmt.Errorf("compare: keep %s: %w", k, err)
		}
		results = append(results, r)
		finished += steps[i]
		progress(0)
		ev.Step, ev.Result, ev.Status = steps[i], &r, "finished"
		events(ev)
		ev.Result = nil
	}
	return results, nil
}

func has(rs []Result, k Key) bool {
	return slices.ContainsFunc(rs, func(r Result) bool { return r.Key == k })
}

// planObserver forwards a job's progress, evaluations and status to the plan's events, and stops
// the job when its training time reaches the budget.
type planObserver struct {
	run.Nop
	budget  time.Duration
	cancel  context.CancelFunc
	stopped bool
	send    func(Event)
}

func (o *planObserver) Status(s string) { o.send(Event{Status: s}) }

func (o *planObserver) Evaluated(r train.EvalReport) { o.send(Event{Step: r.Step, Eval: &r}) }

func (o *planObserver) Stepped(p run.Progress) {
	o.send(Event{Step: p.Step})
	if o.budget > 0 && time.Duration(p.Elapsed*float64(time.Second)) >= o.budget && !o.stopped {
		o.stopped = true
		o.cancel()
	}
}

func executeOne(ctx context.Context, p Plan, k Key, split *data.Split, newBackend func() (backend.Backend, error), send func(Event)) (Result, error) {
	c, err := p.Config(k)
	if err != nil {
		return Result{}, err
	}
	be, err := newBackend()
	if err != nil {
		return Result{}, err
	}
	defer be.Close()
	job, err := run.New(be, c, split, run.Options{})
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", k, err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	obs := &planObserver{budget: time.Duration(p.Budget * float64(time.Second)), cancel: cancel, send: send}
	err = job.Run(runCtx, obs)
	switch {
	case err == nil:
	case obs.stopped && ctx.Err() == nil:
		if err := job.Stop(ctx, obs); err != nil {
			return Result{}, fmt.Errorf("%s: %w", k, err)
		}
	default:
		return Result{}, fmt.Errorf("%s: %w", k, err)
	}
	return Result{Key: k, Summary: job.Summary(), Budget: obs.stopped}, nil
}
