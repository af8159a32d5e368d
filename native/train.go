package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// trainFlags binds the command line to a train.Config. Names follow the paper's code where it has one.
func trainFlags(fs *flag.FlagSet, c *train.Config) (tau *float64, channels *string, out *string, imageSize *int) {
	fs.TextVar(&c.Method, "method", c.Method, "simclr | sogclr | emc2")
	fs.TextVar(&c.Variant, "emc2-variant", c.Variant, "EMC² sampler: paper (stale stored scores, as released) | fresh (re-scored chain state) | iid (experimental: fresh + uniform random in-batch proposals) | cached (fresh scores from a per-image embedding cache: no extra forward)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "images per batch B (2B augmented views)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
	fs.Float64Var(&c.Beta, "beta", c.Beta, "inverse temperature β = 1/τ")
	tau = fs.Float64("tau", 0, "temperature τ (overrides --beta when set)")
	fs.Float64Var(&c.LR, "lr", c.LR, "base learning rate (warm-up, then cosine)")
	fs.TextVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd | adam | lars")
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

// flagOf is the command-line spelling of a setting named by train.SettingError.
var flagOf = map[string]string{
	"warmup_epochs": "--warmup", "augment.flip_p": "--flip", "augment.jitter_p": "--jitter", "augment.gray_p": "--grayscale",
	"augment.blur_p": "--blur", "augment.noise_std": "--noise", "augment.crop_ratio": "(crop ratio)",
}

// flagError rewrites a core setting error in the flags' spelling.
func flagError(err error) error {
	var se *train.SettingError
	if !errors.As(err, &se) {
		return err
	}
	name, ok := flagOf[se.Setting]
	if !ok {
		name = "--" + strings.ReplaceAll(strings.TrimPrefix(se.Setting, "augment."), "_", "-")
	}
	return fmt.Errorf("%s %v: %s", name, se.Value, se.Want)
}

func runTrain(ctx context.Context, args []string) error {
	cfg := train.DefaultConfig()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	tau, channels, out, imageSize := trainFlags(fs, &cfg)
	backendName := fs.String("backend", "auto", "auto (a hardware GPU if present, else cpu) | gpu | cpu")
	resume := fs.String("resume", "", "continue the run in this folder from its last checkpoint (only --lr and --backend may change)")
	ckEvery := fs.Int("checkpoint-every", 0, "also checkpoint every N steps (checkpoints are taken at every epoch's end, on Ctrl-C and at the end)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *resume != "" {
		return resumeTrain(ctx, fs, *resume, cfg.LR, *backendName, *imageSize, *ckEvery)
	}
	tauSet := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "tau" {
			tauSet, cfg.Beta = true, 1 / *tau // validated as β below: 0, negative or NaN τ gives a β out of range
		}
	})
	var err error
	if cfg.Channels, err = parseChannels(*channels); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		if tauSet {
			var se *train.SettingError
			if errors.As(err, &se) && se.Setting == "beta" {
				return fmt.Errorf("--tau %v: want a positive temperature τ ≥ 0.001", *tau)
			}
		}
		return flagError(err)
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
	var dir string // made once the job is known to be buildable
	job, err := run.New(be, cfg, split, cliOptions(&dir, *ckEvery))
	if err != nil {
		return flagError(err)
	}
	if dir, err = newRunDir(*out, cfg); err != nil {
		return err
	}
	return trainInto(ctx, job, dir)
}

// cliOptions checkpoints into *dir at every epoch's end (and every ckEvery steps).
func cliOptions(dir *string, ckEvery int) run.Options {
	return run.Options{EveryEpoch: true, CheckpointEvery: ckEvery,
		Save: func(ck *train.Checkpoint) error { return ck.Save(filepath.Join(*dir, "checkpoint.ckpt")) }}
}

// trainInto runs the job into dir and says where everything is, or how to go on after a divergence.
func trainInto(ctx context.Context, job *run.Job, dir string) error {
	res, err := trainAndReport(ctx, job, dir, os.Stdout, os.Stderr)
	if res != nil {
		fmt.Fprintf(os.Stdout, "\nrun folder: %s\n", dir)
	}
	var div *run.DivergedError
	if errors.As(err, &div) {
		if div.LastGood >= 0 {
			return fmt.Errorf("%w\ncontinue from the checkpoint with: emc2 train --resume %s --lr %g", err, dir, div.LR/10)
		}
		return fmt.Errorf("%w\nno checkpoint was taken before it; start again with, e.g., --lr %g", err, div.LR/10)
	}
	return flagError(err)
}

// resumeTrain continues the run in dir from its checkpoint, on the data its config names. Stale
// temporary files of an interrupted checkpoint write are removed first.
func resumeTrain(ctx context.Context, fs *flag.FlagSet, dir string, lr float64, backendName string, imageSize, ckEvery int) error {
	var other []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "resume", "lr", "backend", "image-size", "checkpoint-every":
		default:
			other = append(other, "--"+f.Name)
		}
	})
	if len(other) > 0 {
		return fmt.Errorf("--resume continues a run with its own settings; only --lr and --backend may change (not %s)", strings.Join(other, ", "))
	}
	stale, _ := filepath.Glob(filepath.Join(dir, "checkpoint.ckpt.tmp-*"))
	for _, f := range stale {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
	}
	ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoint.ckpt"))
	if err != nil {
		return fmt.Errorf("--resume %s: %w", dir, err)
	}
	cfg := ck.Config
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "lr" {
			cfg.LR = lr
		}
	})
	if err := cfg.Validate(); err != nil {
		return flagError(err)
	}
	split, err := loadData(cfg, imageSize)
	if err != nil {
		return err
	}
	be, err := openBackend(backendName, os.Stderr)
	if err != nil {
		return err
	}
	defer be.Close()
	job, err := run.New(be, cfg, split, cliOptions(&dir, ckEvery))
	if err != nil {
		return flagError(err)
	}
	if err := job.Restore(ck); err != nil {
		return fmt.Errorf("--resume %s: %w", dir, err)
	}
	if job.Done() {
		return fmt.Errorf("--resume %s: the run has ended (step %d of %d); see summary.json", dir, ck.Step, job.T.TotalSteps())
	}
	fmt.Fprintf(os.Stderr, "resuming %s at step %d of %d\n", dir, ck.Step, job.T.TotalSteps())
	return trainInto(ctx, job, dir)
}

// loadData opens --data and prepares it (run.Prepare: a test set is held out when the data has
// none) — the same preparation the page applies to the data it loads.
func loadData(cfg train.Config, imageSize int) (*data.Split, error) {
	opt := data.Options{Folder: data.FolderOptions{Size: imageSize}}
	split, skipped, err := data.Open(cfg.Data, opt)
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(os.Stderr, "data: skipped %d files (first: %s: %s)\n", len(skipped), skipped[0].Path, skipped[0].Reason)
	}
	k, err := run.Prepare(split)
	if err != nil {
		return nil, fmt.Errorf("data %q: %w", cfg.Data, err)
	}
	if k > 0 {
		fmt.Fprintf(os.Stderr, "data: no test split; holding out every tenth image (%d)\n", k)
	}
	return split, nil
}

// newRunDir makes a new folder for a run under root. Its name starts with the time and the method;
// a suffix keeps two runs started in the same second apart.
func newRunDir(root string, cfg train.Config) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("run folder: %w", err)
	}
	base := fmt.Sprintf("%s-%s-b%d-s%d", time.Now().Format("20060102-150405"), cfg.RunName(), cfg.Batch, cfg.Seed)
	for i := 0; ; i++ {
		dir := filepath.Join(root, base)
		if i > 0 {
			dir = fmt.Sprintf("%s-%d", dir, i+1)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) || i > 1000 {
			return "", fmt.Errorf("run folder: %w", err)
		}
	}
}

// trainAndReport runs a whole training job into dir: training with progress, the evaluations and
// floors the job schedules, checkpoints, metrics, plots and the summary table. Ctrl-C (ctx) stops
// the run early: what was trained is evaluated and saved.
func trainAndReport(ctx context.Context, job *run.Job, dir string, stdout, stderr *os.File) (*run.Summary, error) {
	cfg := job.Cfg
	if err := writeJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return nil, err
	}
	mf, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer mf.Close()
	rec := &recorder{w: mf}
	info := job.Info()
	sel := job.Data
	fmt.Fprintf(stdout, "emc2 train: %s on %s (%d train / %d test images, %dx%dx%d), batch %d, %d epochs, β=%.3g, %s lr %.3g, backend %s, %d parameters\n",
		methodTitle(cfg), sel.Train.Name, sel.Train.N, sel.Test.N, sel.Train.H, sel.Train.W, sel.Train.C,
		cfg.Batch, cfg.Epochs, cfg.Beta, cfg.Optimizer, cfg.LR, info.Backend, info.Params)

	obs := &cliObserver{bar: newProgressBar(stderr, info.TotalSteps, cfg.Method.HasChains()), rec: rec, stderr: stderr}
	runErr := job.Run(ctx, obs)
	obs.bar.finish()
	if runErr != nil {
		if !errors.Is(runErr, context.Canceled) || ctx.Err() == nil {
			rec.log("error", map[string]string{"message": runErr.Error()})
			return nil, runErr
		}
		fmt.Fprintf(stderr, "stopped at step %d of %d\n", job.T.Step, job.T.TotalSteps())
		if err := job.Stop(context.Background(), obs); err != nil {
			return nil, err
		}
	}
	s := job.Summary()
	if err := writeSafetensors(filepath.Join(dir, "encoder.safetensors"), job); err != nil {
		return nil, err
	}
	rec.log("summary", s)
	if err := writeJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return nil, err
	}
	if err := writePlots(dir, job.History.Progress, &s); err != nil {
		fmt.Fprintln(stderr, "plots:", err)
	}
	printSummary(stdout, &s)
	if s.Alarm != "" {
		fmt.Fprintln(stderr, "warning:", s.Alarm)
	}
	if rec.err != nil {
		return &s, fmt.Errorf("metrics: %w", rec.err)
	}
	if s.Stopped {
		return &s, runErr
	}
	return &s, nil
}

// writeSafetensors exports the encoder's weights (for PyTorch: docs/torch/emc2_torch.py).
func writeSafetensors(path string, job *run.Job) error {
	ck, err := job.T.Snapshot()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ck.WriteSafetensors(&buf, job.T.Arch); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// methodTitle is "emc2 (fresh sampler)" or "simclr".
func methodTitle(c train.Config) string {
	if c.Method.HasChains() {
		return fmt.Sprintf("%s (%s sampler)", c.Method, c.Variant)
	}
	return c.Method.String()
}

// cliObserver forwards the run's events to the progress bar, the terminal and the metrics file.
type cliObserver struct {
	bar    *progressBar
	rec    *recorder
	stderr io.Writer
}

func (o *cliObserver) Started(info run.Info) { o.rec.log("start", info) }

func (o *cliObserver) Status(msg string) {
	if msg != "training" {
		o.bar.note(msg + " ...")
	}
}

func (o *cliObserver) Stepped(p run.Progress) {
	o.rec.log("step", p)
	o.bar.update(p)
}

func (o *cliObserver) Evaluated(r train.EvalReport) {
	o.rec.log("eval", r)
	what := fmt.Sprintf("epoch %.0f", r.Epoch)
	if r.Step == 0 {
		what = "random init" // measured after the first epoch, of the step-0 weights
	}
	o.bar.note(fmt.Sprintf("%s: probe %.4f | 1-NN %.4f | 10-NN %.4f | global loss %.4f | eval %.1fs",
		what, r.ProbeTest, r.KNN1, r.KNN10, r.GlobalLoss, r.Seconds))
	if r.Alarm != "" {
		o.bar.note("warning: " + r.Alarm)
	}
}

func (o *cliObserver) Floor(f train.Floor) {
	o.rec.log("floor", f)
	o.bar.note(fmt.Sprintf("floor %-12s probe %.4f | 1-NN %.4f | 10-NN %.4f", f.Name+":", f.ProbeTest, f.KNN1, f.KNN10))
}

func (o *cliObserver) Checkpointed(info run.CheckpointInfo) {
	if info.Error != "" {
		o.bar.note("checkpoint failed: " + info.Error)
	}
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

func printSummary(w io.Writer, s *run.Summary) {
	c := s.Config
	fmt.Fprintf(w, "\n%-28s %8s %8s %8s\n", "encoder (hidden features)", "probe", "1-NN", "10-NN")
	for _, f := range s.Floors {
		fmt.Fprintf(w, "%-28s %8.4f %8.4f %8.4f\n", "floor: "+f.Name, f.ProbeTest, f.KNN1, f.KNN10)
	}
	fmt.Fprintf(w, "%-28s %8.4f %8.4f %8.4f\n", "trained: "+methodTitle(c), s.Final.ProbeTest, s.Final.KNN1, s.Final.KNN10)
	if len(s.History) > 0 {
		fmt.Fprintf(w, "\nglobal loss (held-out) %.4f -> %.4f | alignment %.3f | uniformity %.3f | effective rank %.1f\n",
			s.History[0].GlobalLoss, s.Final.GlobalLoss, s.Final.Alignment, s.Final.Uniformity, s.Final.EffRank)
	}
	if c.Method.HasChains() {
		fmt.Fprintf(w, "mean acceptance rate %.2f%% | stale (dropped) share of recorded steps %.2f%%\n", 100*s.MeanAccept, 100*s.MeanStale)
	}
	fmt.Fprintf(w, "training %s (%.0f images/s) | wall %s\n", formatDuration(s.TrainSecs), s.ImgPerSec, formatDuration(s.WallSecs))
}
