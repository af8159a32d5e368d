package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/experiment"
	"gonum.org/v1/plot/plotter"
)

func init() { experiments["batch-sweep"] = runBatchSweep }

// runBatchSweep is `emc2 experiment batch-sweep`: probe / 1-NN / 10-NN per method and batch size at
// equal epochs and at equal training time, beside the floors; CSV, JSON and PNG.
func runBatchSweep(ctx context.Context, args []string) error {
	cfg := experiment.DefaultBatchSweep()
	fs := flag.NewFlagSet("experiment batch-sweep", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "a small size for tests: 512 images, B ∈ {8, 32}, 1 epoch, a tiny encoder")
	batches := fs.String("batches", "4,8,16,32,64,128", "batch sizes")
	methods := fs.String("methods", strings.Join(cfg.Methods, ","), "methods: simclr, sogclr, emc2-paper, emc2-fresh, emc2-iid")
	seeds := fs.String("seeds", "1", "seeds, comma-separated")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs per run (the same for every run)")
	dataSpec := fs.String("data", "default", "data (see emc2 train --data)")
	backendName := fs.String("backend", "auto", "auto | gpu | cpu")
	out := fs.String("out", "", "output folder (default runs/experiments/batch-sweep-<time>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Batches, err = parseChannels(*batches); err != nil {
		return fmt.Errorf("--batches: %w", err)
	}
	cfg.Methods = strings.Split(*methods, ",")
	cfg.Seeds = nil
	for _, s := range strings.Split(*seeds, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("--seeds %q: %w", *seeds, err)
		}
		cfg.Seeds = append(cfg.Seeds, v)
	}
	cfg.Base.Data = *dataSpec
	if *quick {
		cfg.Batches, cfg.Epochs, cfg.Base.TrainSubset = []int{8, 32}, 1, 512
		cfg.Base.Channels, cfg.Base.Hidden, cfg.Base.Proj = []int{8}, 32, 16
	}
	split, err := loadData(cfg.Base, 32)
	if err != nil {
		return err
	}
	dir, err := experimentDir(*out, "batch-sweep")
	if err != nil {
		return err
	}
	fmt.Printf("batch-sweep: %v × B %v × seeds %v, %d epochs each, on %s (%d train / %d test)\n",
		cfg.Methods, cfg.Batches, cfg.Seeds, cfg.Epochs, split.Train.Name, split.Train.N, split.Test.N)
	start := time.Now()
	newBackend := func() (backend.Backend, error) { return openBackend(*backendName, io.Discard) }
	pts, err := experiment.BatchSweep(ctx, newBackend, split, cfg, func(p experiment.SweepPoint) {
		fmt.Fprintf(os.Stderr, "%-18s B %4d seed %d epoch %d: probe %.4f 1-NN %.4f 10-NN %.4f (%s)\n",
			p.Method, p.Batch, p.Seed, p.Epoch, p.Probe, p.KNN1, p.KNN10, time.Since(start).Round(time.Second))
	})
	if werr := writeSweep(dir, cfg, pts); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	printSweep(os.Stdout, cfg, pts)
	fmt.Printf("\nwrote %s (batch_sweep.csv, batch_sweep.json, batch_sweep.png) in %s\n", dir, time.Since(start).Round(time.Second))
	return nil
}

// sweepFinal returns, per method and batch, the seed-mean of the last evaluation with TrainSecs ≤
// budget (budget < 0: the last evaluation), and how many seeds had one.
func sweepFinal(pts []experiment.SweepPoint, method string, b int, budget float64) (experiment.SweepPoint, int) {
	last := map[uint64]experiment.SweepPoint{}
	for _, p := range pts {
		if p.Method == method && p.Batch == b && (budget < 0 || p.TrainSecs <= budget) {
			if q, ok := last[p.Seed]; !ok || p.Epoch > q.Epoch {
				last[p.Seed] = p
			}
		}
	}
	var m experiment.SweepPoint
	for _, p := range last {
		m.Probe += p.Probe / float64(len(last))
		m.KNN1 += p.KNN1 / float64(len(last))
		m.KNN10 += p.KNN10 / float64(len(last))
		m.TrainSecs += p.TrainSecs / float64(len(last))
		m.Epoch += p.Epoch
	}
	return m, len(last)
}

func printSweep(w io.Writer, cfg experiment.BatchSweepConfig, pts []experiment.SweepPoint) {
	for _, f := range []string{"floor: raw pixels", "floor: random init"} {
		p, _ := sweepFinal(pts, f, 0, -1)
		fmt.Fprintf(w, "%-20s probe %.4f  1-NN %.4f  10-NN %.4f\n", f, p.Probe, p.KNN1, p.KNN10)
	}
	fmt.Fprintf(w, "\nequal epochs (%d): probe / 1-NN / 10-NN, mean over %d seed(s)\n%-6s", cfg.Epochs, len(cfg.Seeds), "B")
	for _, m := range cfg.Methods {
		fmt.Fprintf(w, " %26s", m)
	}
	fmt.Fprintln(w)
	for _, b := range cfg.Batches {
		fmt.Fprintf(w, "%-6d", b)
		for _, m := range cfg.Methods {
			p, _ := sweepFinal(pts, m, b, -1)
			fmt.Fprintf(w, "  %.4f / %.4f / %.4f", p.Probe, p.KNN1, p.KNN10)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nequal training time (the fastest method's total at each B): probe, epochs reached\n%-6s %8s", "B", "budget")
	for _, m := range cfg.Methods {
		fmt.Fprintf(w, " %18s", m)
	}
	fmt.Fprintln(w)
	for _, b := range cfg.Batches {
		budget := math.Inf(1)
		for _, m := range cfg.Methods {
			p, _ := sweepFinal(pts, m, b, -1)
			budget = math.Min(budget, p.TrainSecs)
		}
		fmt.Fprintf(w, "%-6d %7.0fs", b, budget)
		for _, m := range cfg.Methods {
			p, n := sweepFinal(pts, m, b, budget*1.001)
			if n == 0 {
				fmt.Fprintf(w, " %18s", "— (< 1 epoch)")
				continue
			}
			fmt.Fprintf(w, " %11.4f @ %2d ep", p.Probe, p.Epoch/n)
		}
		fmt.Fprintln(w)
	}
}

func writeSweep(dir string, cfg experiment.BatchSweepConfig, pts []experiment.SweepPoint) error {
	f, err := os.Create(filepath.Join(dir, "batch_sweep.csv"))
	if err != nil {
		return fmt.Errorf("batch-sweep: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"method", "batch", "seed", "epoch", "train_s", "probe", "knn1", "knn10"})
	for _, p := range pts {
		_ = w.Write([]string{p.Method, strconv.Itoa(p.Batch), strconv.FormatUint(p.Seed, 10), strconv.Itoa(p.Epoch),
			strconv.FormatFloat(p.TrainSecs, 'f', 2, 64), strconv.FormatFloat(p.Probe, 'f', 4, 64),
			strconv.FormatFloat(p.KNN1, 'f', 4, 64), strconv.FormatFloat(p.KNN10, 'f', 4, 64)})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return fmt.Errorf("batch_sweep.csv: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "batch_sweep.json"), map[string]any{"config": cfg, "points": pts}); err != nil {
		return err
	}
	series := map[string]plotter.XYs{}
	for _, m := range cfg.Methods {
		for _, b := range cfg.Batches {
			if p, n := sweepFinal(pts, m, b, -1); n > 0 {
				series[m] = append(series[m], plotter.XY{X: math.Log2(float64(b)), Y: p.Probe})
			}
		}
	}
	floors := map[string]float64{}
	for _, fl := range []string{"floor: raw pixels", "floor: random init"} {
		if p, n := sweepFinal(pts, fl, 0, -1); n > 0 {
			floors[fl] = p.Probe
		}
	}
	return linePlot(filepath.Join(dir, "batch_sweep.png"), fmt.Sprintf("linear probe after %d epochs", cfg.Epochs), "log2 batch size", "test accuracy", series, floors)
}
