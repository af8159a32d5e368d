// Package run owns one training run from its data to its summary, for every front end: the CLI
// (native/), the page (core/session), the experiments and plans of several runs.
//
// A Job decides everything about a run's life that is not presentation: which images it trains on
// (Prepare, then the config's subset), when the encoder is evaluated (every EvalEvery epochs and at
// the end), when the floors are measured (the random-init encoder and raw pixels, both after the
// first evaluation, so that training starts at once; the random-init evaluation is kept as the
// history's step-0 point), when checkpoints are taken
// (every CheckpointEvery steps, on pause, on stop and at the end), what a pause and a stop mean, and
// what the summary says. It keeps the run's metric history and stores it in its checkpoints, so a
// restored run has its whole past.
//
// Front ends hear about the run through an Observer and present it; they call the job, never the
// other way round:
//
//	front end → Job → train.Trainer / train.Evaluator → backend
//	front end ← Observer events
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/train"
)

// MinTrain is the fewest training images Prepare leaves when it holds out a test set.
const MinTrain = 2

// DivergedError stops a run whose loss or weights stopped being finite numbers. The run is not
// checkpointed after it, so the last checkpoint (LastGood, −1 for none) holds finite weights.
type DivergedError struct {
	Step     int    // the step at which it was noticed
	What     string // "the loss is NaN", "the weights hold +Inf", …
	LastGood int    // step of the last checkpoint taken, or −1
	LR       float64
}

func (e *DivergedError) Error() string {
	msg := fmt.Sprintf("training diverged at step %d (%s) and was stopped", e.Step, e.What)
	if e.LastGood >= 0 {
		msg += fmt.Sprintf("; the last good checkpoint, at step %d, is kept", e.LastGood)
	}
	return msg + fmt.Sprintf("; train again with a smaller learning rate than %g (e.g. %g)", e.LR, e.LR/10)
}

// Collapse thresholds: an evaluation past step 0 whose embeddings have (almost) all become one point
// (uniformity above CollapseUniformity) or whose hidden features span fewer than CollapseEffRank
// dimensions has collapsed. Measured on the default data: a healthy 10-epoch run ends at uniformity
// −3.5 and effective rank 49, the random-init encoder sits at −0.16 and 69, and a run collapsed by
// --lr 1000 --optimizer sgd at −3·10⁻⁷ and 2.4.
const (
	CollapseUniformity = -0.01
	CollapseEffRank    = 4
)

// collapseAlarm says why an evaluation looks collapsed, or "" when it does not.
func collapseAlarm(r train.EvalReport) string {
	var why []string
	if r.Uniformity > CollapseUniformity && r.Uniformity != 0 {
		why = append(why, fmt.Sprintf("uniformity %.3g: the embeddings are nearly one point", r.Uniformity))
	}
	if r.EffRank > 0 && r.EffRank < CollapseEffRank {
		why = append(why, fmt.Sprintf("effective rank %.1f: the features span almost no dimensions", r.EffRank))
	}
	if len(why) == 0 {
		return ""
	}
	return "the encoder has collapsed (" + strings.Join(why, "; ") + "); a smaller learning rate or stronger augmentations usually help"
}

// Prepare gives a loaded split a test set when it has none: every tenth training image is held out
// (see data.Split.HoldOut). It is the one definition of the held-out set, applied to the whole
// loaded data before any subset, so runs with different subsets are measured on the same images.
// It returns how many images it held out.
func Prepare(split *data.Split) (int, error) {
	k, err := split.HoldOut(MinTrain)
	if err != nil {
		return 0, fmt.Errorf("hold out a test set: %w", err)
	}
	return k, nil
}

// Select returns the images a run of cfg trains and is evaluated on: the first TrainSubset training
// images of a prepared split (all when 0), and its test set.
func Select(split *data.Split, cfg train.Config) *data.Split {
	return &data.Split{Train: split.Train.Head(cfg.TrainSubset), Test: split.Test}
}

// Options are a front end's choices that do not change what is trained.
type Options struct {
	// CheckpointEvery is the number of steps between periodic checkpoints, and EveryEpoch adds one at
	// the end of each epoch; without either they are taken only on pause, on stop and at the end.
	CheckpointEvery int
	EveryEpoch      bool
	// Save keeps a checkpoint (a file, the browser's storage); nil keeps none.
	Save func(*train.Checkpoint) error
}

// Info describes a run as it starts or resumes.
type Info struct {
	Config        train.Config `json:"config"`
	Name          string       `json:"name"` // "simclr", "emc2-fresh"
	HasChains     bool         `json:"has_chains"`
	Backend       string       `json:"backend"`
	TrainImages   int          `json:"train_images"`
	TestImages    int          `json:"test_images"`
	Params        int          `json:"params"`
	StepsPerEpoch int          `json:"steps_per_epoch"`
	TotalSteps    int          `json:"total_steps"`
	Step          int          `json:"step"`                  // where this stretch of training starts
	GPUBytes      uint64       `json:"gpu_bytes"`             // device memory allocated (0 when the backend does not say)
	GPUKernels    string       `json:"gpu_kernels,omitempty"` // GPU: "tiled" or "register" GEMM/convolution kernels
}

// Progress is reported after step 1 and every LogEvery steps.
type Progress struct {
	train.StepStats
	Step         int     `json:"step"`
	Total        int     `json:"total"`
	Epoch        float64 `json:"epoch"`
	LR           float64 `json:"lr"`
	ImagesPerSec float64 `json:"images_per_sec"` // training images (not views) per second
	Elapsed      float64 `json:"elapsed_s"`      // training seconds of this stretch, evaluations excluded
	Seconds      float64 `json:"report_s"`       // training seconds of the steps this report covers
	ETA          float64 `json:"eta_s"`
}

// CheckpointInfo says that a checkpoint was taken (or failed).
type CheckpointInfo struct {
	Step  int    `json:"step"`
	Total int    `json:"total"`
	Data  string `json:"data"` // the data spec the checkpoint belongs to
	Name  string `json:"name"` // the run's method ("emc2-fresh")
	Error string `json:"error,omitempty"`
}

// Observer hears about a run. Calls come from the goroutine that called Run or Stop, between steps,
// so an observer may read from the job (embed images, look at a chain) while it handles one.
type Observer interface {
	Started(Info)
	Status(what string) // what the job is doing now, for a status line ("evaluating …")
	Stepped(Progress)
	Evaluated(train.EvalReport)
	Floor(train.Floor)
	Checkpointed(CheckpointInfo)
}

// Nop is an Observer that ignores everything; embed it to handle only some events.
type Nop struct{}

func (Nop) Started(Info)                {}
func (Nop) Status(string)               {}
func (Nop) Stepped(Progress)            {}
func (Nop) Evaluated(train.EvalReport)  {}
func (Nop) Floor(train.Floor)           {}
func (Nop) Checkpointed(CheckpointInfo) {}

// History is what a run has reported so far; checkpoints carry it.
type History struct {
	Progress  []Progress         `json:"progress"`
	Evals     []train.EvalReport `json:"evals"`
	Floors    []train.Floor      `json:"floors"`
	TrainSecs float64            `json:"train_s"` // training time so far, evaluations excluded
	Stopped   bool               `json:"stopped,omitempty"`
}

// Job is one run: a trainer, its evaluator and its history.
type Job struct {
	Cfg     train.Config
	Data    *data.Split // what the run trains (Train) and is evaluated on (Test)
	T       *train.Trainer
	Ev      *train.Evaluator
	History History

	be       backend.Backend
	opt      Options
	created  time.Time
	lastCk   int // step of the last checkpoint attempt
	lastGood int // step of the last checkpoint saved, −1 for none
}

// New builds a run of cfg on a prepared split (see Prepare): it selects the training images, builds
// the trainer and the evaluator, and starts at step 0.
func New(be backend.Backend, cfg train.Config, split *data.Split, opt Options) (*Job, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sel := Select(split, cfg)
	t, err := train.NewTrainer(be, cfg, sel.Train)
	if err != nil {
		return nil, err
	}
	ev, err := train.NewEvaluator(cfg, sel)
	if err != nil {
		return nil, err
	}
	return &Job{Cfg: cfg, Data: sel, T: t, Ev: ev, be: be, opt: opt, created: time.Now(), lastGood: -1}, nil
}

// Restore continues a run from a checkpoint taken on the same data: weights, optimizer and method
// state, step, and the history the checkpoint carries.
func (j *Job) Restore(ck *train.Checkpoint) error {
	var h History
	if len(ck.Meta) > 0 {
		if err := json.Unmarshal(ck.Meta, &h); err != nil {
			return fmt.Errorf("checkpoint history: %w", err)
		}
	}
	if err := j.T.Restore(ck); err != nil {
		return err
	}
	j.History, j.lastCk, j.lastGood = h, j.T.Step, j.T.Step
	return nil
}

// Info describes the run now.
func (j *Job) Info() Info {
	c := j.Cfg
	in := Info{Config: c, Name: c.RunName(), HasChains: c.Method.HasChains(), Backend: j.be.Name(),
		TrainImages: j.T.N, TestImages: j.Data.Test.N, Params: j.T.Arch.NumParams(),
		StepsPerEpoch: j.T.StepsPerEpoch(), TotalSteps: j.T.TotalSteps(), Step: j.T.Step}
	if a, ok := j.be.(interface{ AllocatedBytes() uint64 }); ok {
		in.GPUBytes = a.AllocatedBytes()
	}
	if k, ok := j.be.(interface{ Kernels() string }); ok {
		in.GPUKernels = k.Kernels()
	}
	return in
}

// Done reports whether the run has ended: all its steps taken, or stopped early.
func (j *Job) Done() bool { return j.History.Stopped || j.T.Step >= j.T.TotalSteps() }

// Checkpoint snapshots the run, with its history.
func (j *Job) Checkpoint() (*train.Checkpoint, error) {
	ck, err := j.T.Snapshot()
	if err != nil {
		return nil, err
	}
	if ck.Meta, err = json.Marshal(j.History); err != nil {
		return nil, fmt.Errorf("checkpoint history: %w", err)
	}
	return ck, nil
}

// checkpoint takes a checkpoint and hands it to Options.Save.
func (j *Job) checkpoint(obs Observer) error {
	j.lastCk = j.T.Step
	if j.opt.Save == nil {
		return nil
	}
	info := CheckpointInfo{Step: j.T.Step, Total: j.T.TotalSteps(), Data: j.Cfg.Data, Name: j.Cfg.RunName()}
	ck, err := j.Checkpoint()
	if err == nil {
		if what := nonFinite(ck); what != "" {
			return &DivergedError{Step: j.T.Step, What: what, LastGood: j.lastGood, LR: j.Cfg.LR}
		}
		err = j.opt.Save(ck)
	}
	if err == nil {
		j.lastGood = ck.Step
	}
	if err != nil {
		err = fmt.Errorf("checkpoint at step %d: %w", j.T.Step, err)
		info.Error = err.Error()
	}
	obs.Checkpointed(info)
	return err
}

// nonFinite names the first tensor of a checkpoint holding NaN or ±Inf, or returns "".
func nonFinite(ck *train.Checkpoint) string {
	for _, t := range ck.Tensors {
		for _, v := range ck.F32[t.Name] {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Sprintf("%s holds %v", t.Name, v)
			}
		}
	}
	return ""
}

// evaluate measures the encoder now, records the report and tells obs. An evaluation always
// completes: a pause or stop arriving during it takes effect after it, so no point goes unmeasured.
func (j *Job) evaluate(ctx context.Context, obs Observer, what string) error {
	obs.Status(what)
	r, err := j.Ev.Evaluate(context.WithoutCancel(ctx), j.T.Embedder())
	if err != nil {
		return fmt.Errorf("evaluation at step %d: %w", j.T.Step, err)
	}
	r.Step, r.Epoch, r.TrainSecs = j.T.Step, float64(j.T.Step)/float64(j.T.StepsPerEpoch()), j.History.TrainSecs
	if r.Step > 0 {
		r.Alarm = collapseAlarm(r)
	}
	j.History.Evals = append(j.History.Evals, r)
	obs.Evaluated(r)
	return nil
}

// floors measures what a run is compared with, once per run, after its first evaluation: the
// encoder at random initialisation (an evaluation of the step-0 weights, kept first in the history
// and read as the random-init floor) and a probe and k-NN on raw pixels. Neither delays step 1.
func (j *Job) floors(ctx context.Context, obs Observer) error {
	has := func(name string) bool {
		return slices.ContainsFunc(j.History.Floors, func(f train.Floor) bool { return f.Name == name })
	}
	if !has(train.FloorRandomInit) {
		obs.Status("evaluating the encoder at random initialisation (a floor)")
		r, err := j.Ev.Evaluate(context.WithoutCancel(ctx), j.T.InitEmbedder())
		if err != nil {
			return fmt.Errorf("evaluation at random initialisation: %w", err)
		}
		j.History.Evals = slices.Insert(j.History.Evals, 0, r)
		obs.Evaluated(r)
		j.addFloor(r.AsFloor(), obs)
	}
	if !has(train.FloorRawPixels) {
		obs.Status("measuring the raw-pixel floor (probe and k-NN on pixels)")
		f, err := j.Ev.RawPixelFloor(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("raw-pixel floor: %w", err)
		}
		j.addFloor(f, obs)
	}
	return nil
}

func (j *Job) addFloor(f train.Floor, obs Observer) {
	j.History.Floors = append(j.History.Floors, f)
	obs.Floor(f)
}

// Run trains from the current step until the run ends or ctx is cancelled; the first step comes at
// once (the floors wait for the first evaluation). Run returns nil when all steps are taken (after
// the final evaluation, the floors and a checkpoint), and ctx's error when cancelled (after a
// checkpoint: the run is paused and Run may be called again, or Stop).
func (j *Job) Run(ctx context.Context, obs Observer) error {
	if obs == nil {
		obs = Nop{}
	}
	if j.Done() {
		return nil
	}
	obs.Started(j.Info())
	t := j.T
	spe, total := t.StepsPerEpoch(), t.TotalSteps()
	start, startStep := time.Now(), t.Step
	var evalSecs float64 // excluded from the throughput
	trainSecs0 := j.History.TrainSecs
	final := false // the time was accounted for the last checkpoint; it must agree with it
	account := func() { j.History.TrainSecs = trainSecs0 + time.Since(start).Seconds() - evalSecs }
	defer func() {
		if !final {
			account()
		}
	}()
	logEvery := max(1, j.Cfg.LogEvery)
	var pending *train.StatsRequest
	var pendingAt, reportedAt float64 // training seconds when pending was requested, and the one before
	report := func() error {
		if pending == nil {
			return nil
		}
		r, el := pending, pendingAt
		pending = nil
		prev := reportedAt
		reportedAt = el
		st, err := r.Wait()
		if err != nil {
			return err
		}
		if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
			return &DivergedError{Step: r.Last, What: fmt.Sprintf("the loss is %v", st.Loss), LastGood: j.lastGood, LR: j.Cfg.LR}
		}
		done := float64(r.Last - startStep)
		p := Progress{StepStats: st, Step: r.Last, Total: total, Epoch: float64(r.Last) / float64(spe),
			LR: float64(t.LRAt(r.Last)), ImagesPerSec: done * float64(j.Cfg.Batch) / el, Elapsed: el, Seconds: el - prev,
			ETA: el / done * float64(total-r.Last)}
		j.History.Progress = append(j.History.Progress, p)
		obs.Stepped(p)
		return nil
	}
	obs.Status("training")
	for t.Step < total {
		if err := ctx.Err(); err != nil {
			rerr := report()
			account()
			final = true
			return errors.Join(err, rerr, j.checkpoint(obs))
		}
		t.TrainStep()
		if t.Step%logEvery == 0 || t.Step == total || t.Step == 1 {
			req := t.RequestStats()
			if err := report(); err != nil {
				return err
			}
			pending, pendingAt = req, time.Since(start).Seconds()-evalSecs
			if t.Step == 1 { // reported at once (the others one report late): the run is seen to move
				if err := report(); err != nil {
					return err
				}
			}
		}
		if t.Step%spe == 0 {
			epoch := t.Step / spe
			if epoch == j.Cfg.Epochs || (j.Cfg.EvalEvery > 0 && epoch%j.Cfg.EvalEvery == 0) {
				if err := report(); err != nil {
					return err
				}
				account()
				evalStart := time.Now()
				err := j.evaluate(ctx, obs, fmt.Sprintf("evaluating the encoder after epoch %d", epoch))
				if err == nil {
					err = j.floors(ctx, obs)
				}
				evalSecs += time.Since(evalStart).Seconds()
				if err != nil {
					return err
				}
				obs.Status("training")
			}
		}
		periodic := j.opt.CheckpointEvery > 0 && t.Step-j.lastCk >= j.opt.CheckpointEvery
		if (periodic || j.opt.EveryEpoch && t.Step%spe == 0) && t.Step < total {
			account()
			var div *DivergedError
			if err := j.checkpoint(obs); errors.As(err, &div) {
				return err
			} // any other failure of a periodic checkpoint is reported; training goes on
		}
	}
	if err := report(); err != nil {
		return err
	}
	account()
	final = true
	return j.checkpoint(obs)
}

// Stop ends a paused run early: it evaluates what was trained (unless that step was just
// evaluated), measures the floors if they are still missing, marks the run done and
// checkpoints.
func (j *Job) Stop(ctx context.Context, obs Observer) error {
	if obs == nil {
		obs = Nop{}
	}
	if j.History.Stopped {
		return nil
	}
	if n := len(j.History.Evals); n == 0 || j.History.Evals[n-1].Step != j.T.Step {
		if err := j.evaluate(ctx, obs, fmt.Sprintf("stopped at step %d: evaluating what was trained", j.T.Step)); err != nil {
			return err
		}
	}
	if err := j.floors(ctx, obs); err != nil {
		return err
	}
	j.History.Stopped = j.T.Step < j.T.TotalSteps()
	return j.checkpoint(obs)
}

// Summary is what a run reports at its end (or now).
type Summary struct {
	Config     train.Config       `json:"config"`
	Floors     []train.Floor      `json:"floors"`
	Final      train.EvalReport   `json:"final"`
	History    []train.EvalReport `json:"history"`
	MeanAccept float64            `json:"mean_accept_rate"`
	MeanStale  float64            `json:"mean_stale_share"`
	TrainSecs  float64            `json:"train_s"`
	WallSecs   float64            `json:"wall_s"` // since the job was built in this process
	ImgPerSec  float64            `json:"images_per_sec"`
	StepMs     float64            `json:"median_step_ms"` // median over progress reports of their mean step time
	Steps      int                `json:"steps"`
	Stopped    bool               `json:"stopped_early"`
	// DeviceBytes is the memory the backend allocated for the run (GPU buffers, or the CPU
	// backend's working buffers), images included; StateBytesPerImage is the method's own state.
	DeviceBytes        uint64  `json:"device_bytes"`
	StateBytesPerImage float64 `json:"state_bytes_per_image"`
	Alarm              string  `json:"alarm,omitempty"` // the final evaluation's collapse alarm
}

// Summary sums the run up from its history.
func (j *Job) Summary() Summary {
	h := j.History
	s := Summary{Config: j.Cfg, Floors: h.Floors, History: h.Evals, TrainSecs: h.TrainSecs, Steps: j.T.Step,
		Stopped: h.Stopped, WallSecs: time.Since(j.created).Seconds()}
	if n := len(h.Evals); n > 0 {
		s.Final = h.Evals[n-1]
		s.Alarm = s.Final.Alarm
	}
	s.DeviceBytes, s.StateBytesPerImage = j.Info().GPUBytes, j.T.StateBytesPerImage()
	s.StepMs = medianStepMs(h.Progress)
	s.MeanAccept = mean(h.Progress, func(p Progress) float64 { return p.AcceptRate })
	s.MeanStale = mean(h.Progress, func(p Progress) float64 { return p.StaleShare })
	s.ImgPerSec = float64(j.T.Step*j.Cfg.Batch) / max(h.TrainSecs, 1e-9)
	return s
}

// Floor returns the floor of that name, if it was measured.
func (s Summary) Floor(name string) (train.Floor, bool) {
	for _, f := range s.Floors {
		if f.Name == name {
			return f, true
		}
	}
	return train.Floor{}, false
}

// medianStepMs is the median over progress reports of each report's mean step time.
func medianStepMs(ps []Progress) float64 {
	var ms []float64
	for _, p := range ps {
		if p.Steps > 0 && p.Seconds > 0 {
			ms = append(ms, 1000*p.Seconds/float64(p.Steps))
		}
	}
	if len(ms) == 0 {
		return 0
	}
	slices.Sort(ms)
	return ms[len(ms)/2]
}

// mean averages a statistic over progress reports, each weighted by the steps it covers.
func mean(ps []Progress, stat func(Progress) float64) float64 {
	var s, n float64
	for _, p := range ps {
		s += stat(p) * float64(p.Steps)
		n += float64(p.Steps)
	}
	return s / max(n, 1)
}
