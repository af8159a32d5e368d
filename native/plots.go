package main

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"

	"github.com/emc2ml/emc2/core/run"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// writePlots draws the run's curves as PNG files in dir: the training loss (and the EMC² acceptance
// rate) against steps, and the evaluation metrics against epochs with the floors as dashed lines.
func writePlots(dir string, steps []run.Progress, s *run.Summary) error {
	if len(steps) > 0 {
		loss := make(plotter.XYs, len(steps))
		for i, p := range steps {
			loss[i] = plotter.XY{X: float64(p.Step), Y: p.Loss}
		}
		if err := linePlot(filepath.Join(dir, "loss.png"), "in-batch InfoNCE loss", "step", "loss", map[string]plotter.XYs{"loss": loss}, nil); err != nil {
			return err
		}
		if s.Config.Method.HasChains() {
			acc, stale := make(plotter.XYs, len(steps)), make(plotter.XYs, len(steps))
			for i, p := range steps {
				acc[i] = plotter.XY{X: float64(p.Step), Y: p.AcceptRate}
				stale[i] = plotter.XY{X: float64(p.Step), Y: p.StaleShare}
			}
			series := map[string]plotter.XYs{"acceptance rate": acc, "stale share of recorded steps": stale}
			if err := linePlot(filepath.Join(dir, "mcmc.png"), "Metropolis–Hastings sampler", "step", "fraction", series, nil); err != nil {
				return err
			}
		}
	}
	if len(s.History) > 1 && s.Final.Labeled {
		probe, knn1, knn10 := make(plotter.XYs, len(s.History)), make(plotter.XYs, len(s.History)), make(plotter.XYs, len(s.History))
		for i, r := range s.History {
			probe[i] = plotter.XY{X: r.Epoch, Y: r.ProbeTest}
			knn1[i] = plotter.XY{X: r.Epoch, Y: r.KNN1}
			knn10[i] = plotter.XY{X: r.Epoch, Y: r.KNN10}
		}
		floors := map[string]float64{}
		for _, f := range s.Floors {
			floors["probe floor: "+f.Name] = f.ProbeTest
		}
		series := map[string]plotter.XYs{"linear probe": probe, "1-NN": knn1, "10-NN": knn10}
		if err := linePlot(filepath.Join(dir, "accuracy.png"), "test accuracy (hidden features)", "epoch", "accuracy", series, floors); err != nil {
			return err
		}
		gl := make(plotter.XYs, len(s.History))
		for i, r := range s.History {
			gl[i] = plotter.XY{X: r.Epoch, Y: r.GlobalLoss}
		}
		if err := linePlot(filepath.Join(dir, "global_loss.png"), "exact global contrastive loss (held-out)", "epoch", "loss", map[string]plotter.XYs{"global loss": gl}, nil); err != nil {
			return err
		}
	}
	return nil
}

// logPlot is linePlot with a logarithmic y axis (values must be positive).
func logPlot(path, title, x, y string, series map[string]plotter.XYs) error {
	return drawLines(path, title, x, y, series, nil, true)
}

func linePlot(path, title, x, y string, series map[string]plotter.XYs, hlines map[string]float64) error {
	return drawLines(path, title, x, y, series, hlines, false)
}

func drawLines(path, title, x, y string, series map[string]plotter.XYs, hlines map[string]float64, logY bool) error {
	p := plot.New()
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		for name, xy := range series { // the log scale cannot draw 0
			for i := range xy {
				xy[i].Y = math.Max(xy[i].Y, 1e-12)
			}
			series[name] = xy
		}
	}
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Legend.Top = true
	var args []any
	for _, name := range slices.Sorted(maps.Keys(series)) {
		args = append(args, name, series[name])
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	xmin, xmax := p.X.Min, p.X.Max
	for i, name := range slices.Sorted(maps.Keys(hlines)) {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: hlines[name]}, {X: xmax, Y: hlines[name]}})
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Color = plotutil.Color(len(series) + i)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	if err := p.Save(7*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
