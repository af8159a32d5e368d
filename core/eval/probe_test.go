package eval

import (
	"context"
	"math"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinearProbeAccuracy(t *testing.T) {
	tests := []struct {
		name         string
		makeData     func() (trX []float32, trY []int32, teX []float32, teY []int32)
		d, classes   int
		minTrain     float64
		minTest      float64
		maxTest      float64
		wantMaxIters int
	}{
		{
			name: "separable gaussian blobs",
			makeData: func() ([]float32, []int32, []float32, []int32) {
				r := newRand(1)
				trX, trY := gaussianBlobs(r, 300, 8, 3, 6, 1)
				teX, teY := gaussianBlobs(r, 300, 8, 3, 6, 1)
				return trX, trY, teX, teY
			},
			d: 8, classes: 3, minTrain: 0.95, minTest: 0.95, maxTest: 1,
		},
		{
			name: "random labels are at chance on test",
			makeData: func() ([]float32, []int32, []float32, []int32) {
				r := newRand(2)
				trX := randomMatrix(r, 300, 16)
				teX := randomMatrix(r, 900, 16)
				trY := make([]int32, 300)
				teY := make([]int32, 900)
				for i := range trY {
					trY[i] = int32(r.IntN(3))
				}
				for i := range teY {
					teY[i] = int32(r.IntN(3))
				}
				return trX, trY, teX, teY
			},
			d: 16, classes: 3, minTrain: 0.4, minTest: 0.25, maxTest: 0.42,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trX, trY, teX, teY := tc.makeData()
			res, err := LinearProbe(context.Background(), trX, trY, teX, teY, tc.d, tc.classes, ProbeOptions{})
			require.NoError(t, err)
			assert.GreaterOrEqual(t, res.TrainAcc, tc.minTrain)
			assert.GreaterOrEqual(t, res.TestAcc, tc.minTest)
			assert.LessOrEqual(t, res.TestAcc, tc.maxTest)
			assert.Positive(t, res.Iterations)
			assert.LessOrEqual(t, res.Iterations, DefaultProbeMaxIter)
		})
	}
}

func TestLinearProbeOptions(t *testing.T) {
	r := newRand(3)
	trX, trY := gaussianBlobs(r, 200, 5, 4, 2, 1)
	teX, teY := gaussianBlobs(r, 100, 5, 4, 2, 1)
	tests := []struct {
		name    string
		opt     ProbeOptions
		maxIter int
	}{
		{name: "defaults", opt: ProbeOptions{}, maxIter: DefaultProbeMaxIter},
		{name: "iteration cap", opt: ProbeOptions{MaxIter: 3}, maxIter: 3},
		{name: "strong penalty", opt: ProbeOptions{Lambda: 10, MaxIter: 50}, maxIter: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := LinearProbe(context.Background(), trX, trY, teX, teY, 5, 4, tc.opt)
			require.NoError(t, err)
			assert.LessOrEqual(t, res.Iterations, tc.maxIter)
			assert.Positive(t, res.Iterations)
			assert.Greater(t, res.TestAcc, 0.25)
		})
	}
}

func TestLinearProbeEmptyTestSet(t *testing.T) {
	r := newRand(4)
	trX, trY := gaussianBlobs(r, 50, 3, 2, 4, 1)
	res, err := LinearProbe(context.Background(), trX, trY, nil, nil, 3, 2, ProbeOptions{})
	require.NoError(t, err)
	assert.Zero(t, res.TestAcc)
	assert.Greater(t, res.TrainAcc, 0.9)
}

func TestLinearProbeDeterministic(t *testing.T) {
	r := newRand(5)
	// More rows than one chunk, so the gradient is split across goroutines.
	trX, trY := gaussianBlobs(r, 3*probeChunkRows+17, 12, 5, 1.5, 1)
	teX, teY := gaussianBlobs(r, 200, 12, 5, 1.5, 1)
	run := func(procs int) ProbeResult {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		res, err := LinearProbe(context.Background(), trX, trY, teX, teY, 12, 5, ProbeOptions{MaxIter: 40})
		require.NoError(t, err)
		return res
	}
	first := run(0)
	assert.Equal(t, first, run(0))
	assert.Equal(t, first, run(1))
	assert.Equal(t, first, run(4))
}

func TestProbeObjectiveDeterministicAcrossProcs(t *testing.T) {
	r := newRand(6)
	n, d, classes := 2*probeChunkRows+5, 7, 3
	x := make([]float64, n*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(r.IntN(classes))
	}
	obj := newProbeObjective(newProbeData(x, y, d), classes, 0.1)
	theta := make([]float64, obj.dim())
	for i := range theta {
		theta[i] = r.NormFloat64()
	}
	eval := func(procs int) (float64, []float64) {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		g := make([]float64, obj.dim())
		return obj.eval(theta, g), g
	}
	f1, g1 := eval(1)
	f2, g2 := eval(3)
	assert.Equal(t, f1, f2)
	assert.Equal(t, g1, g2)
}

func TestProbeObjectiveGradient(t *testing.T) {
	r := newRand(7)
	tests := []struct {
		name          string
		n, d, classes int
		lambda        float64
	}{
		{name: "rows multiple of four", n: 12, d: 3, classes: 3, lambda: 0.5},
		{name: "ragged rows", n: 7, d: 4, classes: 2, lambda: 1e-4},
		{name: "single class", n: 5, d: 2, classes: 1, lambda: 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float64, tc.n*tc.d)
			for i := range x {
				x[i] = r.NormFloat64()
			}
			y := make([]int32, tc.n)
			for i := range y {
				y[i] = int32(r.IntN(tc.classes))
			}
			obj := newProbeObjective(newProbeData(x, y, tc.d), tc.classes, tc.lambda)
			theta := make([]float64, obj.dim())
			for i := range theta {
				theta[i] = r.NormFloat64()
			}
			g := make([]float64, obj.dim())
			scratch := make([]float64, obj.dim())
			f := obj.eval(theta, g)
			assert.False(t, math.IsNaN(f))
			const h = 1e-6
			for k := range theta {
				orig := theta[k]
				theta[k] = orig + h
				fp := obj.eval(theta, scratch)
				theta[k] = orig - h
				fm := obj.eval(theta, scratch)
				theta[k] = orig
				assert.InDelta(t, (fp-fm)/(2*h), g[k], 1e-6, "parameter %d", k)
			}
		})
	}
}

// countingCtx is a context whose Err starts returning context.Canceled
// after a fixed number of calls, to cancel deterministically mid-run.
type countingCtx struct {
	context.Context
	calls atomic.Int64
	limit int64
}

func (c *countingCtx) Err() error {
	if c.calls.Add(1) > c.limit {
		return context.Canceled
	}
	return nil
}

func TestLinearProbeCancellation(t *testing.T) {
	r := newRand(8)
	trX, trY := gaussianBlobs(r, 400, 10, 3, 1, 1)
	teX, teY := gaussianBlobs(r, 50, 10, 3, 1, 1)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{name: "cancelled before start", ctx: cancelled},
		{name: "cancelled mid-run", ctx: &countingCtx{Context: context.Background(), limit: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := LinearProbe(tc.ctx, trX, trY, teX, teY, 10, 3, ProbeOptions{})
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, context.Canceled, err, "ctx.Err() is returned unchanged")
			assert.Zero(t, res)
		})
	}
}

func TestLinearProbeErrors(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6} // 3×2
	y := []int32{0, 1, 0}
	nan := float32(math.NaN())
	var nilCtx context.Context
	tests := []struct {
		name       string
		ctx        context.Context
		trX, teX   []float32
		trY, teY   []int32
		d, classes int
		opt        ProbeOptions
		wantErr    string
	}{
		{name: "nil context", ctx: nilCtx, trX: x, trY: y, teX: x, teY: y, d: 2, classes: 2, wantErr: "nil context"},
		{name: "zero dimension", trX: x, trY: y, teX: x, teY: y, d: 0, classes: 2, wantErr: "dimension"},
		{name: "no classes", trX: x, trY: y, teX: x, teY: y, d: 2, classes: 0, wantErr: "classes"},
		{name: "empty train", trX: nil, trY: nil, teX: x, teY: y, d: 2, classes: 2, wantErr: "empty training set"},
		{name: "train shape mismatch", trX: x[:5], trY: y, teX: x, teY: y, d: 2, classes: 2, wantErr: "train features"},
		{name: "test shape mismatch", trX: x, trY: y, teX: x, teY: y[:2], d: 2, classes: 2, wantErr: "test features"},
		{name: "train label too large", trX: x, trY: []int32{0, 2, 1}, teX: x, teY: y, d: 2, classes: 2, wantErr: "train labels"},
		{name: "negative test label", trX: x, trY: y, teX: x, teY: []int32{0, -1, 1}, d: 2, classes: 2, wantErr: "test labels"},
		{name: "non-finite feature", trX: []float32{1, nan, 3, 4, 5, 6}, trY: y, teX: x, teY: y, d: 2, classes: 2, wantErr: "non-finite"},
		{name: "negative lambda", trX: x, trY: y, teX: x, teY: y, d: 2, classes: 2, opt: ProbeOptions{Lambda: -1}, wantErr: "Lambda"},
		{name: "NaN lambda", trX: x, trY: y, teX: x, teY: y, d: 2, classes: 2, opt: ProbeOptions{Lambda: math.NaN()}, wantErr: "Lambda"},
		{name: "negative max iter", trX: x, trY: y, teX: x, teY: y, d: 2, classes: 2, opt: ProbeOptions{MaxIter: -2}, wantErr: "MaxIter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil && tc.name != "nil context" {
				ctx = context.Background()
			}
			_, err := LinearProbe(ctx, tc.trX, tc.trY, tc.teX, tc.teY, tc.d, tc.classes, tc.opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "eval: linear probe")
		})
	}
}
