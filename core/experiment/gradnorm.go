package experiment

import (
	"context"
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/optim"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/emc2ml/emc2/core/train"
)

// GradNormConfig is the paper's theory check (Yau et al. 2024, §5: ‖∇L‖² on a finite augmented set), scaled to ship: N images × 2 fixed
// augmentations (a finite state space), a small batch, plain SGD warming up over the whole run, and
// every EvalEvery iterations the exact global contrastive loss and its squared gradient norm over
// all 2N samples.
type GradNormConfig struct {
	N          int      // images (500 in the paper's subset)
	Batch      int      // B (4)
	Iterations int      // optimiser steps (1,250 = 10 epochs of 500 images at B = 4)
	EvalEvery  int      // iterations between exact measurements (25)
	Beta       float64  // inverse temperature (5)
	LR         float64  // peak learning rate of the linear warm-up (1e-3)
	Methods    []string // "simclr", "sogclr", "emc2-paper", "emc2-fresh", "emc2-iid"
	Seed       uint64
	Base       train.Config // encoder widths and augmentations come from here
}

// DefaultGradNorm is the shipped size of the experiment.
func DefaultGradNorm() GradNormConfig {
	return GradNormConfig{N: 500, Batch: 4, Iterations: 1250, EvalEvery: 25, Beta: 5, LR: 1e-3,
		Methods: []string{"simclr", "sogclr", "emc2-paper", "emc2-fresh", "emc2-iid"}, Seed: 1, Base: train.DefaultConfig()}
}

// GradNormPoint is one exact measurement.
type GradNormPoint struct {
	Method    string  `json:"method"`
	Iteration int     `json:"iteration"`
	Loss      float64 `json:"loss"`       // exact global contrastive loss over all 2N samples
	GradNorm2 float64 `json:"grad_norm2"` // ‖∇L‖² w.r.t. all parameters
	// GradErr2 is ‖g − ∇L‖², g the gradient the method's next step takes (its mini-batch estimate at
	// the same weights): bias and variance of the method's estimate of the global gradient. It is
	// not measured after the last iteration.
	GradErr2 *float64 `json:"grad_err2,omitempty"`
}

// FiniteViews returns a dataset of 2N images: view a ∈ {0, 1} of image i at index a·N + i, made once
// with the augmentation config and quantised back to uint8 — the pre-computed augmentations of the
// paper's preaugmentation.py.
func FiniteViews(src *data.Dataset, n int, cfg augment.Config, seed uint64) (*data.Dataset, error) {
	if n > src.N {
		return nil, fmt.Errorf("finite views: %d images requested, the data has %d", n, src.N)
	}
	key := rng.NewKey(seed)
	sz := src.ImageSize()
	out := &data.Dataset{Name: src.Name + "-finite", N: 2 * n, H: src.H, W: src.W, C: src.C, Classes: src.Classes,
		Pix: make([]uint8, 2*n*sz)}
	if src.Labels != nil {
		out.Labels = append(append([]int32(nil), src.Labels[:n]...), src.Labels[:n]...)
	}
	view := make([]float32, sz)
	for a := 0; a < 2; a++ {
		for i := 0; i < n; i++ {
			p := augment.Draw(cfg, key, uint32(a), uint32(i), src.H, src.W)
			augment.Apply(view, src.Image(i), src.H, src.W, src.C, src.H, src.W, p, cfg.NoiseStd, key, uint32(a), uint32(i))
			dst := out.Pix[(a*n+i)*sz : (a*n+i+1)*sz]
			for k, v := range view {
				dst[k] = uint8(math.Round(float64(v) * 255))
			}
		}
	}
	return out, nil
}

// GradNorm runs the experiment for every method on a fresh backend from newBackend, calling
// progress after each measurement.
func GradNorm(ctx context.Context, newBackend func() (backend.Backend, error), src *data.Dataset, cfg GradNormConfig, progress func(GradNormPoint)) ([]GradNormPoint, error) {
	views, err := FiniteViews(src, cfg.N, cfg.Base.Aug, cfg.Seed)
	if err != nil {
		return nil, err
	}
	all := make([]int, 2*cfg.N)
	for i := range all {
		all[i] = i
	}
	var out []GradNormPoint
	for _, m := range cfg.Methods {
		tc, err := MethodConfig(cfg.Base, m)
		if err != nil {
			return out, fmt.Errorf("gradnorm: %w", err)
		}
		epochs := max(1, int(math.Ceil(float64(cfg.Iterations*cfg.Batch)/float64(cfg.N))))
		tc.Batch, tc.Epochs, tc.Beta, tc.LR, tc.Seed = cfg.Batch, epochs, cfg.Beta, cfg.LR, cfg.Seed
		tc.Optimizer, tc.Momentum, tc.WeightDecay, tc.Warmup = optim.SGD, 0, 1e-4, float64(epochs) // all warm-up, as the paper's 10-epoch runs
		tc.FiniteViews, tc.LogEvery, tc.GlobalSize = true, cfg.EvalEvery, 0
		be, err := newBackend()
		if err != nil {
			return out, err
		}
		pts, err := gradNormOne(ctx, be, views, all, tc, cfg, m, progress)
		be.Close()
		out = append(out, pts...)
		if err != nil {
			return out, fmt.Errorf("gradnorm %s: %w", m, err)
		}
	}
	return out, nil
}

func gradNormOne(ctx context.Context, be backend.Backend, views *data.Dataset, all []int, tc train.Config, cfg GradNormConfig, method string, progress func(GradNormPoint)) ([]GradNormPoint, error) {
	t, err := train.NewTrainer(be, tc, views)
	if err != nil {
		return nil, err
	}
	emb := t.Embedder()
	var pts []GradNormPoint
	for it := 0; it <= cfg.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return pts, err
		}
		if it%cfg.EvalEvery != 0 && it != cfg.Iterations {
			t.TrainStep()
			continue
		}
		loss, grad, _, err := emb.ExactGlobalGrad(views, all, cfg.N, augment.Config{}, tc.Beta)
		if err != nil {
			return pts, err
		}
		p := GradNormPoint{Method: method, Iteration: it, Loss: loss}
		for _, g := range grad {
			p.GradNorm2 += g * g
		}
		if it < cfg.Iterations {
			t.TrainStep()
			g, err := t.StepGradient()
			if err != nil {
				return pts, err
			}
			var e2 float64
			for k, v := range g {
				d := float64(v) - grad[k]
				e2 += d * d
			}
			p.GradErr2 = &e2
		}
		pts = append(pts, p)
		if progress != nil {
			progress(p)
		}
	}
	return pts, nil
}
