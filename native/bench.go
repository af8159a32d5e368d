package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/backend/gpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/experiment"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// BenchRow is one measured configuration of `emc2 bench`.
type BenchRow struct {
	Backend      string  `json:"backend"`
	Kernels      string  `json:"gpu_kernels,omitempty"` // GPU: "register" or "tiled" matrix products (gpu.Backend.SetTiled)
	Method       string  `json:"method"`
	Batch        int     `json:"batch"`
	StepMs       float64 `json:"step_ms"`
	ImagesPerSec float64 `json:"images_per_sec"`
	RatioSimCLR  float64 `json:"ratio_to_simclr"` // step time / SimCLR's at the same batch and backend
	DeviceMiB    float64 `json:"device_mib,omitempty"`
	StateBytes   float64 `json:"state_bytes_per_image"` // the method's own memory per training image
	// GPU: what one training step records: dispatches, compute passes, submits.
	Dispatches int `json:"dispatches_per_step,omitempty"`
	Passes     int `json:"passes_per_step,omitempty"`
	Submits    int `json:"submits_per_step,omitempty"`
	// --profile (GPU): each kernel's wall time per step, run alone with the queue drained around it.
	Profile []run.KernelRow `json:"profile,omitempty"`
}

// runBench times training steps per backend, method and batch size on the default data, and prints
// images/s, the step-time ratio to SimCLR, and (GPU) device memory in use.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	backends := fs.String("backends", "cpu,gpu", "backends to measure (gpu is skipped when no adapter exists)")
	batches := fs.String("batches", "32,256", "batch sizes")
	steps := fs.Int("steps", 10, "timed steps per configuration (after 2 warm-up steps)")
	out := fs.String("json", "", "also write the rows as JSON to this file")
	profile := fs.Bool("profile", false, "GPU: also time every kernel on its own (a few extra steps) and print where the step goes")
	kernelList := fs.String("gpu-kernels", "auto", "GPU matrix-product kernels: auto (by adapter), register, tiled, or a list to compare")
	methodList := fs.String("methods", "simclr,sogclr,emc2-paper,emc2-fresh", "methods to measure (the ratio column needs simclr first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bs, err := parseChannels(*batches)
	if err != nil {
		return fmt.Errorf("--batches: %w", err)
	}
	split, err := data.Default()
	if err != nil {
		return err
	}
	kernels := strings.Split(*kernelList, ",")
	for _, k := range kernels {
		if k != "auto" && k != "register" && k != "tiled" {
			return fmt.Errorf("--gpu-kernels %q: want auto, register or tiled", k)
		}
	}
	methods := strings.Split(*methodList, ",")
	for _, m := range methods {
		if _, err := experiment.MethodConfig(train.DefaultConfig(), m); err != nil {
			return fmt.Errorf("--methods: %w", err)
		}
	}
	var rows []BenchRow
	fmt.Printf("%-13s %-11s %6s %10s %10s %8s %10s %9s %15s\n", "backend", "method", "batch", "step ms", "images/s", "÷simclr", "device MiB", "state B/img", "dispatches/step")
	// What to measure: each backend, and on the GPU each kernel set asked for.
	type target struct{ backend, kernels string }
	var targets []target
	for _, name := range strings.Split(*backends, ",") {
		if name != "gpu" {
			targets = append(targets, target{name, ""})
			continue
		}
		be, err := openBackend("gpu", io.Discard)
		if err != nil {
			fmt.Printf("gpu: skipped (%v)\n", err)
			continue
		}
		fmt.Printf("gpu: %s\n", be.(*gpu.Backend).Info())
		be.Close()
		for _, k := range kernels {
			targets = append(targets, target{name, k})
		}
	}
	for _, tg := range targets {
		for _, b := range bs {
			var simclrMs float64
			for _, m := range methods {
				if err := ctx.Err(); err != nil {
					return err
				}
				row, err := benchOne(tg.backend, tg.kernels, m, b, *steps, *profile, split.Train)
				if err != nil {
					return err
				}
				if row.Method == "simclr" {
					simclrMs = row.StepMs
				}
				if simclrMs > 0 {
					row.RatioSimCLR = row.StepMs / simclrMs
				}
				rows = append(rows, row)
				work := "—"
				if row.Dispatches > 0 {
					work = fmt.Sprintf("%d (%d pass)", row.Dispatches, row.Passes)
				}
				fmt.Printf("%-13s %-11s %6d %10.2f %10.0f %8.2f %10.1f %11.0f %15s\n", row.label(), row.Method, row.Batch, row.StepMs, row.ImagesPerSec, row.RatioSimCLR, row.DeviceMiB, row.StateBytes, work)
				printProfile(row.Profile)
			}
		}
	}
	if *out != "" {
		return writeJSON(*out, rows)
	}
	return nil
}

// label is the backend column: the GPU's with its kernels.
func (r BenchRow) label() string {
	if r.Kernels == "" {
		return r.Backend
	}
	return r.Backend + "/" + r.Kernels
}

// benchOne measures one configuration on a fresh backend; kernels is a --gpu-kernels choice.
func benchOne(backendName, kernels, method string, batch, steps int, profile bool, ds *data.Dataset) (BenchRow, error) {
	be, err := openBackend(backendName, io.Discard)
	if err != nil {
		return BenchRow{}, err
	}
	defer be.Close()
	if g, ok := be.(*gpu.Backend); ok && kernels != "auto" {
		g.SetTiled(kernels == "tiled")
	}
	cfg, err := experiment.MethodConfig(train.DefaultConfig(), method)
	if err != nil {
		return BenchRow{}, err
	}
	cfg.Batch = batch
	t, err := train.NewTrainer(be, cfg, ds)
	if err != nil {
		return BenchRow{}, err
	}
	ms, err := timeSteps(t, steps)
	if err != nil {
		return BenchRow{}, err
	}
	row := BenchRow{Backend: be.Name(), Method: cfg.RunName(), Batch: batch, StepMs: ms, ImagesPerSec: float64(batch) / ms * 1000,
		StateBytes: t.StateBytesPerImage()}
	if g, ok := be.(*gpu.Backend); ok {
		row.Kernels = g.Kernels()
		row.DeviceMiB = float64(g.AllocatedBytes()) / (1 << 20)
		c0 := g.Counts()
		t.TrainStep()
		c1 := g.Counts()
		if _, err := t.ReadStats(); err != nil {
			return BenchRow{}, err
		}
		row.Dispatches, row.Passes, row.Submits = int(c1.Dispatches-c0.Dispatches), int(c1.Passes-c0.Passes), int(c1.Submits-c0.Submits)
		if profile {
			if row.Profile, err = run.Profile(g, t, 3); err != nil {
				return BenchRow{}, err
			}
		}
	}
	return row, nil
}

// printProfile prints a profiled step's kernels, slowest first, down to 99 % of the time.
func printProfile(rows []run.KernelRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Printf("       %-22s %-24s %10s %10s %7s\n", "kernel", "file", "calls/step", "ms/step", "share")
	var cum float64
	for _, r := range rows {
		fmt.Printf("       %-22s %-24s %10.0f %10.2f %6.1f%%\n", r.Kernel, r.File, r.Dispatches, r.Ms, 100*r.Share)
		if cum += r.Share; cum > 0.99 {
			break
		}
	}
}

// timeSteps returns the median wall time of one training step in milliseconds, waiting for the
// device after each step (a statistics read) so that queued GPU work is counted.
func timeSteps(t *train.Trainer, n int) (float64, error) {
	sync := func() error { _, err := t.ReadStats(); return err }
	for i := 0; i < 2; i++ {
		t.TrainStep()
	}
	if err := sync(); err != nil {
		return 0, err
	}
	times := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		t.TrainStep()
		if err := sync(); err != nil {
			return 0, err
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}
