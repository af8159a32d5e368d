package eval

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// Default probe hyper-parameters, used when the corresponding ProbeOptions
// field is zero.
const (
	// DefaultProbeLambda is the default L2 penalty strength of LinearProbe.
	DefaultProbeLambda = 1e-4
	// DefaultProbeMaxIter is the default L-BFGS iteration cap of LinearProbe.
	DefaultProbeMaxIter = 300
)

const (
	// stdFloor is the minimum per-dimension standard deviation used when
	// standardising features, so constant dimensions do not divide by zero.
	stdFloor = 1e-6
	// probeChunkRows is the minimum number of rows per gradient work unit.
	probeChunkRows = 256
	// probeMaxChunks caps the number of work units (and of partial-gradient
	// buffers) for large training sets.
	probeMaxChunks = 64
)

// ProbeOptions configures LinearProbe. The zero value selects the defaults.
type ProbeOptions struct {
	// Lambda is the L2 penalty strength: the objective is the mean
	// cross-entropy plus Lambda/2·||W||² (the bias is not penalised).
	// Zero selects DefaultProbeLambda; negative values are rejected.
	Lambda float64
	// MaxIter caps the number of L-BFGS major iterations.
	// Zero selects DefaultProbeMaxIter; negative values are rejected.
	MaxIter int
}

// ProbeResult reports the outcome of LinearProbe.
type ProbeResult struct {
	// TrainAcc is the accuracy of the fitted probe on the training set.
	TrainAcc float64
	// TestAcc is the accuracy on the test set (0 when the test set is empty).
	TestAcc float64
	// Iterations is the number of L-BFGS major iterations performed.
	Iterations int
}

// LinearProbe trains a multinomial logistic-regression classifier (softmax
// with bias) on frozen features and reports its train and test accuracy.
//
// trainX is a len(trainY)×d row-major matrix and testX a len(testY)×d one;
// labels must lie in [0, classes). Features are standardised with the
// training set's per-dimension mean and standard deviation (floored at
// 1e-6); the same transform is applied to the test set. The gradient is
// computed in parallel over fixed row chunks and reduced in order, so the
// result is deterministic. Predictions break ties towards the smaller class.
//
// The objective, mean cross-entropy plus Lambda/2·||W||², is minimised from
// zero with gonum's L-BFGS (gonum.org/v1/gonum/optimize, memory 10) until
// MaxIter iterations, ||∇||∞ < 1e-5, or no relative decrease for 20 iterations.
//
// ctx is checked between iterations and function evaluations; when it is
// done LinearProbe stops and returns ctx.Err() unchanged. If the line search
// cannot make further progress, the last accepted point is used.
func LinearProbe(ctx context.Context, trainX []float32, trainY []int32, testX []float32, testY []int32, d, classes int, opt ProbeOptions) (ProbeResult, error) {
	if ctx == nil {
		return ProbeResult{}, errors.New("eval: linear probe: nil context")
	}
	if err := ctx.Err(); err != nil {
		return ProbeResult{}, err
	}
	if classes < 1 {
		return ProbeResult{}, fmt.Errorf("eval: linear probe: classes=%d must be positive", classes)
	}
	nTrain, nTest := len(trainY), len(testY)
	if nTrain == 0 {
		return ProbeResult{}, errors.New("eval: linear probe: empty training set")
	}
	if err := checkMatrix("linear probe train features", trainX, nTrain, d); err != nil {
		return ProbeResult{}, err
	}
	if err := checkMatrix("linear probe test features", testX, nTest, d); err != nil {
		return ProbeResult{}, err
	}
	if classes > math.MaxInt/(d+1) {
		return ProbeResult{}, fmt.Errorf("eval: linear probe: %d classes × %d dimensions overflows int", classes, d)
	}
	if err := checkLabels("linear probe train labels", trainY, classes); err != nil {
		return ProbeResult{}, err
	}
	if err := checkLabels("linear probe test labels", testY, classes); err != nil {
		return ProbeResult{}, err
	}
	if err := checkFinite("linear probe train features", trainX); err != nil {
		return ProbeResult{}, err
	}
	if err := checkFinite("linear probe test features", testX); err != nil {
		return ProbeResult{}, err
	}
	lambda := opt.Lambda
	if math.IsNaN(lambda) || math.IsInf(lambda, 0) || lambda < 0 {
		return ProbeResult{}, fmt.Errorf("eval: linear probe: Lambda=%v must be finite and non-negative", lambda)
	}
	if lambda == 0 {
		lambda = DefaultProbeLambda
	}
	maxIter := opt.MaxIter
	if maxIter < 0 {
		return ProbeResult{}, fmt.Errorf("eval: linear probe: MaxIter=%d must be non-negative", maxIter)
	}
	if maxIter == 0 {
		maxIter = DefaultProbeMaxIter
	}

	mean, std := columnStats(trainX, nTrain, d)
	train := newProbeData(standardise(trainX, mean, std), trainY, d)
	test := newProbeData(standardise(testX, mean, std), testY, d)

	obj := newProbeObjective(train, classes, lambda)
	res, err := minimiseLBFGS(ctx, obj.eval, make([]float64, obj.dim()), maxIter)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return ProbeResult{}, cerr
		}
		return ProbeResult{}, fmt.Errorf("eval: linear probe: L-BFGS: %w", err)
	}
	if math.IsNaN(res.f) || math.IsInf(res.f, 0) {
		return ProbeResult{}, fmt.Errorf("eval: linear probe: L-BFGS ended at non-finite loss %v", res.f)
	}
	theta := res.x
	out := ProbeResult{
		TrainAcc:   train.accuracy(theta, classes),
		Iterations: res.iterations,
	}
	if nTest > 0 {
		out.TestAcc = test.accuracy(theta, classes)
	}
	return out, nil
}

// columnStats returns the per-column mean and standard deviation (population,
// floored at stdFloor) of the n×d matrix x.
func columnStats(x []float32, n, d int) (mean, std []float64) {
	mean = make([]float64, d)
	std = make([]float64, d)
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			c := float64(v) - mean[j]
			std[j] += c * c
		}
	}
	for j := range std {
		std[j] = math.Max(math.Sqrt(std[j]/float64(n)), stdFloor)
	}
	return mean, std
}

// standardise returns (x - mean) / std column-wise as float64.
func standardise(x []float32, mean, std []float64) []float64 {
	d := len(mean)
	out := make([]float64, len(x))
	inv := make([]float64, d)
	for j, s := range std {
		inv[j] = 1 / s
	}
	for i := 0; i < len(x); i += d {
		row, dst := x[i:i+d], out[i:i+d]
		for j, v := range row {
			dst[j] = (float64(v) - mean[j]) * inv[j]
		}
	}
	return out
}

// probeData is a standardised feature matrix with its labels, split into
// fixed row chunks whose boundaries depend only on the row count.
type probeData struct {
	x      []float64
	y      []int32
	n, d   int
	chunks int
	rows   int // rows per chunk (the last chunk may be shorter)
}

func newProbeData(x []float64, y []int32, d int) *probeData {
	n := len(y)
	rows := probeChunkRows
	if n > rows*probeMaxChunks {
		rows = (n + probeMaxChunks - 1) / probeMaxChunks
	}
	chunks := (n + rows - 1) / rows
	return &probeData{x: x, y: y, n: n, d: d, chunks: chunks, rows: rows}
}

func (p *probeData) bounds(chunk int) (lo, hi int) {
	lo = chunk * p.rows
	hi = min(lo+p.rows, p.n)
	return lo, hi
}

// logits writes z[r*C+c] = W_c·x_{lo+r} + b_c for the rows lo..lo+len(z)/C-1
// (at most four rows).
func (p *probeData) logits(theta []float64, classes, lo, rows int, z []float64) {
	d := p.d
	w, b := theta[:classes*d], theta[classes*d:]
	x := p.x
	if rows == 4 {
		x0 := x[lo*d : (lo+1)*d]
		x1 := x[(lo+1)*d : (lo+2)*d]
		x2 := x[(lo+2)*d : (lo+3)*d]
		x3 := x[(lo+3)*d : (lo+4)*d]
		for c := 0; c < classes; c++ {
			s0, s1, s2, s3 := dot4(x0, x1, x2, x3, w[c*d:(c+1)*d])
			z[c] = s0 + b[c]
			z[classes+c] = s1 + b[c]
			z[2*classes+c] = s2 + b[c]
			z[3*classes+c] = s3 + b[c]
		}
		return
	}
	for r := 0; r < rows; r++ {
		xr := x[(lo+r)*d : (lo+r+1)*d]
		for c := 0; c < classes; c++ {
			z[r*classes+c] = dot(xr, w[c*d:(c+1)*d]) + b[c]
		}
	}
}

// lossGrad accumulates the summed cross-entropy of chunk rows into g (the
// unscaled, unpenalised gradient, which it overwrites) and returns the summed
// loss.
func (p *probeData) lossGrad(theta []float64, classes, chunk int, g []float64) float64 {
	d := p.d
	clear(g)
	gw, gb := g[:classes*d], g[classes*d:]
	lo, hi := p.bounds(chunk)
	z := make([]float64, 4*classes)
	var loss float64
	for i := lo; i < hi; i += 4 {
		rows := min(4, hi-i)
		p.logits(theta, classes, i, rows, z)
		for r := 0; r < rows; r++ {
			zr := z[r*classes : (r+1)*classes]
			m := zr[0]
			for _, v := range zr[1:] {
				if v > m {
					m = v
				}
			}
			var s float64
			for c, v := range zr {
				e := math.Exp(v - m)
				zr[c] = e
				s += e
			}
			y := p.y[i+r]
			loss += math.Log(s) - math.Log(zr[y])
			inv := 1 / s
			for c := range zr {
				zr[c] *= inv
			}
			zr[y]--
		}
		if rows == 4 {
			x0 := p.x[i*d : (i+1)*d]
			x1 := p.x[(i+1)*d : (i+2)*d]
			x2 := p.x[(i+2)*d : (i+3)*d]
			x3 := p.x[(i+3)*d : (i+4)*d]
			for c := 0; c < classes; c++ {
				g0, g1, g2, g3 := z[c], z[classes+c], z[2*classes+c], z[3*classes+c]
				gb[c] += g0 + g1 + g2 + g3
				dst := gw[c*d : (c+1)*d]
				for k := range dst {
					dst[k] += g0*x0[k] + g1*x1[k] + g2*x2[k] + g3*x3[k]
				}
			}
			continue
		}
		for r := 0; r < rows; r++ {
			xr := p.x[(i+r)*d : (i+r+1)*d]
			for c := 0; c < classes; c++ {
				gr := z[r*classes+c]
				gb[c] += gr
				dst := gw[c*d : (c+1)*d]
				for k, v := range xr {
					dst[k] += gr * v
				}
			}
		}
	}
	return loss
}

// accuracy returns the fraction of rows whose arg-max logit (ties towards the
// smaller class) equals the label.
func (p *probeData) accuracy(theta []float64, classes int) float64 {
	if p.n == 0 {
		return 0
	}
	correct := make([]int, p.chunks)
	parallelFor(p.chunks, func(_, chunk int) {
		lo, hi := p.bounds(chunk)
		z := make([]float64, 4*classes)
		for i := lo; i < hi; i += 4 {
			rows := min(4, hi-i)
			p.logits(theta, classes, i, rows, z)
			for r := 0; r < rows; r++ {
				zr := z[r*classes : (r+1)*classes]
				best := 0
				for c, v := range zr {
					if v > zr[best] {
						best = c
					}
				}
				if int32(best) == p.y[i+r] {
					correct[chunk]++
				}
			}
		}
	})
	total := 0
	for _, c := range correct {
		total += c
	}
	return float64(total) / float64(p.n)
}

// probeObjective is the penalised mean cross-entropy over the training set.
type probeObjective struct {
	data     *probeData
	classes  int
	lambda   float64
	partials [][]float64
	losses   []float64
}

func newProbeObjective(data *probeData, classes int, lambda float64) *probeObjective {
	o := &probeObjective{data: data, classes: classes, lambda: lambda}
	o.partials = make([][]float64, data.chunks)
	for i := range o.partials {
		o.partials[i] = make([]float64, o.dim())
	}
	o.losses = make([]float64, data.chunks)
	return o
}

// dim is the number of parameters: a classes×d weight matrix (class-major)
// followed by classes biases.
func (o *probeObjective) dim() int { return o.classes * (o.data.d + 1) }

// eval writes the gradient at theta into g and returns the objective. The
// per-chunk partial sums are reduced in chunk order, so the result does not
// depend on scheduling.
func (o *probeObjective) eval(theta, g []float64) float64 {
	parallelFor(o.data.chunks, func(_, chunk int) {
		o.losses[chunk] = o.data.lossGrad(theta, o.classes, chunk, o.partials[chunk])
	})
	copy(g, o.partials[0])
	loss := o.losses[0]
	for c := 1; c < o.data.chunks; c++ {
		loss += o.losses[c]
		floats.Add(g, o.partials[c])
	}
	invN := 1 / float64(o.data.n)
	floats.Scale(invN, g)
	nw := o.classes * o.data.d
	w := theta[:nw]
	floats.AddScaled(g[:nw], o.lambda, w)
	return loss*invN + 0.5*o.lambda*floats.Dot(w, w)
}
