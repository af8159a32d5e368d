package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/compare"
)

// Compare-mode events.
const (
	EvCompare       = "compare"        // compare.Event: the plan's progress
	EvCompareRun    = "compare-run"    // compare.Result: a finished run, for the page to keep
	EvCompareReport = "compare-report" // compare.Report: the table and its reading so far
)

// pageStore hands every finished run to the page, which keeps them in its storage so that a
// reloaded page can continue the plan (Compare's done).
type pageStore struct {
	s    *Session
	done []compare.Result
}

func (p *pageStore) Done() ([]compare.Result, error) { return p.done, nil }

func (p *pageStore) Save(r compare.Result) error {
	p.done = append(p.done, r)
	p.s.emit(Event{Type: EvCompareRun, Data: r})
	return nil
}

// Compare runs a plan on the loaded data, one run after another, each on a fresh backend, skipping
// the runs in done (kept by the page from an earlier, interrupted plan). It reports the plan's
// progress, every finished run and the report after each run; Pause or Stop end it between steps,
// keeping the finished runs. plan.Base.Data is set to the dataset's spec.
func (s *Session) Compare(ctx context.Context, plan compare.Plan, done []compare.Result) error {
	if err := s.busy("compare"); err != nil {
		return err
	}
	if s.split == nil {
		return errors.New("compare: load data first")
	}
	plan.Base.Data = s.info.Spec
	if err := plan.Validate(); err != nil {
		return err
	}
	for _, r := range done {
		if r.Summary.Config.Data != s.info.Spec {
			return fmt.Errorf("compare: the kept runs were trained on %q, but the loaded data is %q", r.Summary.Config.Data, s.info.Spec)
		}
	}
	s.dropRun() // frees the current run's device memory; every run of the plan has its own backend
	ctx, finish := s.interruptible(ctx)
	defer finish()
	s.setState(Running, "comparing")
	store := &pageStore{s: s, done: done}
	s.cmp = compare.Build(plan, done)
	s.emit(Event{Type: EvCompareReport, Data: s.cmp})
	_, err := compare.Execute(ctx, plan, s.split, s.openChecked, store, func(e compare.Event) {
		s.emit(Event{Type: EvCompare, Data: e})
		if e.Result != nil {
			s.cmp = compare.Build(plan, store.done)
			s.emit(Event{Type: EvCompareReport, Data: s.cmp})
		}
	})
	runs := len(plan.Runs())
	switch {
	case err == nil:
		s.setState(Ready, fmt.Sprintf("comparison finished: %d runs", runs))
		return nil
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		s.setState(Ready, fmt.Sprintf("comparison stopped: %d of %d runs kept", len(store.done), runs))
		return nil
	default:
		s.setState(Ready, "error: "+err.Error())
		return err
	}
}

// openChecked opens a backend for one run of a plan — the first run takes the one Warm opened — and
// checks that the data fits it.
func (s *Session) openChecked() (backend.Backend, error) {
	if s.be == nil {
		be, err := s.open()
		if err != nil {
			return nil, err
		}
		s.be = be
	}
	be := s.be
	sc := s.scaleCheck()
	s.be = nil
	if !sc.Fits {
		be.Close()
		return nil, errors.New(sc.Why)
	}
	return be, nil
}
