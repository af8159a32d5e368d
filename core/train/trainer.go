package train

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/optim"
	"github.com/emc2ml/emc2/core/rng"
)

// Trainer holds a run's device state: the dataset, the encoder, the optimizer and the method.
type Trainer struct {
	Cfg  Config
	Arch model.Arch
	Enc  *model.Encoder
	Data *data.Dataset // training images
	N    int           // training images (Data.N, or half of it with FiniteViews)

	be      backend.Backend
	key     rng.Key
	method  method
	images  backend.Buf
	batch   backend.Buf // B dataset indices
	rows    backend.Buf // dataset index per encoder row (2B views, then extra rows)
	x       backend.Buf // augmented views
	sim     backend.Buf // 2B × cols
	omega   backend.Buf // 2B × cols
	dOut    backend.Buf // gradient w.r.t. the embeddings
	stats   backend.Buf // ring of LogEvery slots of objective.NumStats values
	m, v    backend.Buf // optimizer state
	optHP   optim.Params
	cols    int
	encRows int

	Step       int // optimizer steps taken
	perm       []int
	permEpoch  int
	statsSince int // steps written to the ring since the last read
}

// NewTrainer builds the device state for cfg on be, with weights initialised from the seed.
func NewTrainer(be backend.Backend, cfg Config, train *data.Dataset) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := train.Validate(); err != nil {
		return nil, err
	}
	n := train.N
	if cfg.FiniteViews {
		if n%2 != 0 {
			return nil, fmt.Errorf("finite views: the dataset must hold two views per image, got %d images", n)
		}
		n /= 2
	}
	if n < cfg.Batch {
		return nil, fmt.Errorf("--batch %d is larger than the %d training images", cfg.Batch, n)
	}
	arch := model.Arch{InH: train.H, InW: train.W, InC: train.C, Channels: cfg.Channels, Hidden: cfg.Hidden, Proj: cfg.Proj}
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if err := checkLimits(be, cfg, arch, train); err != nil {
		return nil, err
	}
	kind, _ := optim.ParseKind(cfg.Optimizer)
	t := &Trainer{Cfg: cfg, Arch: arch, Data: train, N: n, be: be, key: rng.NewKey(cfg.Seed), permEpoch: -1}
	t.method = newMethod(be, cfg, n, t.key)
	B := cfg.Batch
	t.encRows = 2*B + t.method.extraRows()
	t.cols = t.encRows
	t.Enc = model.NewEncoder(be, arch, t.encRows, arch.Init(t.key))
	t.images = be.UploadImages(train.Pix)
	t.batch, t.rows = be.AllocU32(B), be.AllocU32(t.encRows)
	t.x = be.Alloc(t.encRows * t.Enc.InputLen())
	t.sim, t.omega = be.Alloc(2*B*t.cols), be.Alloc(2*B*t.cols)
	t.dOut = be.Alloc(t.encRows * arch.Proj)
	t.stats = be.Alloc(max(1, cfg.LogEvery) * backend.Align)
	_, total := arch.Layout()
	t.m, t.v = be.Alloc(total), be.Alloc(total)
	t.optHP = optim.Params{Kind: kind, Momentum: float32(cfg.Momentum), Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		WeightDecay: float32(cfg.WeightDecay), Trust: 1e-3, Segments: t.Enc.Segments}
	return t, nil
}

// checkLimits refuses, before allocating anything, a run whose largest buffer exceeds what the
// backend can bind.
func checkLimits(be backend.Backend, cfg Config, arch model.Arch, train *data.Dataset) error {
	lim, ok := be.(backend.Limited)
	if !ok {
		return nil
	}
	rows := 3 * cfg.Batch // the fresh EMC² variant's rows, the most any method uses
	need := []struct {
		what  string
		bytes uint64
	}{
		{"the training images", uint64(len(train.Pix))},
		{"the augmented views", uint64(rows * arch.InH * arch.InW * arch.InC * 4)},
		{"the first conv block's activations", uint64(rows * arch.InH * arch.InW * arch.Channels[0] * 4)},
		{"the similarity matrix", uint64(2 * cfg.Batch * rows * 4)},
	}
	for _, n := range need {
		if n.bytes > lim.MaxBindingBytes() {
			return fmt.Errorf("%s need a %d MiB buffer, but the %s backend binds at most %d MiB: lower --batch, --train-subset or --image-size, or use --backend cpu",
				n.what, n.bytes>>20, be.Name(), lim.MaxBindingBytes()>>20)
		}
	}
	return nil
}

// StepsPerEpoch is ⌊N/B⌋ (the last partial batch is dropped, as DataLoader(drop_last=True)).
func (t *Trainer) StepsPerEpoch() int { return t.N / t.Cfg.Batch }

// TotalSteps is the length of the run.
func (t *Trainer) TotalSteps() int { return t.StepsPerEpoch() * t.Cfg.Epochs }

// LR is the scheduled learning rate at the current step.
func (t *Trainer) LR() float32 { return t.lrAt(t.Step) }

func (t *Trainer) lrAt(step int) float32 {
	e := float64(step) / float64(t.StepsPerEpoch())
	return optim.Schedule(float32(t.Cfg.LR), e, t.Cfg.Warmup, float64(t.Cfg.Epochs))
}

// batchAt returns the dataset indices of a step: epoch e's permutation, sliced.
func (t *Trainer) batchAt(step int) []uint32 {
	spe := t.StepsPerEpoch()
	e, s := step/spe, step%spe
	if e != t.permEpoch {
		t.perm, t.permEpoch = t.key.Perm(rng.StreamShuffle, uint32(e), t.N), e
	}
	out := make([]uint32, t.Cfg.Batch)
	for k := range out {
		out[k] = uint32(t.perm[s*t.Cfg.Batch+k])
	}
	return out
}

// TrainStep runs one optimisation step. Nothing is read back: the statistics go to the ring.
func (t *Trainer) TrainStep() {
	B := t.Cfg.Batch
	be := t.be
	batch := t.batchAt(t.Step)
	rows := make([]uint32, 2*B)
	for r := range rows {
		rows[r] = batch[r%B]
		if t.Cfg.FiniteViews {
			rows[r] += uint32(r / B * t.N) // view 2 is image i + N
		}
	}
	be.WriteU32(t.batch, batch)
	be.WriteU32(t.rows, rows)
	t.method.prepare(t.rows, t.batch)
	step := uint32(t.Step)
	aug := t.Cfg.Aug
	if t.Cfg.FiniteViews {
		aug = augment.Config{}
	}
	be.Augment(t.x, t.images, t.rows, t.augBatch(t.encRows, aug, step))
	t.Enc.Forward(t.x, t.encRows)
	d := t.Arch.Proj
	be.Similarity(t.sim, t.Enc.Out, 2*B, t.cols, d)
	slot := be.View(t.stats, (t.Step%max(1, t.Cfg.LogEvery))*backend.Align, objective.NumStats)
	t.method.weights(t.omega, slot, t.sim, t.batch, step)
	shape := objective.Shape{B: B, Beta: float32(t.Cfg.Beta)}
	be.SurrogateBack(t.dOut, t.omega, t.Enc.Out, 2*B, t.cols, d, shape.Scale())
	t.Enc.Backward(t.x, t.dOut, t.encRows)
	hp := t.optHP
	hp.LR, hp.T = t.LR(), t.Step+1
	be.OptimStep(t.Enc.Params, t.Enc.Grads, t.m, t.v, hp)
	t.Step++
	t.statsSince++
}

func (t *Trainer) augBatch(rows int, cfg augment.Config, step uint32) augment.Batch {
	d := t.Data
	return augment.Batch{Rows: rows, InH: d.H, InW: d.W, C: d.C, OutH: d.H, OutW: d.W, Cfg: cfg, Key: t.key, Step: step}
}

// StepStats are the statistics of the steps since the last call, averaged.
type StepStats struct {
	Steps      int     `json:"steps"`
	Loss       float64 `json:"loss"`        // mean in-batch InfoNCE
	AcceptRate float64 `json:"accept_rate"` // EMC²: accepted / proposals
	StaleShare float64 `json:"stale_share"` // EMC² paper: dropped / recorded
	StateShare float64 `json:"state_share"` // EMC² fresh: recorded on the re-scored state / recorded
}

// statsRequest is a read of the statistics ring on its way back from the device.
type statsRequest struct {
	wait  func([]float32) error
	steps int // steps it covers, ending with step last
	last  int
}

// requestStats starts reading the ring (the only read-back during training) without waiting.
func (t *Trainer) requestStats() *statsRequest {
	n := min(t.statsSince, max(1, t.Cfg.LogEvery))
	if n == 0 {
		return nil
	}
	t.statsSince = 0
	return &statsRequest{wait: t.be.ReadAsync(t.stats), steps: n, last: t.Step}
}

// collectStats waits for a request and averages its steps' statistics.
func (t *Trainer) collectStats(r *statsRequest) (StepStats, error) {
	ring := make([]float32, t.stats.Len())
	if err := r.wait(ring); err != nil {
		return StepStats{}, fmt.Errorf("read step statistics: %w", err)
	}
	var sum [objective.NumStats]float64
	for s := 0; s < r.steps; s++ {
		slot := ((r.last - 1 - s) % max(1, t.Cfg.LogEvery)) * backend.Align
		for k := range sum {
			sum[k] += float64(ring[slot+k])
		}
	}
	st := StepStats{Steps: r.steps, Loss: sum[objective.StatLoss] / float64(r.steps)}
	if sum[objective.StatProposals] > 0 {
		st.AcceptRate = sum[objective.StatAccepted] / sum[objective.StatProposals]
	}
	if sum[objective.StatRecorded] > 0 {
		st.StaleShare = sum[objective.StatDropped] / sum[objective.StatRecorded]
		st.StateShare = sum[objective.StatState] / sum[objective.StatRecorded]
	}
	return st, nil
}

// ReadStats reads back and averages the statistics of the steps since the last read, waiting.
func (t *Trainer) ReadStats() (StepStats, error) {
	r := t.requestStats()
	if r == nil {
		return StepStats{}, nil
	}
	return t.collectStats(r)
}

// Observer receives a run's progress. Calls come from the training goroutine.
type Observer interface {
	Started(info RunInfo)
	Stepped(p Progress)
	Evaluated(e EvalReport)
}

// RunInfo describes a run as it starts.
type RunInfo struct {
	Config        Config `json:"config"`
	Backend       string `json:"backend"`
	TrainImages   int    `json:"train_images"`
	TestImages    int    `json:"test_images"`
	Params        int    `json:"params"`
	StepsPerEpoch int    `json:"steps_per_epoch"`
	TotalSteps    int    `json:"total_steps"`
}

// Progress is reported every LogEvery steps.
type Progress struct {
	StepStats
	Step         int     `json:"step"`
	Epoch        float64 `json:"epoch"`
	LR           float64 `json:"lr"`
	ImagesPerSec float64 `json:"images_per_sec"` // training images (not views) per second
	Elapsed      float64 `json:"elapsed_s"`
	ETA          float64 `json:"eta_s"`
}

// NopObserver ignores everything.
type NopObserver struct{}

// Started does nothing.
func (NopObserver) Started(RunInfo) {}

// Stepped does nothing.
func (NopObserver) Stepped(Progress) {}

// Evaluated does nothing.
func (NopObserver) Evaluated(EvalReport) {}

// Run trains for the configured epochs from the current step, evaluating as configured, and returns
// the evaluation history. Step statistics are requested every LogEvery steps and reported when they
// have arrived (at the next request, an evaluation or the end), so the device never waits for the
// host. Run stops cleanly, between steps, when ctx is cancelled (returning the history so far and
// ctx's error).
func (t *Trainer) Run(ctx context.Context, ev *Evaluator, obs Observer) ([]EvalReport, error) {
	if obs == nil {
		obs = NopObserver{}
	}
	var history []EvalReport
	spe := t.StepsPerEpoch()
	total := t.TotalSteps()
	start, startStep := time.Now(), t.Step
	var evalTime time.Duration // excluded from the throughput
	logEvery := max(1, t.Cfg.LogEvery)
	var pending *statsRequest
	var pendingAt float64 // training seconds when pending was requested
	report := func() error {
		if pending == nil {
			return nil
		}
		r, el := pending, pendingAt
		pending = nil
		st, err := t.collectStats(r)
		if err != nil {
			return err
		}
		done := float64(r.last - startStep)
		obs.Stepped(Progress{StepStats: st, Step: r.last, Epoch: float64(r.last) / float64(spe), LR: float64(t.lrAt(r.last)),
			ImagesPerSec: done * float64(t.Cfg.Batch) / el, Elapsed: el, ETA: el / done * float64(total-r.last)})
		return nil
	}
	for t.Step < total {
		if err := ctx.Err(); err != nil {
			return history, errors.Join(err, report())
		}
		t.TrainStep()
		if t.Step%logEvery == 0 || t.Step == total {
			req := t.requestStats()
			if err := report(); err != nil {
				return history, err
			}
			pending, pendingAt = req, (time.Since(start) - evalTime).Seconds()
		}
		if ev != nil && t.Step%spe == 0 {
			epoch := t.Step / spe
			if epoch == t.Cfg.Epochs || (t.Cfg.EvalEvery > 0 && epoch%t.Cfg.EvalEvery == 0) {
				if err := report(); err != nil {
					return history, err
				}
				// An epoch's evaluation always completes: a pause or Ctrl-C arriving during it
				// takes effect after it, so no epoch goes unmeasured.
				r, err := ev.Evaluate(context.WithoutCancel(ctx), t)
				evalTime += time.Duration(r.Seconds * float64(time.Second))
				if err != nil {
					return history, err
				}
				history = append(history, r)
				obs.Evaluated(r)
			}
		}
	}
	return history, report()
}
