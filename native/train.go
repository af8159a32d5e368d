package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/train"
)

// trainFlags binds the command line to a train.Config. Names follow the paper's code where it has one.
func trainFlags(fs *flag.FlagSet, c *train.Config) (tau *float64, channels *string, out *string, imageSize *int) {
	fs.StringVar(&c.Method, "method", c.Method, "simclr | sogclr | emc2")
	fs.StringVar(&c.Variant, "emc2-variant", c.Variant, "EMC² sampler: paper (stale stored scores, as released) | fresh (re-scored chain state) | iid (experimental: fresh + uniform random in-batch proposals)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "images per batch B (2B augmented views)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
	fs.Float64Var(&c.Beta, "beta", c.Beta, "inverse temperature β = 1/τ")
	tau = fs.Float64("tau", 0, "temperature τ (overrides --beta when set)")
	fs.Float64Var(&c.LR, "lr", c.LR, "base learning rate (warm-up, then cosine)")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd | adam | lars")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "momentum of sgd and lars")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "weight decay (not on biases)")
	fs.Float64Var(&c.Warmup, "warmup", c.Warmup, "linear warm-up epochs")
	fs.Float64Var(&c.BurnIn, "mcmc-burn-in", c.BurnIn, "EMC²: fraction of each view's sweep discarded as burn-in")
	fs.Float64Var(&c.Gamma, "sogclr-gamma", c.Gamma, "SogCLR: moving-average weight γ")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (weights, batches, augmentations, MH decisions)")
	fs.StringVar(&c.Data, "data", c.Data, "default | fashion-mnist | mnist | a folder (IDX, CIFAR-10, STL-10 or images)")
	fs.IntVar(&c.TrainSubset, "train-subset", c.TrainSubset, "train on only the first N training images (0 = all)")
	fs.IntVar(&c.EvalSubset, "eval-subset", c.EvalSubset, "fit the probe and k-NN on at most N training images, evenly spread (0 = all)")
	fs.IntVar(&c.TestSubset, "test-subset", c.TestSubset, "evaluate on at most N held-out images, evenly spread (0 = all)")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "evaluate every N epochs (0 = only at the end)")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "report step statistics every N steps")
	fs.IntVar(&c.GlobalSize, "global-size", c.GlobalSize, "held-out images for the exact global loss (0 = off)")
	fs.IntVar(&c.Hidden, "hidden", c.Hidden, "width of the hidden (probe) features")
	fs.IntVar(&c.Proj, "proj", c.Proj, "width of the projection head")
	s := make([]string, len(c.Channels))
	for i, v := range c.Channels {
		s[i] = strconv.Itoa(v)
	}
	channels = fs.String("channels", strings.Join(s, ","), "output channels of the conv blocks, comma-separated")
	a := &c.Aug
	fs.Var(rangeFlag{&a.CropScale}, "crop-scale", "random resized crop: area fraction range lo,hi (0,0 = no crop)")
	fs.Var(f32Flag{&a.FlipP}, "flip", "probability of a horizontal flip")
	fs.Var(f32Flag{&a.JitterP}, "jitter", "probability of the brightness/contrast(/colour) jitter")
	fs.Var(f32Flag{&a.Brightness}, "brightness", "brightness jitter strength")
	fs.Var(f32Flag{&a.Contrast}, "contrast", "contrast jitter strength")
	fs.Var(f32Flag{&a.Saturation}, "saturation", "saturation jitter strength (RGB)")
	fs.Var(f32Flag{&a.Hue}, "hue", "hue jitter strength in turns (RGB)")
	fs.Var(f32Flag{&a.GrayP}, "grayscale", "probability of random grayscale (RGB)")
	fs.Var(f32Flag{&a.BlurP}, "blur", "probability of a Gaussian blur")
	fs.Var(rangeFlag{&a.BlurSigma}, "blur-sigma", "blur σ range lo,hi in pixels")
	fs.Var(f32Flag{&a.NoiseStd}, "noise", "std of additive Gaussian pixel noise")
	out = fs.String("out", "runs", "folder for the run's output (a sub-folder per run)")
	imageSize = fs.Int("image-size", 32, "side length image folders are resized to")
	return
}

type f32Flag struct{ p *float32 }

func (f f32Flag) String() string {
	if f.p == nil {
		return ""
	}
	return strconv.FormatFloat(float64(*f.p), 'g', -1, 32)
}

func (f f32Flag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return err
	}
	*f.p = float32(v)
	return nil
}

type rangeFlag struct{ p *[2]float32 }

func (f rangeFlag) String() string {
	if f.p == nil {
		return ""
	}
	return fmt.Sprintf("%g,%g", f.p[0], f.p[1])
}

func (f rangeFlag) Set(s string) error {
	lo, hi, ok := strings.Cut(s, ",")
	if !ok {
		return fmt.Errorf("want lo,hi")
	}
	a, err1 := strconv.ParseFloat(lo, 32)
	b, err2 := strconv.ParseFloat(hi, 32)
	if err := errors.Join(err1, err2); err != nil || a > b {
		return fmt.Errorf("want lo,hi with lo ≤ hi")
	}
	*f.p = [2]float32{float32(a), float32(b)}
	return nil
}

func parseChannels(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("--channels %q: want positive integers separated by commas", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func runTrain(ctx context.Context, args []string) error {
	cfg := train.DefaultConfig()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	tau, channels, out, imageSize := trainFlags(fs, &cfg)
	backendName := fs.String("backend", "auto", "auto (a hardware GPU if present, else cpu) | gpu | cpu")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tau != 0 {
		if *tau < 0 {
			return fmt.Errorf("--tau %v: want a positive temperature", *tau)
		}
		cfg.Beta = 1 / *tau
	}
	var err error
	if cfg.Channels, err = parseChannels(*channels); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	split, err := loadData(cfg, *imageSize)
	if err != nil {
		return err
	}
	be, err := openBackend(*backendName, os.Stderr)
	if err != nil {
		return err
	}
	defer be.Close()
	dir, err := newRunDir(*out, cfg)
	if err != nil {
		return err
	}
	res, err := trainAndReport(ctx, be, cfg, split, dir, os.Stdout, os.Stderr)
	if res != nil {
		fmt.Fprintf(os.Stdout, "\nrun folder: %s\n", dir)
	}
	return err
}

// loadData opens --data, applies --train-subset and holds out a test set when the data has none.
func loadData(cfg train.Config, imageSize int) (*data.Split, error) {
	opt := data.Options{Folder: data.FolderOptions{Size: imageSize}}
	split, skipped, err := data.Open(cfg.Data, opt)
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(os.Stderr, "data: skipped %d files (first: %s: %s)\n", len(skipped), skipped[0].Path, skipped[0].Reason)
	}
	split.Train = split.Train.Head(cfg.TrainSubset)
	k, err := split.HoldOut(cfg.Batch)
	if err != nil {
		return nil, fmt.Errorf("data %q: %w (at batch %d)", cfg.Data, err, cfg.Batch)
	}
	if k > 0 {
		fmt.Fprintf(os.Stderr, "data: no test split; holding out every tenth image (%d)\n", k)
	}
	return split, nil
}

func newRunDir(root string, cfg train.Config) (string, error) {
	name := fmt.Sprintf("%s-%s-b%d-s%d", time.Now().Format("20060102-150405"), cfg.Method, cfg.Batch, cfg.Seed)
	if cfg.Method == "emc2" {
		name = fmt.Sprintf("%s-%s-%s-b%d-s%d", time.Now().Format("20060102-150405"), cfg.Method, cfg.Variant, cfg.Batch, cfg.Seed)
	}
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("run folder: %w", err)
	}
	return dir, nil
}

// Summary is what a run reports at the end (summary.json).
type Summary struct {
	Config     train.Config       `json:"config"`
	Floors     []train.Floor      `json:"floors"`
	Final      train.EvalReport   `json:"final"`
	History    []train.EvalReport `json:"history"`
	MeanAccept float64            `json:"mean_accept_rate"`
	MeanStale  float64            `json:"mean_stale_share"`
	TrainSecs  float64            `json:"train_s"`
	WallSecs   float64            `json:"wall_s"`
	ImgPerSec  float64            `json:"images_per_sec"`
	Stopped    bool               `json:"stopped_early"`
}

// trainAndReport runs a whole training job into dir: floors, training with progress, final
// evaluation, checkpoint, metrics, plots and the summary table.
func trainAndReport(ctx context.Context, be backend.Backend, cfg train.Config, split *data.Split, dir string, stdout, stderr *os.File) (*Summary, error) {
	start := time.Now()
	t, err := train.NewTrainer(be, cfg, split.Train)
	if err != nil {
		return nil, err
	}
	ev, err := train.NewEvaluator(cfg, split)
	if err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return nil, err
	}
	mf, err := os.Create(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer mf.Close()
	rec := &recorder{w: mf}
	info := train.RunInfo{Config: cfg, Backend: be.Name(), TrainImages: split.Train.N, TestImages: split.Test.N,
		Params: t.Arch.NumParams(), StepsPerEpoch: t.StepsPerEpoch(), TotalSteps: t.TotalSteps()}
	rec.log("start", info)
	fmt.Fprintf(stdout, "emc2 train: %s%s on %s (%d train / %d test images, %dx%dx%d), batch %d, %d epochs, β=%.3g, %s lr %.3g, backend %s, %d parameters\n",
		cfg.Method, variantNote(cfg), split.Train.Name, split.Train.N, split.Test.N, split.Train.H, split.Train.W, split.Train.C,
		cfg.Batch, cfg.Epochs, cfg.Beta, cfg.Optimizer, cfg.LR, be.Name(), info.Params)

	s := &Summary{Config: cfg}
	fmt.Fprintln(stderr, "measuring floors: raw pixels and the encoder at random initialisation ...")
	raw, err := ev.RawPixelFloor(ctx)
	if err != nil {
		return nil, err
	}
	initRep, err := ev.Evaluate(ctx, t)
	if err != nil {
		return nil, err
	}
	rnd := train.Floor{Name: "random init", ProbeTest: initRep.ProbeTest, ProbeTrain: initRep.ProbeTrain, KNN1: initRep.KNN1, KNN10: initRep.KNN10}
	s.Floors = []train.Floor{raw, rnd}
	for _, f := range s.Floors {
		fmt.Fprintf(stderr, "floor %-12s probe %.4f | 1-NN %.4f | 10-NN %.4f\n", f.Name+":", f.ProbeTest, f.KNN1, f.KNN10)
	}
	rec.log("floor", raw)
	rec.log("floor", rnd)
	rec.log("eval", initRep)
	s.History = append(s.History, initRep)

	bar := newProgressBar(stderr, t.TotalSteps(), cfg.Method)
	obs := &cliObserver{bar: bar, rec: rec, stderr: stderr}
	trainStart := time.Now()
	hist, runErr := t.Run(ctx, ev, obs)
	bar.finish()
	s.TrainSecs = time.Since(trainStart).Seconds() - obs.evalSecs
	s.History = append(s.History, hist...)
	s.MeanAccept = obs.mean(func(p train.Progress) float64 { return p.AcceptRate })
	s.MeanStale = obs.mean(func(p train.Progress) float64 { return p.StaleShare })
	s.ImgPerSec = float64(t.Step*cfg.Batch) / max(s.TrainSecs, 1e-9)
	if runErr != nil {
		if !errors.Is(runErr, context.Canceled) {
			return nil, runErr
		}
		s.Stopped = true
		fmt.Fprintf(stderr, "stopped at step %d of %d; evaluating what was trained ...\n", t.Step, t.TotalSteps())
		r, err := ev.Evaluate(context.Background(), t)
		if err != nil {
			return nil, err
		}
		s.History = append(s.History, r)
		rec.log("eval", r)
	}
	s.Final = s.History[len(s.History)-1]
	ck, err := t.Snapshot()
	if err != nil {
		return nil, err
	}
	if err := ck.Save(filepath.Join(dir, "checkpoint.ckpt")); err != nil {
		return nil, err
	}
	s.WallSecs = time.Since(start).Seconds()
	rec.log("summary", s)
	if err := writeJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return nil, err
	}
	if err := writePlots(dir, obs.steps, s); err != nil {
		fmt.Fprintln(stderr, "plots:", err)
	}
	printSummary(stdout, s)
	if rec.err != nil {
		return s, fmt.Errorf("metrics: %w", rec.err)
	}
	if s.Stopped {
		return s, runErr
	}
	return s, nil
}

func variantNote(c train.Config) string {
	if c.Method == "emc2" {
		return " (" + c.Variant + " sampler)"
	}
	return ""
}

// cliObserver forwards progress to the bar and the metrics file.
type cliObserver struct {
	bar      *progressBar
	rec      *recorder
	stderr   io.Writer
	steps    []train.Progress
	evalSecs float64
}

func (o *cliObserver) Started(train.RunInfo) {}

func (o *cliObserver) Stepped(p train.Progress) {
	o.steps = append(o.steps, p)
	o.rec.log("step", p)
	o.bar.update(p)
}

func (o *cliObserver) Evaluated(r train.EvalReport) {
	o.evalSecs += r.Seconds
	o.rec.log("eval", r)
	if o.bar.tty {
		fmt.Fprintln(o.stderr)
	}
	fmt.Fprintf(o.stderr, "epoch %.0f: probe %.4f | 1-NN %.4f | 10-NN %.4f | global loss %.4f | eval %.1fs\n",
		r.Epoch, r.ProbeTest, r.KNN1, r.KNN10, r.GlobalLoss, r.Seconds)
}

// mean averages a statistic over all steps (each report weighted by the steps it covers).
func (o *cliObserver) mean(stat func(train.Progress) float64) float64 {
	var s, n float64
	for _, p := range o.steps {
		s += stat(p) * float64(p.Steps)
		n += float64(p.Steps)
	}
	return s / max(n, 1)
}

// recorder writes one JSON object per line: {"type": ..., "data": ...}.
type recorder struct {
	w   io.Writer
	err error
}

func (r *recorder) log(kind string, v any) {
	if r.err != nil {
		return
	}
	b, err := json.Marshal(map[string]any{"type": kind, "data": v})
	if err == nil {
		_, err = r.w.Write(append(b, '\n'))
	}
	r.err = err
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func printSummary(w io.Writer, s *Summary) {
	c := s.Config
	fmt.Fprintf(w, "\n%-28s %8s %8s %8s\n", "encoder (hidden features)", "probe", "1-NN", "10-NN")
	for _, f := range s.Floors {
		fmt.Fprintf(w, "%-28s %8.4f %8.4f %8.4f\n", "floor: "+f.Name, f.ProbeTest, f.KNN1, f.KNN10)
	}
	name := c.Method + variantNote(c)
	fmt.Fprintf(w, "%-28s %8.4f %8.4f %8.4f\n", "trained: "+name, s.Final.ProbeTest, s.Final.KNN1, s.Final.KNN10)
	fmt.Fprintf(w, "\nglobal loss (held-out) %.4f -> %.4f | alignment %.3f | uniformity %.3f | effective rank %.1f\n",
		s.History[0].GlobalLoss, s.Final.GlobalLoss, s.Final.Alignment, s.Final.Uniformity, s.Final.EffRank)
	if c.Method == "emc2" {
		fmt.Fprintf(w, "mean acceptance rate %.2f%% | stale (dropped) share of recorded steps %.2f%%\n", 100*s.MeanAccept, 100*s.MeanStale)
	}
	fmt.Fprintf(w, "training %s (%.0f images/s) | wall %s\n", formatDuration(s.TrainSecs), s.ImgPerSec, formatDuration(s.WallSecs))
}
