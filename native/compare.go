package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/compare"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// runCompare is `emc2 compare`: methods × batch sizes × seeds on one dataset, at equal epochs or an
// equal training-time budget, into report.md, compare.csv, compare.json and figures.
func runCompare(ctx context.Context, args []string) error {
	cfg := train.DefaultConfig()
	cfg.Epochs = 3
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	_, channels, out, imageSize := trainFlags(fs, &cfg)
	methods := fs.String("methods", "simclr,sogclr,emc2-fresh", "methods to compare: simclr, sogclr, emc2-fresh, emc2-paper, emc2-iid (emc2:paper works too)")
	batches := fs.String("batches", "8,32", "batch sizes")
	seeds := fs.String("seeds", "1", "seeds; each seed gives every method the same data order, augmentations and initial weights")
	budget := fs.Duration("budget", 0, "training time per run (e.g. 10m); each run stops there, at most --epochs epochs (0 = equal epochs)")
	backendName := fs.String("backend", "auto", "auto | gpu | cpu")
	resume := fs.String("resume", "", "continue the plan in this folder (written by an earlier emc2 compare), keeping its finished runs")
	quick := fs.Bool("quick", false, "a small plan for tests: 512 training images, a tiny encoder, 1 epoch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var p compare.Plan
	var dir string
	if *resume != "" {
		dir = *resume
		b, err := os.ReadFile(filepath.Join(dir, "plan.json"))
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("--resume %s: plan.json: %w", dir, err)
		}
		fmt.Fprintf(os.Stderr, "resuming the plan in %s (its settings; other flags are ignored)\n", dir)
	} else {
		var err error
		if cfg.Channels, err = parseChannels(*channels); err != nil {
			return err
		}
		if *quick {
			cfg.TrainSubset, cfg.TestSubset, cfg.Epochs = 512, 256, 1
			cfg.Channels, cfg.Hidden, cfg.Proj, cfg.GlobalSize, cfg.LogEvery = []int{8}, 32, 16, 64, 4
		}
		p = compare.Plan{Methods: strings.Split(*methods, ","), Seeds: nil, Budget: budget.Seconds(), Base: cfg}
		if p.Batches, err = parseChannels(*batches); err != nil {
			return fmt.Errorf("--batches: %w", err)
		}
		for _, s := range strings.Split(*seeds, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("--seeds %q: want integers separated by commas", *seeds)
			}
			p.Seeds = append(p.Seeds, v)
		}
	}
	if err := p.Validate(); err != nil {
		return flagError(err)
	}
	split, err := loadData(p.Base, *imageSize)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = newCompareDir(*out); err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(dir, "plan.json"), p); err != nil {
			return err
		}
	}
	// Which backend: decided and printed once; every run then gets a fresh one of that kind.
	be, err := openBackend(*backendName, os.Stderr)
	if err != nil {
		return err
	}
	kind := be.Name()
	be.Close()
	newBackend := func() (backend.Backend, error) {
		if kind == "cpu" {
			return openBackend("cpu", io.Discard)
		}
		return openBackend("gpu", io.Discard)
	}
	store := dirStore(dir)
	runs := p.Runs()
	sel := run.Select(split, p.Base)
	fmt.Fprintf(os.Stdout, "emc2 compare: %d runs (%s × B %v × seeds %v) on %s (%d train / %d test images), backend %s\n",
		len(runs), strings.Join(p.Methods, ", "), p.Batches, p.Seeds, sel.Train.Name, sel.Train.N, sel.Test.N, kind)
	bar := newProgressBar(os.Stderr, 1000, false)
	results, runErr := compare.Execute(ctx, p, split, newBackend, store, func(e compare.Event) {
		if e.Result != nil {
			f := e.Result.Summary.Final
			bar.note(fmt.Sprintf("finished %d/%d %s: probe %.4f | 1-NN %.4f | 10-NN %.4f | global loss %.4f | %.0f img/s",
				e.Index+1, e.Runs, e.Run, f.ProbeTest, f.KNN1, f.KNN10, f.GlobalLoss, e.Result.Summary.ImgPerSec))
			return
		}
		bar.draw(int(1000*e.Done), fmt.Sprintf("run %d/%d %s | step %d/%d | plan ETA %s", e.Index+1, e.Runs, e.Run, e.Step, e.Total, formatDuration(e.ETA)))
	})
	bar.finish()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	all, err := store.Done()
	if err != nil {
		return err
	}
	if len(all) < len(results) {
		all = results
	}
	rep := compare.Build(p, all)
	if err := writeReport(dir, rep); err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout)
	fmt.Fprintln(os.Stdout, rep.Reading)
	fmt.Fprintf(os.Stdout, "\nreport: %s\n", filepath.Join(dir, "report.md"))
	if runErr != nil {
		fmt.Fprintf(os.Stderr, "interrupted: %d of %d runs are kept; continue with: emc2 compare --resume %s\n", len(all), len(runs), dir)
		return runErr
	}
	return nil
}

func newCompareDir(root string) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("compare folder: %w", err)
	}
	base := filepath.Join(root, "compare-"+time.Now().Format("20060102-150405"))
	for i := 0; ; i++ {
		dir := base
		if i > 0 {
			dir = fmt.Sprintf("%s-%d", base, i+1)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !os.IsExist(err) || i > 1000 {
			return "", fmt.Errorf("compare folder: %w", err)
		}
	}
}

// dirStore keeps each finished run as runs/NAME.json in the plan's folder, written atomically.
type dirStore string

func (d dirStore) Done() ([]compare.Result, error) {
	paths, err := filepath.Glob(filepath.Join(string(d), "runs", "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	var out []compare.Result
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r compare.Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (d dirStore) Save(r compare.Result) error {
	dir := filepath.Join(string(d), "runs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	name := filepath.Join(dir, fmt.Sprintf("%s-b%d-s%d.json", r.Method, r.Batch, r.Seed))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// writeReport writes report.md, compare.csv, compare.json and the figures.
func writeReport(dir string, rep compare.Report) error {
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(rep.Markdown("emc2 compare")), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	csvb, err := rep.CSV()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compare.csv"), csvb, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "compare.json"), rep); err != nil {
		return err
	}
	return compareFigures(dir, rep)
}

// compareFigures draws accuracy against batch size (mean ± sd over seeds), accuracy against training
// time (every evaluation of every run), and memory per method.
func compareFigures(dir string, rep compare.Report) error {
	if len(rep.Rows) == 0 {
		return nil
	}
	labeled := rep.Rows[0].Labeled
	metric, yLabel := func(r compare.Row) compare.Stat { return r.Probe }, "linear-probe accuracy"
	evalMetric := func(r train.EvalReport) float64 { return r.ProbeTest }
	if !labeled {
		metric, yLabel = func(r compare.Row) compare.Stat { return r.Global }, "held-out global loss"
		evalMetric = func(r train.EvalReport) float64 { return r.GlobalLoss }
	}
	// accuracy against batch size
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = yLabel+" against batch size", "batch size B (log scale)", yLabel
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	for i, m := range rep.Plan.Methods {
		var pts plotter.XYs
		var errs plotter.YErrors
		for _, r := range rep.Rows {
			if r.Method == m {
				s := metric(r)
				pts = append(pts, plotter.XY{X: float64(r.Batch), Y: s.Mean})
				errs = append(errs, struct{ Low, High float64 }{s.SD, s.SD})
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		line.Color, points.Color = plotutil.Color(i), plotutil.Color(i)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{pts, errs})
		if err != nil {
			return err
		}
		eb.Color = plotutil.Color(i)
		p.Add(line, points, eb)
		p.Legend.Add(m, line, points)
	}
	if err := p.Save(7*vg.Inch, 4*vg.Inch, filepath.Join(dir, "accuracy_vs_batch.png")); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	// accuracy against training time, one line per run
	series := map[string]plotter.XYs{}
	for _, r := range rep.Results {
		var xy plotter.XYs
		for _, e := range r.Summary.History {
			xy = append(xy, plotter.XY{X: e.TrainSecs, Y: evalMetric(e)})
		}
		series[fmt.Sprintf("%s B=%d s%d", r.Method, r.Batch, r.Seed)] = xy
	}
	if err := linePlot(filepath.Join(dir, "accuracy_vs_time.png"), yLabel+" against training time", "training seconds (evaluations excluded)", yLabel, series, nil); err != nil {
		return err
	}
	// memory per method and batch
	m := plot.New()
	m.Title.Text, m.Y.Label.Text = "memory the backend allocated (MiB), per method and batch", "MiB"
	var names []string
	var vals plotter.Values
	for _, r := range rep.Rows {
		names = append(names, fmt.Sprintf("%s B=%d", r.Method, r.Batch))
		vals = append(vals, math.Max(r.DeviceMiB, 0))
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return err
	}
	bars.Color = plotutil.Color(0)
	m.Add(bars)
	m.NominalX(names...)
	m.X.Tick.Label.Rotation = 0.6
	m.X.Tick.Label.XAlign, m.X.Tick.Label.YAlign = -1, 0
	if err := m.Save(8*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, "memory.png")); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
