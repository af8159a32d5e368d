package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/experiment"
	"gonum.org/v1/plot/plotter"
)

func init() { experiments["gradnorm"] = runGradNorm }

// runGradNorm is `emc2 experiment gradnorm`: the exact global loss and ‖∇L‖² along training at B = 4
// on 500 images × 2 fixed augmentations, per method; CSV, JSON and log-scale PNGs.
func runGradNorm(ctx context.Context, args []string) error {
	cfg := experiment.DefaultGradNorm()
	fs := flag.NewFlagSet("experiment gradnorm", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "a small size for tests: 64 images, 100 iterations")
	fs.IntVar(&cfg.N, "n", cfg.N, "images (each with 2 fixed augmentations)")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "batch size B")
	fs.IntVar(&cfg.Iterations, "iterations", cfg.Iterations, "SGD iterations")
	fs.IntVar(&cfg.EvalEvery, "eval-every", cfg.EvalEvery, "iterations between exact measurements")
	fs.Float64Var(&cfg.Beta, "beta", cfg.Beta, "inverse temperature")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "peak learning rate (linear warm-up over the whole run)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	methods := fs.String("methods", strings.Join(cfg.Methods, ","), "methods: simclr, sogclr, emc2-paper, emc2-fresh, emc2-iid")
	backendName := fs.String("backend", "auto", "auto | gpu | cpu")
	out := fs.String("out", "", "output folder (default runs/experiments/gradnorm-<time>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Methods = strings.Split(*methods, ",")
	if *quick {
		cfg.N, cfg.Iterations = 64, 100
		cfg.Base.Channels, cfg.Base.Hidden, cfg.Base.Proj = []int{8, 16}, 32, 16
	}
	if cfg.N < 2 || cfg.Batch < 2 || cfg.Iterations < 1 || cfg.EvalEvery < 1 || cfg.Batch > cfg.N {
		return fmt.Errorf("gradnorm: need N ≥ B ≥ 2 and positive iterations / eval interval")
	}
	dir, err := experimentDir(*out, "gradnorm")
	if err != nil {
		return err
	}
	split, err := data.Default()
	if err != nil {
		return err
	}
	fmt.Printf("gradnorm: %d images × 2 fixed views, B = %d, %d SGD iterations (lr → %g), β = %g, exact loss and ‖∇L‖² every %d\n",
		cfg.N, cfg.Batch, cfg.Iterations, cfg.LR, cfg.Beta, cfg.EvalEvery)
	start := time.Now()
	newBackend := func() (backend.Backend, error) { return openBackend(*backendName, os.Stderr) }
	pts, err := experiment.GradNorm(ctx, newBackend, split.Train, cfg, func(p experiment.GradNormPoint) {
		if p.Iteration%(cfg.EvalEvery*10) == 0 || p.Iteration == cfg.Iterations {
			fmt.Fprintf(os.Stderr, "%-11s it %5d  loss %.4f  ‖∇L‖² %.4g  (%s)\n", p.Method, p.Iteration, p.Loss, p.GradNorm2, time.Since(start).Round(time.Second))
		}
	})
	if werr := writeGradNorm(dir, cfg, pts); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	fmt.Printf("\n%-11s %22s %22s %22s   %s\n", "method", "it 0: loss / ‖∇L‖²", fmt.Sprintf("it %d", cfg.Iterations/2), fmt.Sprintf("it %d", cfg.Iterations),
		"last fifth: mean ‖∇L‖², mean ‖g − ∇L‖²")
	for _, m := range cfg.Methods {
		row := fmt.Sprintf("%-11s", m)
		for _, it := range []int{0, cfg.Iterations / 2 / cfg.EvalEvery * cfg.EvalEvery, cfg.Iterations} {
			for _, p := range pts {
				if p.Method == m && p.Iteration == it {
					row += fmt.Sprintf(" %10.4f / %9.4g", p.Loss, p.GradNorm2)
				}
			}
		}
		from := cfg.Iterations - cfg.Iterations/5
		norm := meanOver(pts, m, from, func(p experiment.GradNormPoint) (float64, bool) { return p.GradNorm2, true })
		gerr := meanOver(pts, m, from, func(p experiment.GradNormPoint) (float64, bool) {
			if p.GradErr2 == nil {
				return 0, false
			}
			return *p.GradErr2, true
		})
		fmt.Printf("%s   %9.4g %9.4g\n", row, norm, gerr)
	}
	fmt.Printf("\nwrote %s (gradnorm.csv, gradnorm.json, grad_norm.png, grad_err.png, loss.png) in %s\n", dir, time.Since(start).Round(time.Second))
	return nil
}

func writeGradNorm(dir string, cfg experiment.GradNormConfig, pts []experiment.GradNormPoint) error {
	f, err := os.Create(filepath.Join(dir, "gradnorm.csv"))
	if err != nil {
		return fmt.Errorf("gradnorm: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"method", "iteration", "loss", "grad_norm2", "grad_err2"})
	for _, p := range pts {
		e := "" // no step follows the last measurement
		if p.GradErr2 != nil {
			e = strconv.FormatFloat(*p.GradErr2, 'g', 8, 64)
		}
		_ = w.Write([]string{p.Method, strconv.Itoa(p.Iteration), strconv.FormatFloat(p.Loss, 'g', 8, 64), strconv.FormatFloat(p.GradNorm2, 'g', 8, 64), e})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return fmt.Errorf("gradnorm.csv: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "gradnorm.json"), map[string]any{"config": cfg, "points": pts}); err != nil {
		return err
	}
	norm, gerr, loss := map[string]plotter.XYs{}, map[string]plotter.XYs{}, map[string]plotter.XYs{}
	for _, p := range pts {
		norm[p.Method] = append(norm[p.Method], plotter.XY{X: float64(p.Iteration), Y: p.GradNorm2})
		loss[p.Method] = append(loss[p.Method], plotter.XY{X: float64(p.Iteration), Y: p.Loss})
		if p.GradErr2 != nil {
			gerr[p.Method] = append(gerr[p.Method], plotter.XY{X: float64(p.Iteration), Y: *p.GradErr2})
		}
	}
	// The plot font has no ∇, so the figures spell it "grad L".
	title := fmt.Sprintf("exact ‖grad L‖², %d images × 2 views, B = %d, β = %g", cfg.N, cfg.Batch, cfg.Beta)
	if err := logPlot(filepath.Join(dir, "grad_norm.png"), title, "iteration", "‖grad L‖² (log scale)", norm); err != nil {
		return err
	}
	title = fmt.Sprintf("error ‖g − grad L‖² of the step's mini-batch gradient g, B = %d", cfg.Batch)
	if err := logPlot(filepath.Join(dir, "grad_err.png"), title, "iteration", "‖g − grad L‖² (log scale)", gerr); err != nil {
		return err
	}
	return linePlot(filepath.Join(dir, "loss.png"), "exact global contrastive loss", "iteration", "loss", loss, nil)
}

// meanOver averages the values v gives for a method's measurements from iteration from on.
func meanOver(pts []experiment.GradNormPoint, method string, from int, v func(experiment.GradNormPoint) (float64, bool)) float64 {
	var sum float64
	var n int
	for _, p := range pts {
		if x, ok := v(p); ok && p.Method == method && p.Iteration >= from {
			sum += x
			n++
		}
	}
	return sum / float64(max(n, 1))
}
