package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFiniteViewsLayout(t *testing.T) {
	s, err := data.Default()
	require.NoError(t, err)
	cfg := DefaultGradNorm().Base.Aug
	v, err := FiniteViews(s.Train, 10, cfg, 3)
	require.NoError(t, err)
	require.Equal(t, 20, v.N)
	assert.Equal(t, s.Train.Labels[:10], v.Labels[:10])
	assert.Equal(t, s.Train.Labels[:10], v.Labels[10:])
	assert.NotEqual(t, v.Image(0), v.Image(10), "the two views of an image differ")
	again, err := FiniteViews(s.Train, 10, cfg, 3)
	require.NoError(t, err)
	assert.Equal(t, v.Pix, again.Pix, "fixed: the same views every time")
	_, err = FiniteViews(s.Train, s.Train.N+1, cfg, 3)
	assert.Error(t, err)
}

// TestGradNormQuick runs the experiment's small size: every method yields a measurement every
// EvalEvery iterations, finite, with a positive gradient norm, and training lowers the exact loss.
func TestGradNormQuick(t *testing.T) {
	s, err := data.Default()
	require.NoError(t, err)
	cfg := DefaultGradNorm()
	cfg.N, cfg.Iterations, cfg.EvalEvery, cfg.LR = 48, 60, 20, 0.01
	cfg.Base.Channels, cfg.Base.Hidden, cfg.Base.Proj = []int{8}, 16, 8
	newCPU := func() (backend.Backend, error) { return cpu.New(), nil }
	pts, err := GradNorm(context.Background(), newCPU, s.Train, cfg, nil)
	require.NoError(t, err)
	require.Len(t, pts, 4*len(cfg.Methods))
	first := map[string]GradNormPoint{}
	for _, p := range pts {
		require.False(t, math.IsNaN(p.Loss) || math.IsInf(p.Loss, 0), "%+v", p)
		require.Positive(t, p.GradNorm2)
		if p.Iteration < cfg.Iterations {
			require.NotNil(t, p.GradErr2, "%+v", p)
			require.Positive(t, *p.GradErr2, "a batch of 4 of 48 images does not give the global gradient")
		} else {
			require.Nil(t, p.GradErr2, "no step follows the last measurement")
		}
		if p.Iteration == 0 {
			first[p.Method] = p
		}
		if p.Iteration == cfg.Iterations {
			assert.Less(t, p.Loss, first[p.Method].Loss, "%s lowers the exact loss", p.Method)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = GradNorm(ctx, newCPU, s.Train, cfg, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestGradErrZeroAtFullBatch checks the gradient-error column where it must vanish: SimCLR with the
// whole finite dataset in one batch optimises exactly the global loss, so its step gradient is ∇L
// (up to float32 rounding).
func TestGradErrZeroAtFullBatch(t *testing.T) {
	s, err := data.Default()
	require.NoError(t, err)
	cfg := DefaultGradNorm()
	cfg.N, cfg.Batch, cfg.Iterations, cfg.EvalEvery, cfg.Methods = 16, 16, 3, 1, []string{"simclr", "emc2-fresh"}
	cfg.Base.Channels, cfg.Base.Hidden, cfg.Base.Proj = []int{4}, 16, 8
	pts, err := GradNorm(context.Background(), func() (backend.Backend, error) { return cpu.New(), nil }, s.Train, cfg, nil)
	require.NoError(t, err)
	for _, p := range pts {
		if p.GradErr2 == nil {
			continue
		}
		rel := *p.GradErr2 / p.GradNorm2
		t.Logf("%s it %d: ‖g − ∇L‖²/‖∇L‖² = %.3g", p.Method, p.Iteration, rel)
		if p.Method == "simclr" {
			assert.Less(t, rel, 1e-8, "simclr at B = n, iteration %d", p.Iteration)
		} else {
			assert.Greater(t, rel, 1e-4, "EMC² samples its negatives, so even at B = n its step is an estimate")
		}
	}
}
