package train

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/eval"
)

// EvalReport is one evaluation of the encoder (at step 0 it is the random-initialisation floor).
type EvalReport struct {
	Step       int     `json:"step"`
	Epoch      float64 `json:"epoch"`
	Labeled    bool    `json:"labeled"`
	ProbeTrain float64 `json:"probe_train_acc"` // linear probe on the hidden features
	ProbeTest  float64 `json:"probe_test_acc"`
	KNN1       float64 `json:"knn1_acc"`
	KNN10      float64 `json:"knn10_acc"`
	Alignment  float64 `json:"alignment"`   // mean ‖z − z⁺‖² over held-out positive pairs
	Uniformity float64 `json:"uniformity"`  // log mean exp(−2‖z_i − z_j‖²) over held-out embeddings
	EffRank    float64 `json:"eff_rank"`    // effective rank of the held-out hidden features
	GlobalLoss float64 `json:"global_loss"` // exact global contrastive loss on the held-out set
	GradNorm2  float64 `json:"grad_norm2"`  // its squared gradient norm w.r.t. the parameters
	Seconds    float64 `json:"eval_s"`
}

// Floor is a baseline measured by the same probe and k-NN as the encoder.
type Floor struct {
	Name       string  `json:"name"`
	ProbeTest  float64 `json:"probe_test_acc"`
	ProbeTrain float64 `json:"probe_train_acc"`
	KNN1       float64 `json:"knn1_acc"`
	KNN10      float64 `json:"knn10_acc"`
}

// Evaluator measures an encoder on a fixed split: the probe and k-NN train on (up to EvalSubset)
// training images and test on the test images; the exact global loss and the health metrics use
// the first GlobalSize test images under two fixed augmentations.
type Evaluator struct {
	Train, Test *data.Dataset
	cfg         Config
	images      map[*data.Dataset]backend.Buf
	probe       eval.ProbeOptions
}

// globalStep is the augmentation counter of the fixed held-out views; training steps never reach it.
const globalStep = math.MaxUint32

// NewEvaluator prepares the evaluation split. Test must be non-empty.
func NewEvaluator(cfg Config, split *data.Split) (*Evaluator, error) {
	if split.Test == nil || split.Test.N == 0 {
		return nil, fmt.Errorf("evaluation needs a test set")
	}
	tr, te := spread(split.Train, cfg.EvalSubset), spread(split.Test, cfg.TestSubset)
	return &Evaluator{Train: tr, Test: te, cfg: cfg, images: map[*data.Dataset]backend.Buf{}}, nil
}

// spread returns at most n images of d (all when n is 0), evenly strided so that data stored class
// by class gives a subset of every class.
func spread(d *data.Dataset, n int) *data.Dataset {
	if n <= 0 || d.N <= n {
		return d
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i * d.N / n
	}
	return d.Subset(idx)
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Features runs the encoder over images idx of ds (views made with cfg, counters from base) and
// returns the hidden features and the embeddings, row by row.
func (ev *Evaluator) Features(t *Trainer, ds *data.Dataset, idx []int, cfg augment.Config, base uint32) (hidden, emb []float32) {
	be := t.be
	img, ok := ev.images[ds]
	if !ok {
		if ds == t.Data {
			img = t.images // the training images are on the device already
		} else {
			img = be.UploadImages(ds.Pix)
		}
		ev.images[ds] = img
	}
	H, P := t.Arch.Hidden, t.Arch.Proj
	hidden, emb = make([]float32, len(idx)*H), make([]float32, len(idx)*P)
	rows := make([]uint32, t.encRows)
	for lo := 0; lo < len(idx); lo += t.encRows {
		n := min(t.encRows, len(idx)-lo)
		for r := 0; r < n; r++ {
			rows[r] = uint32(idx[lo+r])
		}
		be.WriteU32(t.rows, rows)
		b := augment.Batch{Base: base + uint32(lo), Rows: n, InH: ds.H, InW: ds.W, C: ds.C, OutH: ds.H, OutW: ds.W, Cfg: cfg, Key: t.key, Step: globalStep}
		be.Augment(t.x, img, t.rows, b)
		t.Enc.Forward(t.x, n)
		_ = be.Read(t.Enc.Hidden, hidden[lo*H:(lo+n)*H])
		_ = be.Read(t.Enc.Out, emb[lo*P:(lo+n)*P])
	}
	return hidden, emb
}

// Evaluate measures the trainer's current encoder.
func (ev *Evaluator) Evaluate(ctx context.Context, t *Trainer) (EvalReport, error) {
	start := time.Now()
	r := EvalReport{Step: t.Step, Epoch: float64(t.Step) / float64(t.StepsPerEpoch())}
	H := t.Arch.Hidden
	trH, _ := ev.Features(t, ev.Train, seq(ev.Train.N), augment.Config{}, 0)
	teH, _ := ev.Features(t, ev.Test, seq(ev.Test.N), augment.Config{}, 0)
	if ev.Train.Labeled() && ev.Test.Labeled() {
		f, err := ev.measure(ctx, "encoder", trH, teH, H)
		if err != nil {
			return r, err
		}
		r.Labeled, r.ProbeTrain, r.ProbeTest, r.KNN1, r.KNN10 = true, f.ProbeTrain, f.ProbeTest, f.KNN1, f.KNN10
	}
	r.EffRank = eval.EffectiveRank(teH, ev.Test.N, H)
	if n := min(ev.cfg.GlobalSize, ev.Test.N); n >= 2 {
		if err := ev.global(t, n, &r); err != nil {
			return r, err
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, ctx.Err()
}

// measure runs the linear probe and k-NN on given train/test features.
func (ev *Evaluator) measure(ctx context.Context, name string, trX, teX []float32, d int) (Floor, error) {
	classes := max(ev.Train.NumClasses(), ev.Test.NumClasses())
	pr, err := eval.LinearProbe(ctx, trX, ev.Train.Labels, teX, ev.Test.Labels, d, classes, ev.probe)
	if err != nil {
		return Floor{}, fmt.Errorf("linear probe (%s): %w", name, err)
	}
	knn, err := eval.KNN(trX, ev.Train.Labels, teX, ev.Test.Labels, d, 1, 10)
	if err != nil {
		return Floor{}, fmt.Errorf("k-NN (%s): %w", name, err)
	}
	return Floor{Name: name, ProbeTrain: pr.TrainAcc, ProbeTest: pr.TestAcc, KNN1: knn[1], KNN10: knn[10]}, nil
}

// RawPixelFloor measures the probe and k-NN on raw pixels scaled to [0, 1].
func (ev *Evaluator) RawPixelFloor(ctx context.Context) (Floor, error) {
	if !ev.Train.Labeled() || !ev.Test.Labeled() {
		return Floor{Name: "raw pixels"}, nil
	}
	px := func(ds *data.Dataset) []float32 {
		out := make([]float32, len(ds.Pix))
		for i, v := range ds.Pix {
			out[i] = float32(v) / 255
		}
		return out
	}
	return ev.measure(ctx, "raw pixels", px(ev.Train), px(ev.Test), ev.Train.ImageSize())
}

// global fills the exact global loss, its gradient norm, and the alignment / uniformity of n
// held-out images under two fixed augmentations.
func (ev *Evaluator) global(t *Trainer, n int, r *EvalReport) error {
	idx := append(seq(n), seq(n)...) // row a·n + i is view a of image i
	loss, g2, F, err := ev.ExactGlobal(t, ev.Test, idx, n, ev.cfg.Aug)
	if err != nil {
		return err
	}
	P := t.Arch.Proj
	r.GlobalLoss, r.GradNorm2 = loss, g2
	r.Alignment = eval.Alignment(F[:n*P], F[n*P:], n, P)
	r.Uniformity = eval.Uniformity(F[:n*P], n, P)
	return nil
}

// ExactGlobal computes the exact global contrastive loss (eval.GlobalLoss: every other view is a
// candidate, the positive included) over the views of images idx of ds — row a·n + i must be view a
// of image i, K = len(idx)/n views each, made with aug and fixed counters — and the squared norm of
// its gradient w.r.t. the parameters, by back-propagating the exact feature gradient chunk by chunk.
// It also returns the embeddings.
func (ev *Evaluator) ExactGlobal(t *Trainer, ds *data.Dataset, idx []int, n int, aug augment.Config) (loss, gradNorm2 float64, F []float32, err error) {
	loss, grad, F, err := ev.ExactGlobalGrad(t, ds, idx, n, aug)
	for _, g := range grad {
		gradNorm2 += g * g
	}
	return loss, gradNorm2, F, err
}

// ExactGlobalGrad is ExactGlobal with the gradient itself, in the layout of the parameters.
func (ev *Evaluator) ExactGlobalGrad(t *Trainer, ds *data.Dataset, idx []int, n int, aug augment.Config) (loss float64, grad []float64, F []float32, err error) {
	be := t.be
	_, F = ev.Features(t, ds, idx, aug, 0)
	P := t.Arch.Proj
	loss, dF, err := eval.GlobalLoss(F, n, len(idx)/n, P, ev.cfg.Beta)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("global loss: %w", err)
	}
	total := t.Enc.Params.Len()
	grad = make([]float64, total)
	chunk := make([]float32, total)
	rows := make([]uint32, t.encRows)
	img := ev.images[ds]
	dOut := make([]float32, t.encRows*P)
	for lo := 0; lo < len(idx); lo += t.encRows {
		m := min(t.encRows, len(idx)-lo)
		for k := 0; k < m; k++ {
			rows[k] = uint32(idx[lo+k])
		}
		be.WriteU32(t.rows, rows)
		b := augment.Batch{Base: uint32(lo), Rows: m, InH: ds.H, InW: ds.W, C: ds.C, OutH: ds.H, OutW: ds.W, Cfg: aug, Key: t.key, Step: globalStep}
		be.Augment(t.x, img, t.rows, b)
		t.Enc.Forward(t.x, m)
		for k := range dOut[:m*P] {
			dOut[k] = float32(dF[lo*P+k])
		}
		be.Write(t.dOut, dOut[:m*P])
		t.Enc.Backward(t.x, t.dOut, m)
		if err := be.Read(t.Enc.Grads, chunk); err != nil {
			return 0, nil, nil, fmt.Errorf("global gradient: %w", err)
		}
		for k, v := range chunk {
			grad[k] += float64(v)
		}
	}
	return loss, grad, F, nil
}
