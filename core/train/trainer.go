package train

import (
	"context"
	"fmt"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/optim"
	"github.com/emc2ml/emc2/core/rng"
)

// Trainer holds a run's device state (the dataset, the encoder, the optimizer and the method) and
// takes one optimisation step at a time. core/run decides when.
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
	rows    backend.Buf // dataset index per similarity column (2B views, then the chains' states)
	x       backend.Buf // augmented views
	sim     backend.Buf // 2B × cols
	omega   backend.Buf // 2B × cols
	dOut    backend.Buf // gradient w.r.t. the similarity's columns (the encoder's rows first)
	stats   backend.Buf // ring of LogEvery slots of objective.NumStats values
	m, v    backend.Buf // optimizer state
	optHP   optim.Params
	cols    int
	encRows int

	Step       int // optimizer steps taken
	perm       []int
	permEpoch  int
	statsSince int // steps written to the ring since the last read
	emb        *Embedder
	traceAt    int // the step TraceStep asked for (−1: none)
	trace      *StepTrace
	traceErr   error
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
		return nil, &SettingError{"batch", cfg.Batch, fmt.Sprintf("larger than the %d training images", n)}
	}
	arch := model.Arch{InH: train.H, InW: train.W, InC: train.C, Channels: cfg.Channels, Hidden: cfg.Hidden, Proj: cfg.Proj}
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if err := checkLimits(be, cfg, arch, train); err != nil {
		return nil, err
	}
	t := &Trainer{Cfg: cfg, Arch: arch, Data: train, N: n, be: be, key: rng.NewKey(cfg.Seed), permEpoch: -1, traceAt: -1}
	B := cfg.Batch
	t.encRows = cfg.EncoderRows()
	t.cols = cfg.SimCols()
	t.method = cfg.Method.spec().build(be, cfg, objective.Shape{B: B, Cols: t.cols, Beta: float32(cfg.Beta)}, n, t.key)
	t.Enc = model.NewEncoder(be, arch, t.encRows, arch.Init(t.key))
	t.images = be.UploadImages(train.Pix)
	t.batch, t.rows = be.AllocU32(B), be.AllocU32(t.cols)
	t.x = be.Alloc(t.encRows * t.Enc.InputLen())
	t.sim, t.omega = be.Alloc(2*B*t.cols), be.Alloc(2*B*t.cols)
	t.dOut = be.Alloc(t.cols * arch.Proj)
	t.stats = be.Alloc(max(1, cfg.LogEvery) * backend.Align)
	_, total := arch.Layout()
	t.m, t.v = be.Alloc(total), be.Alloc(total)
	t.optHP = optim.Params{Kind: cfg.Optimizer, Momentum: float32(cfg.Momentum), Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
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
	rows := cfg.EncoderRows()
	need := []struct {
		what  string
		bytes uint64
	}{
		{"the training images", uint64(len(train.Pix))},
		{"the augmented views", uint64(rows * arch.InH * arch.InW * arch.InC * 4)},
		{"the first conv block's activations", uint64(rows * arch.InH * arch.InW * arch.Channels[0] * 4)},
		{"the similarity matrix", uint64(2 * cfg.Batch * cfg.SimCols() * 4)},
	}
	for _, n := range need {
		if n.bytes > lim.MaxBindingBytes() {
			return fmt.Errorf("%s need a %d MiB buffer, but the %s backend binds at most %d MiB: lower the batch size, the training subset or the image size, or train on the CPU backend",
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

// TrainStep runs one optimisation step. Nothing is read back (the statistics go to the ring), except
// for a step asked to be traced (TraceNextStep).
func (t *Trainer) TrainStep() {
	B := t.Cfg.Batch
	be := t.be
	batch := t.batchAt(t.Step)
	var before []mcmc.ChainState
	tracing := t.traceAt == t.Step
	if tracing {
		t.traceAt = -1
		before, t.traceErr = t.traceBefore(batch)
		tracing = t.traceErr == nil
	}
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
	f := t.method.columns(t.Enc.Out, t.rows, t.batch)
	be.Similarity(t.sim, f, 2*B, t.cols, d)
	slot := be.View(t.stats, (t.Step%max(1, t.Cfg.LogEvery))*backend.Align, objective.NumStats)
	t.method.weights(t.omega, slot, t.sim, t.batch, step)
	shape := objective.Shape{B: B, Beta: float32(t.Cfg.Beta)}
	be.SurrogateBack(t.dOut, t.omega, f, 2*B, t.cols, d, shape.Scale())
	t.Enc.Backward(t.x, t.dOut, t.encRows)
	hp := t.optHP
	hp.LR, hp.T = t.LR(), t.Step+1
	be.OptimStep(t.Enc.Params, t.Enc.Grads, t.m, t.v, hp)
	if tracing {
		t.trace, t.traceErr = t.traceAfter(t.Step, batch, before)
	}
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

// StatsRequest is a read of the statistics ring on its way back from the device.
type StatsRequest struct {
	t     *Trainer
	wait  func([]float32) error
	Steps int // steps it covers, ending with step Last
	Last  int
}

// RequestStats starts reading back the statistics of the steps since the last request (the only
// read-back during training) and returns at once; nil when no step was taken since.
func (t *Trainer) RequestStats() *StatsRequest {
	n := min(t.statsSince, max(1, t.Cfg.LogEvery))
	if n == 0 {
		return nil
	}
	t.statsSince = 0
	return &StatsRequest{t: t, wait: t.be.ReadAsync(t.stats), Steps: n, Last: t.Step}
}

// Wait waits for the read and averages its steps' statistics.
func (r *StatsRequest) Wait() (StepStats, error) {
	t := r.t
	ring := make([]float32, t.stats.Len())
	if err := r.wait(ring); err != nil {
		return StepStats{}, fmt.Errorf("read step statistics: %w", err)
	}
	var sum [objective.NumStats]float64
	for s := 0; s < r.Steps; s++ {
		slot := ((r.Last - 1 - s) % max(1, t.Cfg.LogEvery)) * backend.Align
		for k := range sum {
			sum[k] += float64(ring[slot+k])
		}
	}
	st := StepStats{Steps: r.Steps, Loss: sum[objective.StatLoss] / float64(r.Steps)}
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
	r := t.RequestStats()
	if r == nil {
		return StepStats{}, nil
	}
	return r.Wait()
}

// TrainTo takes steps until the trainer reaches step (or ctx is cancelled, between steps), reading
// nothing back: for callers that need trained weights, not a run (core/run reports and evaluates).
func (t *Trainer) TrainTo(ctx context.Context, step int) error {
	for t.Step < min(step, t.TotalSteps()) {
		if err := ctx.Err(); err != nil {
			return err
		}
		t.TrainStep()
	}
	return t.be.Flush()
}

// StateBytesPerImage is the memory the method keeps per training image between steps (EMC²'s chain:
// index and score; SogCLR's moving average; nothing for SimCLR).
func (t *Trainer) StateBytesPerImage() float64 {
	var n int
	for _, b := range t.method.state() {
		n += 4 * b.Len()
	}
	return float64(n) / float64(t.N)
}

// Backend is the backend the trainer runs on.
func (t *Trainer) Backend() backend.Backend { return t.be }

// Embedder returns the embedder over the trainer's current weights (built on first use, with its own
// scratch; the training images are shared with it).
func (t *Trainer) Embedder() *Embedder {
	if t.emb == nil {
		t.emb = NewEmbedder(t.be, t.Enc, t.Cfg.Seed, min(t.encRows, EmbedRows))
		t.emb.Share(t.Data, t.images)
	}
	return t.emb
}

// InitEmbedder returns an embedder over the encoder as it was at step 0: its own copy of the
// parameters, drawn again from the seed, so the random-initialisation floor can be measured at any
// time (off the path to the first training step) and gives what an evaluation before step 1 gives.
func (t *Trainer) InitEmbedder() *Embedder {
	rows := min(t.encRows, EmbedRows)
	enc := model.NewEncoder(t.be, t.Arch, rows, t.Arch.Init(t.key))
	e := NewEmbedder(t.be, enc, t.Cfg.Seed, rows)
	e.Share(t.Data, t.images)
	return e
}

// LRAt is the scheduled learning rate at a step.
func (t *Trainer) LRAt(step int) float32 { return t.lrAt(step) }
