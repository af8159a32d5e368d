package eval

import (
	"context"
	"errors"
	"math"

	"gonum.org/v1/gonum/floats"
)

// L-BFGS settings used by LinearProbe.
const (
	lbfgsMemory   = 10    // number of stored curvature pairs
	lbfgsC1       = 1e-4  // Armijo (sufficient decrease) constant
	lbfgsC2       = 0.9   // strong-Wolfe curvature constant
	lbfgsGradTol  = 1e-5  // stop when ||g||∞ falls below this
	lbfgsFuncTol  = 1e-10 // stop when the relative decrease falls below this
	lbfgsMaxLS    = 20    // bracketing steps per line search
	lbfgsMaxZoom  = 30    // zoom steps per line search
	lbfgsMaxAlpha = 1e10  // largest step tried by the bracketing phase
)

// errLineSearch reports that no acceptable step was found along a descent
// direction (typically because the optimum has been reached to within
// floating-point precision).
var errLineSearch = errors.New("line search found no acceptable step")

// objectiveFunc evaluates a differentiable objective at x, writes its
// gradient into grad and returns its value.
type objectiveFunc func(x, grad []float64) float64

// lbfgsResult is the outcome of minimiseLBFGS.
type lbfgsResult struct {
	x          []float64
	f          float64
	iterations int
}

// minimiseLBFGS minimises fn from x0 with limited-memory BFGS and a
// strong-Wolfe line search (Nocedal & Wright, algorithms 7.4, 3.5 and 3.6).
// It runs at most maxIter major iterations and checks ctx before every
// function evaluation, returning ctx.Err() unchanged when it is done. A line
// search failure ends the run at the last accepted point without error.
// The procedure is fully deterministic.
func minimiseLBFGS(ctx context.Context, fn objectiveFunc, x0 []float64, maxIter int) (lbfgsResult, error) {
	dim := len(x0)
	ls := &lineSearch{ctx: ctx, fn: fn}
	x := append([]float64(nil), x0...)
	g := make([]float64, dim)
	if err := ctx.Err(); err != nil {
		return lbfgsResult{}, err
	}
	f := fn(x, g)

	s := make([][]float64, lbfgsMemory)
	y := make([][]float64, lbfgsMemory)
	rho := make([]float64, lbfgsMemory)
	for i := range s {
		s[i] = make([]float64, dim)
		y[i] = make([]float64, dim)
	}
	alpha := make([]float64, lbfgsMemory)
	stored, newest := 0, -1
	p := make([]float64, dim)
	xNew := make([]float64, dim)
	gNew := make([]float64, dim)

	iter := 0
	for iter < maxIter && floats.Norm(g, math.Inf(1)) > lbfgsGradTol {
		if err := ctx.Err(); err != nil {
			return lbfgsResult{}, err
		}
		// Two-loop recursion: p = -H·g.
		copy(p, g)
		for k := 0; k < stored; k++ {
			j := (newest - k + lbfgsMemory) % lbfgsMemory
			alpha[j] = rho[j] * floats.Dot(s[j], p)
			floats.AddScaled(p, -alpha[j], y[j])
		}
		if stored > 0 {
			floats.Scale(1/(rho[newest]*floats.Dot(y[newest], y[newest])), p)
		}
		for k := stored - 1; k >= 0; k-- {
			j := (newest - k + lbfgsMemory) % lbfgsMemory
			beta := rho[j] * floats.Dot(y[j], p)
			floats.AddScaled(p, alpha[j]-beta, s[j])
		}
		floats.Scale(-1, p)
		gtp := floats.Dot(g, p)
		step := 1.0
		if !(gtp < 0) || stored == 0 {
			// Not a descent direction (or first step): restart from
			// steepest descent with a unit-length first trial.
			stored, newest = 0, -1
			copy(p, g)
			floats.Scale(-1, p)
			gtp = -floats.Dot(g, g)
			step = 1 / math.Sqrt(-gtp)
		}
		fNew, err := ls.search(x, f, g, p, gtp, step, xNew, gNew)
		if err != nil {
			if errors.Is(err, errLineSearch) {
				break
			}
			return lbfgsResult{}, err
		}
		// Store the curvature pair when it keeps H positive definite.
		j := (newest + 1) % lbfgsMemory
		floats.SubTo(s[j], xNew, x)
		floats.SubTo(y[j], gNew, g)
		if sy := floats.Dot(s[j], y[j]); sy > 1e-12*floats.Dot(y[j], y[j]) && sy > 0 {
			rho[j] = 1 / sy
			newest = j
			stored = min(stored+1, lbfgsMemory)
		}
		iter++
		decrease := f - fNew
		x, xNew = xNew, x
		g, gNew = gNew, g
		f = fNew
		if decrease <= lbfgsFuncTol*math.Max(math.Max(math.Abs(f), math.Abs(f+decrease)), 1) {
			break
		}
	}
	return lbfgsResult{x: x, f: f, iterations: iter}, nil
}

// lineSearch finds a step satisfying the strong Wolfe conditions.
type lineSearch struct {
	ctx context.Context
	fn  objectiveFunc
	// scratch buffers for the low end of the zoom interval
	xLo, gLo []float64
}

// search looks along p from x (value f, gradient g, directional derivative
// gtp < 0), starting with step. On success it leaves the accepted point and
// its gradient in xOut and gOut and returns its value.
func (l *lineSearch) search(x []float64, f float64, g, p []float64, gtp, step float64, xOut, gOut []float64) (float64, error) {
	if len(l.xLo) != len(x) {
		l.xLo = make([]float64, len(x))
		l.gLo = make([]float64, len(x))
	}
	eval := func(a float64, xt, gt []float64) (float64, float64, error) {
		if err := l.ctx.Err(); err != nil {
			return 0, 0, err
		}
		floats.AddScaledTo(xt, x, a, p)
		ft := l.fn(xt, gt)
		return ft, floats.Dot(gt, p), nil
	}
	// The low end starts at step 0, i.e. at x itself.
	lo, fLo, dLo := 0.0, f, gtp
	copy(l.xLo, x)
	copy(l.gLo, g)
	hi, fHi, dHi := 0.0, 0.0, 0.0
	a := step
	bracketed := false
	for i := 0; i < lbfgsMaxLS; i++ {
		fa, da, err := eval(a, xOut, gOut)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(fa) || math.IsInf(fa, 0) || fa > f+lbfgsC1*a*gtp || (i > 0 && fa >= fLo) {
			hi, fHi, dHi = a, fa, da
			bracketed = true
			break
		}
		if math.Abs(da) <= -lbfgsC2*gtp {
			return fa, nil
		}
		if da >= 0 {
			hi, fHi, dHi = lo, fLo, dLo
			lo, fLo, dLo = a, fa, da
			copy(l.xLo, xOut)
			copy(l.gLo, gOut)
			bracketed = true
			break
		}
		lo, fLo, dLo = a, fa, da
		copy(l.xLo, xOut)
		copy(l.gLo, gOut)
		if a >= lbfgsMaxAlpha {
			break
		}
		a = math.Min(4*a, lbfgsMaxAlpha)
	}
	if bracketed {
		for j := 0; j < lbfgsMaxZoom; j++ {
			a = cubicStep(lo, fLo, dLo, hi, fHi, dHi)
			fa, da, err := eval(a, xOut, gOut)
			if err != nil {
				return 0, err
			}
			if math.IsNaN(fa) || math.IsInf(fa, 0) || fa > f+lbfgsC1*a*gtp || fa >= fLo {
				hi, fHi, dHi = a, fa, da
			} else {
				if math.Abs(da) <= -lbfgsC2*gtp {
					return fa, nil
				}
				if da*(hi-lo) >= 0 {
					hi, fHi, dHi = lo, fLo, dLo
				}
				lo, fLo, dLo = a, fa, da
				copy(l.xLo, xOut)
				copy(l.gLo, gOut)
			}
			if math.Abs(hi-lo) <= 1e-16*math.Max(math.Abs(lo), 1) {
				break
			}
		}
	}
	// Fall back to the best sufficient-decrease point seen, if any.
	if lo > 0 && fLo < f {
		copy(xOut, l.xLo)
		copy(gOut, l.gLo)
		return fLo, nil
	}
	return 0, errLineSearch
}

// cubicStep returns the minimiser of the cubic interpolating the two
// points, safeguarded to the middle 80% of the interval (bisection when the
// cubic is degenerate).
func cubicStep(a, fa, da, b, fb, db float64) float64 {
	lo, hi := math.Min(a, b), math.Max(a, b)
	width := hi - lo
	mid := lo + width/2
	d1 := da + db - 3*(fa-fb)/(a-b)
	disc := d1*d1 - da*db
	if !(disc >= 0) || math.IsInf(disc, 0) {
		return mid
	}
	d2 := math.Copysign(math.Sqrt(disc), b-a)
	den := db - da + 2*d2
	if den == 0 {
		return mid
	}
	t := b - (b-a)*(db+d2-d1)/den
	if math.IsNaN(t) || t < lo+0.1*width || t > hi-0.1*width {
		if math.IsNaN(t) {
			return mid
		}
		return math.Min(math.Max(t, lo+0.1*width), hi-0.1*width)
	}
	return t
}
