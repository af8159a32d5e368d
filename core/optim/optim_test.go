package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two segments: a weight (decayed) and a bias (not decayed).
var segs = []Segment{{Name: "w", Off: 0, Len: 2, Decay: true}, {Name: "b", Off: 2, Len: 1}}

func TestStepMatchesHandComputation(t *testing.T) {
	for _, tc := range []struct {
		name string
		hp   Params
		want func(p, g []float64) []float64 // first step from zero state
	}{
		{"sgd", Params{Kind: SGD, LR: 0.1, Momentum: 0.9, WeightDecay: 0.01},
			func(p, g []float64) []float64 {
				return []float64{p[0] - 0.1*(g[0]+0.01*p[0]), p[1] - 0.1*(g[1]+0.01*p[1]), p[2] - 0.1*g[2]}
			}},
		{"adam", Params{Kind: Adam, LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
			func(p, g []float64) []float64 { // first Adam step moves each coordinate by lr·sign(g)
				out := make([]float64, 3)
				for i := range out {
					out[i] = p[i] - 0.01*g[i]/(math.Abs(g[i])+1e-8)
				}
				return out
			}},
		{"lars", Params{Kind: LARS, LR: 0.5, Momentum: 0.9, WeightDecay: 0.1, Trust: 1e-3},
			func(p, g []float64) []float64 {
				d0, d1 := g[0]+0.1*p[0], g[1]+0.1*p[1]
				q := 1e-3 * math.Hypot(p[0], p[1]) / math.Hypot(d0, d1)
				return []float64{p[0] - 0.5*q*d0, p[1] - 0.5*q*d1, p[2] - 0.5*g[2]}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := []float32{1, -2, 0.5}
			g := []float32{0.3, 0.4, -1}
			m, v := make([]float32, 3), make([]float32, 3)
			hp := tc.hp
			hp.T, hp.Segments = 1, segs
			want := tc.want([]float64{1, -2, 0.5}, []float64{0.3, 0.4, -1})
			Step(p, g, m, v, hp)
			for i := range p {
				assert.InDelta(t, want[i], float64(p[i]), 1e-6, "coordinate %d", i)
			}
			assert.Equal(t, []float32{0.3, 0.4, -1}, g, "gradient untouched")
		})
	}
}

func TestMomentumAccumulates(t *testing.T) {
	p, g, m, v := []float32{0, 0, 0}, []float32{1, 1, 1}, make([]float32, 3), make([]float32, 3)
	hp := Params{Kind: SGD, LR: 1, Momentum: 0.5, Segments: segs}
	Step(p, g, m, v, hp)
	Step(p, g, m, v, hp)
	assert.Equal(t, []float32{-2.5, -2.5, -2.5}, p) // −1, then −(0.5+1)
}

func TestAdamMinimisesQuadratic(t *testing.T) {
	p, m, v := []float32{3, -4, 2}, make([]float32, 3), make([]float32, 3)
	for step := 1; step <= 2000; step++ {
		g := []float32{2 * p[0], 2 * p[1], 2 * p[2]}
		Step(p, g, m, v, Params{Kind: Adam, LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: step, Segments: segs})
	}
	for _, x := range p {
		assert.InDelta(t, 0, x, 1e-2)
	}
}

func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		epoch, warmup, total, want float64
	}{
		{0, 10, 100, 0}, {5, 10, 100, 0.5}, {10, 10, 100, 1}, {55, 10, 100, 0.5}, {100, 10, 100, 0},
		{5, 10, 10, 0.5}, // the subset runs: all warm-up
		{3, 0, 4, 0.5 * (1 + math.Cos(math.Pi*3/4))},
	} {
		assert.InDelta(t, tc.want, float64(Schedule(1, tc.epoch, tc.warmup, tc.total)), 1e-6, "%+v", tc)
	}
}

func TestParseKind(t *testing.T) {
	for _, s := range []string{"sgd", "adam", "lars"} {
		k, err := ParseKind(s)
		require.NoError(t, err)
		assert.Equal(t, Kind(s), k)
	}
	_, err := ParseKind("adagrad")
	assert.ErrorContains(t, err, "adagrad")
}
