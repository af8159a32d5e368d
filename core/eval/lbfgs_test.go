package eval

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMinimiseLBFGS(t *testing.T) {
	tests := []struct {
		name    string
		fn      objectiveFunc
		x0      []float64
		want    []float64
		maxIter int
		tol     float64
	}{
		{
			name: "ill-conditioned quadratic",
			fn: func(x, g []float64) float64 {
				var f float64
				for i, v := range x {
					w := math.Pow(10, float64(i)/2) // condition number 10^4.5
					c := v - float64(i)
					f += 0.5 * w * c * c
					g[i] = w * c
				}
				return f
			},
			x0:      make([]float64, 10),
			want:    []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			maxIter: 200,
			tol:     1e-4,
		},
		{
			name: "rosenbrock",
			fn: func(x, g []float64) float64 {
				a, b := 1-x[0], x[1]-x[0]*x[0]
				g[0] = -2*a - 400*x[0]*b
				g[1] = 200 * b
				return a*a + 100*b*b
			},
			x0:      []float64{-1.2, 1},
			want:    []float64{1, 1},
			maxIter: 200,
			tol:     1e-4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := minimiseLBFGS(context.Background(), tc.fn, tc.x0, tc.maxIter)
			require.NoError(t, err)
			assert.InDeltaSlice(t, tc.want, res.x, tc.tol)
			assert.Less(t, res.iterations, tc.maxIter)
			again, err := minimiseLBFGS(context.Background(), tc.fn, tc.x0, tc.maxIter)
			require.NoError(t, err)
			assert.Equal(t, res, again, "deterministic")
		})
	}
}

func TestMinimiseLBFGSLimitsAndCancel(t *testing.T) {
	quad := func(x, g []float64) float64 {
		var f float64
		for i, v := range x {
			f += float64(i+1) * v * v
			g[i] = 2 * float64(i+1) * v
		}
		return f
	}
	x0 := []float64{1, -2, 3, -4, 5}
	res, err := minimiseLBFGS(context.Background(), quad, x0, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, res.iterations)
	assert.Equal(t, []float64{1, -2, 3, -4, 5}, x0, "x0 is not modified")

	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err = minimiseLBFGS(ctx, func(x, g []float64) float64 {
		calls++
		if calls == 3 {
			cancel()
		}
		return quad(x, g)
	}, x0, 100)
	assert.Equal(t, context.Canceled, err)
	assert.Equal(t, 3, calls, "no evaluation after cancellation")
}
