package main

import (
	"context"
	"encoding/csv"
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

	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/experiment"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func init() { experiments["mixing"] = runMixing }

// mixingReport is mixing.json: what was measured, on which embeddings, and the rows.
type mixingReport struct {
	Command         string                 `json:"command"`
	Embeddings      string                 `json:"embeddings"`
	EmbeddingsTrain int                    `json:"embeddings_train_epochs"` // 0 = random initialisation
	N               int                    `json:"n"`
	Dim             int                    `json:"dim"`
	Betas           []float64              `json:"betas"`
	Batches         []int                  `json:"batches"`
	Variants        []string               `json:"variants"`
	Epochs          int                    `json:"epochs"`
	MeasuredEpochs  int                    `json:"measured_epochs"`
	BurnIn          float64                `json:"mcmc_burn_in"`
	Seed            uint64                 `json:"seed"`
	EmbedSeconds    float64                `json:"embed_s"`
	MixingSeconds   float64                `json:"mixing_s"`
	TVNote          string                 `json:"tv_note"`
	Rows            []experiment.MixingRow `json:"rows"`
}

// runMixing is `emc2 experiment mixing`: the MH sampler's acceptance rate, stale share and distance
// to softmax(βs) on frozen embeddings, for every β × B × EMC² variant (core/experiment.Mixing).
func runMixing(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("experiment mixing", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small size: 256 images, β ∈ {2, 14.28}, B ∈ {4, 16}, 2 epochs")
	out := fs.String("out", "", "output folder (default runs/experiments/mixing-<time>)")
	epochs := fs.Int("epochs", 0, "sampler epochs per setting; the second half is measured (0 = 20, or 2 with --quick)")
	seed := fs.Uint64("seed", 1, "random seed (encoder, batches, MH decisions, floor draws)")
	n := fs.Int("n", 0, "images of the default data to embed (0 = 2000, or 256 with --quick)")
	trainEpochs := fs.Int("train-epochs", 1, "epochs of EMC² training of the default encoder before embedding (0 = random initialisation)")
	backendName := fs.String("backend", "cpu", "backend that trains and runs the encoder: auto | gpu | cpu (the sampler always runs on the CPU)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("experiment mixing: unexpected argument %q", fs.Arg(0))
	}
	cfg := experiment.MixingDefaults(*quick)
	cfg.Seed = *seed
	if *epochs < 0 || *n < 0 || *trainEpochs < 0 {
		return fmt.Errorf("experiment mixing: --epochs, --n and --train-epochs must be ≥ 0")
	}
	if *epochs > 0 {
		cfg.Epochs = *epochs
	}
	if *n > 0 {
		cfg.N = *n
	}
	if err := cfg.Validate(cfg.N); err != nil {
		return err
	}
	dir, err := experimentDir(*out, "mixing")
	if err != nil {
		return err
	}

	split, err := data.Default()
	if err != nil {
		return fmt.Errorf("experiment mixing: %w", err)
	}
	if cfg.N > split.Train.N {
		return fmt.Errorf("experiment mixing: --n %d: the default data has %d training images", cfg.N, split.Train.N)
	}
	start := time.Now()
	be, err := openBackend(*backendName, os.Stderr)
	if err != nil {
		return fmt.Errorf("experiment mixing: %w", err)
	}
	defer be.Close()
	emb, d, source, err := experiment.MixingEmbeddings(ctx, be, split, cfg.N, *trainEpochs, cfg.Seed)
	if err != nil {
		return fmt.Errorf("experiment mixing: %w", err)
	}
	embedS := time.Since(start).Seconds()
	fmt.Fprintf(os.Stdout, "embeddings: %s (n=%d, d=%d, %.1fs)\n", source, cfg.N, d, embedS)
	fmt.Fprintf(os.Stdout, "sampler: %d epochs per setting, last %d measured, burn-in %g, seed %d\n",
		cfg.Epochs, cfg.MeasuredEpochs(), experiment.MixingBurnIn, cfg.Seed)

	start = time.Now()
	rows, err := experiment.Mixing(ctx, emb, cfg.N, d, cfg)
	if err != nil {
		return fmt.Errorf("experiment mixing: %w", err)
	}
	mixS := time.Since(start).Seconds()

	rep := mixingReport{Command: "emc2 experiment mixing", Embeddings: source, N: cfg.N, Dim: d,
		Betas: cfg.Betas, Batches: cfg.Batches, Epochs: cfg.Epochs, MeasuredEpochs: cfg.MeasuredEpochs(),
		BurnIn: experiment.MixingBurnIn, Seed: cfg.Seed, EmbedSeconds: embedS, MixingSeconds: mixS, Rows: rows,
		EmbeddingsTrain: *trainEpochs,
		TVNote: "tv_floor is the TV of as many i.i.d. draws from the target per anchor: tv − tv_floor is bias plus " +
			"autocorrelation; sim_gap (± sim_gap_se) is the bias alone, in mean cosine similarity of the recorded negatives"}
	for _, v := range cfg.Variants {
		rep.Variants = append(rep.Variants, v.String())
	}
	if err := writeJSON(filepath.Join(dir, "mixing.json"), rep); err != nil {
		return err
	}
	if err := writeMixingCSV(filepath.Join(dir, "mixing.csv"), rows); err != nil {
		return err
	}
	if err := writeMixingPlots(dir, rows, cfg.Batches); err != nil {
		return err
	}
	printMixingTable(os.Stdout, rows)
	fmt.Fprintf(os.Stdout, "\nsampler time %.1fs; output folder: %s\n", mixS, dir)
	return nil
}

// writeMixingCSV writes one line per (variant, β, B).
func writeMixingCSV(path string, rows []experiment.MixingRow) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("experiment mixing: %w", err)
	}
	w := csv.NewWriter(f)
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	_ = w.Write([]string{"variant", "beta", "batch", "accept_rate", "stale_share", "tv", "tv_floor", "sim_gap", "sim_gap_se", "anchors", "records_per_anchor"})
	for _, r := range rows {
		_ = w.Write([]string{r.Variant, g(r.Beta), strconv.Itoa(r.Batch), g(r.AcceptRate), g(r.StaleShare), g(r.TV), g(r.TVFloor),
			g(r.SimGap), g(r.SimGapSE), strconv.Itoa(r.Anchors), g(r.RecordsPerAnchor)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// printMixingTable prints the rows as an aligned table.
func printMixingTable(w io.Writer, rows []experiment.MixingRow) {
	fmt.Fprintf(w, "\n%-7s %6s %4s %8s %8s %8s %8s %8s %18s %9s\n", "variant", "β", "B", "accept", "stale", "TV", "floor", "TV−floor", "sim gap ± se", "rec/anch")
	for _, r := range rows {
		fmt.Fprintf(w, "%-7s %6g %4d %8.4f %8.4f %8.4f %8.4f %8.4f %9.4f ± %6.4f %9.1f\n", r.Variant, r.Beta, r.Batch,
			r.AcceptRate, r.StaleShare, r.TV, r.TVFloor, r.TV-r.TVFloor, r.SimGap, r.SimGapSE, r.RecordsPerAnchor)
	}
}

// mixLine is one curve of a mixing figure.
type mixLine struct {
	name  string
	xy    plotter.XYs
	color int // plotutil palette index
	style int // dash pattern: 0 solid, 1 dashed, 2 dotted, …
}

// mixDashes are the line styles of mixLine.style, named by mixStyleNames.
var (
	mixDashes     = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)}}
	mixStyleNames = []string{"solid", "dashed", "dotted", "dash-dot"}
)

// mixFigure is one PNG of the mixing study.
type mixFigure struct {
	file, title, y string
	lines          []mixLine
	logY           bool
}

// writeMixingPlots draws acceptance.png (acceptance vs β, log-log, per B and variant), stale.png
// (the paper variant's stale share vs β), tv-paper.png and tv-fresh.png (TV and its i.i.d. floor vs
// β per B) and sim_gap.png (the similarity bias vs β).
func writeMixingPlots(dir string, rows []experiment.MixingRow, batches []int) error {
	series := func(variant string, b int, y func(experiment.MixingRow) float64) plotter.XYs {
		var xy plotter.XYs
		for _, r := range rows {
			if r.Variant == variant && r.Batch == b && !math.IsNaN(y(r)) {
				xy = append(xy, plotter.XY{X: r.Beta, Y: y(r)})
			}
		}
		return xy
	}
	var variants []string
	for _, r := range rows {
		if !slices.Contains(variants, r.Variant) {
			variants = append(variants, r.Variant)
		}
	}
	var acc, stale, gap []mixLine
	for bi, b := range batches {
		for vi, v := range variants {
			name := fmt.Sprintf("%s B=%d", v, b)
			acc = append(acc, mixLine{name, series(v, b, func(r experiment.MixingRow) float64 { return r.AcceptRate }), bi, vi})
			gap = append(gap, mixLine{name, series(v, b, func(r experiment.MixingRow) float64 { return r.SimGap }), bi, vi})
		}
		stale = append(stale, mixLine{fmt.Sprintf("paper B=%d", b), series("paper", b, func(r experiment.MixingRow) float64 { return r.StaleShare }), bi, 0})
	}
	var legend []string
	for vi, v := range variants {
		legend = append(legend, v+" "+mixStyleNames[vi%len(mixStyleNames)])
	}
	styles := strings.Join(legend, ", ")
	plots := []mixFigure{
		{"acceptance.png", "MH acceptance rate (" + styles + "; paper and fresh run the same chains)", "acceptance rate", acc, true},
		{"stale.png", "paper variant: share of recorded steps dropped (stale out-of-batch state)", "stale share", stale, false},
		{"sim_gap.png", "bias: mean similarity of recorded negatives − its target mean (" + styles + ")", "similarity gap", gap, false},
	}
	for _, v := range variants {
		var tv []mixLine
		for bi, b := range batches {
			tv = append(tv,
				mixLine{fmt.Sprintf("B=%d", b), series(v, b, func(r experiment.MixingRow) float64 { return r.TV }), bi, 0},
				mixLine{fmt.Sprintf("B=%d i.i.d. floor", b), series(v, b, func(r experiment.MixingRow) float64 { return r.TVFloor }), bi, 1})
		}
		plots = append(plots, mixFigure{"tv-" + v + ".png", v + " variant: TV of recorded negatives to softmax(βs) (dashed: i.i.d. floor)", "mean TV over anchors", tv, false})
	}
	for _, p := range plots {
		if err := mixingPlot(filepath.Join(dir, p.file), p.title, "β (log scale)", p.y, p.lines, p.logY); err != nil {
			return err
		}
	}
	return nil
}

// mixingPlot draws lines against a logarithmic β axis (and a logarithmic y axis when logY, dropping
// points ≤ 0 there) into a PNG.
func mixingPlot(path, title, x, y string, lines []mixLine, logY bool) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, mixBetaTicks(lines)
	if logY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, mixLogTicks{}
	}
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
	for _, l := range lines {
		var xy plotter.XYs
		for _, pt := range l.xy {
			if pt.X > 0 && (!logY || pt.Y > 0) {
				xy = append(xy, pt)
			}
		}
		if len(xy) == 0 {
			continue
		}
		ln, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		ln.Color, pts.Color = plotutil.Color(l.color), plotutil.Color(l.color)
		pts.Shape = plotutil.Shape(l.color)
		ln.Dashes = mixDashes[l.style%len(mixDashes)]
		p.Add(ln, pts)
		p.Legend.Add(l.name, ln, pts)
	}
	if err := p.Save(9*vg.Inch, 6*vg.Inch, path); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

// mixBetaTicks labels the β axis at the studied values.
func mixBetaTicks(lines []mixLine) plot.ConstantTicks {
	seen := map[float64]bool{}
	var ticks plot.ConstantTicks
	for _, l := range lines {
		for _, pt := range l.xy {
			if pt.X > 0 && !seen[pt.X] {
				seen[pt.X] = true
				ticks = append(ticks, plot.Tick{Value: pt.X, Label: strconv.FormatFloat(pt.X, 'g', -1, 64)})
			}
		}
	}
	return ticks
}

// mixLogTicks labels a logarithmic axis at 1, 2 and 5 times the powers of ten in its range, so that a
// range inside one decade still gets labels.
type mixLogTicks struct{}

// Ticks implements plot.Ticker.
func (mixLogTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			if v := m * math.Pow(10, e); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
			}
		}
	}
	if len(ticks) < 2 {
		ticks = append(ticks, plot.Tick{Value: lo, Label: strconv.FormatFloat(lo, 'g', 2, 64)},
			plot.Tick{Value: hi, Label: strconv.FormatFloat(hi, 'g', 2, 64)})
	}
	return ticks
}
