package eval

import (
	"context"
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// Stopping rules of the probe's L-BFGS.
const (
	lbfgsMemory  = 10   // stored curvature pairs
	lbfgsGradTol = 1e-5 // stop when ||g||∞ falls below this
)

// objectiveFunc evaluates a differentiable objective at x, writes its gradient into grad and returns
// its value.
type objectiveFunc func(x, grad []float64) float64

// lbfgsResult is the outcome of minimiseLBFGS.
type lbfgsResult struct {
	x          []float64
	f          float64
	iterations int
}

// minimiseLBFGS minimises fn from x0 with gonum's L-BFGS for at most maxIter major iterations. The
// loss and its gradient come from one call of fn; a one-entry cache serves gonum's separate value and
// gradient requests at the same point. ctx is checked at every step, and ctx.Err() is returned
// unchanged when it is done. Gonum's optimiser is deterministic, so the probe is too.
func minimiseLBFGS(ctx context.Context, fn objectiveFunc, x0 []float64, maxIter int) (lbfgsResult, error) {
	var lastX, lastG []float64
	var lastF float64
	eval := func(x []float64) {
		if lastX != nil && slices.Equal(x, lastX) {
			return
		}
		if lastG == nil {
			lastG = make([]float64, len(x))
		}
		lastF = fn(x, lastG)
		lastX = append(lastX[:0], x...)
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { eval(x); return lastF },
		Grad: func(g, x []float64) { eval(x); copy(g, lastG) },
	}
	if err := ctx.Err(); err != nil {
		return lbfgsResult{}, err
	}
	settings := &optimize.Settings{
		MajorIterations:   maxIter,
		GradientThreshold: lbfgsGradTol,
		Converger:         &optimize.FunctionConverge{Relative: 1e-10, Iterations: 20},
		Recorder:          ctxRecorder{ctx},
	}
	res, err := optimize.Minimize(p, x0, settings, &optimize.LBFGS{Store: lbfgsMemory})
	if cerr := ctx.Err(); cerr != nil {
		return lbfgsResult{}, cerr
	}
	if res == nil {
		return lbfgsResult{}, err
	}
	// A line search that can make no more progress ends the run at the last accepted point.
	if err != nil && (math.IsNaN(res.F) || math.IsInf(res.F, 0)) {
		return lbfgsResult{}, err
	}
	return lbfgsResult{x: res.X, f: res.F, iterations: res.Stats.MajorIterations}, nil
}

// ctxRecorder stops the optimisation when its context is done.
type ctxRecorder struct{ ctx context.Context }

func (ctxRecorder) Init() error { return nil }

func (r ctxRecorder) Record(*optimize.Location, optimize.Operation, *optimize.Stats) error {
	if err := r.ctx.Err(); err != nil {
		return errors.Join(errCancelled, err)
	}
	return nil
}

var errCancelled = errors.New("cancelled")
