package train

import (
	"context"
	"fmt"
	"time"

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
	TrainSecs  float64 `json:"train_s"`         // training time before this evaluation (evaluations excluded)
	Alarm      string  `json:"alarm,omitempty"` // set when the health metrics say the encoder collapsed
}

// Floor is a baseline measured by the same probe and k-NN as the encoder.
type Floor struct {
	Name       string  `json:"name"`
	ProbeTest  float64 `json:"probe_test_acc"`
	ProbeTrain float64 `json:"probe_train_acc"`
	KNN1       float64 `json:"knn1_acc"`
	KNN10      float64 `json:"knn10_acc"`
}

// Floor names.
const (
	FloorRawPixels  = "raw pixels"
	FloorRandomInit = "random init"
)

// AsFloor reads an evaluation of the encoder at random initialisation as the random-init floor.
func (r EvalReport) AsFloor() Floor {
	return Floor{Name: FloorRandomInit, ProbeTest: r.ProbeTest, ProbeTrain: r.ProbeTrain, KNN1: r.KNN1, KNN10: r.KNN10}
}

// Evaluator measures an encoder on a fixed split: the probe and k-NN train on (up to EvalSubset)
// training images and test on the test images; the exact global loss and the health metrics use
// the first GlobalSize test images under two fixed augmentations.
type Evaluator struct {
	Train, Test *data.Dataset
	cfg         Config
	probe       eval.ProbeOptions
}

// NewEvaluator prepares the evaluation split. Test must be non-empty.
func NewEvaluator(cfg Config, split *data.Split) (*Evaluator, error) {
	if split.Test == nil || split.Test.N == 0 {
		return nil, fmt.Errorf("evaluation needs a test set")
	}
	tr, te := spread(split.Train, cfg.EvalSubset), spread(split.Test, cfg.TestSubset)
	return &Evaluator{Train: tr, Test: te, cfg: cfg}, nil
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

// Evaluate measures the encoder behind e. The report's Step and Epoch are the caller's to fill.
func (ev *Evaluator) Evaluate(ctx context.Context, e *Embedder) (EvalReport, error) {
	start := time.Now()
	var r EvalReport
	H := e.Arch().Hidden
	trH, _, err := e.EmbedAll(ev.Train)
	if err != nil {
		return r, err
	}
	teH, _, err := e.EmbedAll(ev.Test)
	if err != nil {
		return r, err
	}
	if ev.Train.Labeled() && ev.Test.Labeled() {
		f, err := ev.measure(ctx, "encoder", trH, teH, H)
		if err != nil {
			return r, err
		}
		r.Labeled, r.ProbeTrain, r.ProbeTest, r.KNN1, r.KNN10 = true, f.ProbeTrain, f.ProbeTest, f.KNN1, f.KNN10
	}
	r.EffRank = eval.EffectiveRank(teH, ev.Test.N, H)
	if n := min(ev.cfg.GlobalSize, ev.Test.N); n >= 2 {
		if err := ev.global(e, n, &r); err != nil {
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
		return Floor{Name: FloorRawPixels}, nil
	}
	px := func(ds *data.Dataset) []float32 {
		out := make([]float32, len(ds.Pix))
		for i, v := range ds.Pix {
			out[i] = float32(v) / 255
		}
		return out
	}
	return ev.measure(ctx, FloorRawPixels, px(ev.Train), px(ev.Test), ev.Train.ImageSize())
}

// global fills the exact global loss, its gradient norm, and the alignment / uniformity of n
// held-out images under two fixed augmentations.
func (ev *Evaluator) global(e *Embedder, n int, r *EvalReport) error {
	idx := append(seq(n), seq(n)...) // row a·n + i is view a of image i
	loss, g2, F, err := e.ExactGlobal(ev.Test, idx, n, ev.cfg.Aug, ev.cfg.Beta)
	if err != nil {
		return err
	}
	P := e.Arch().Proj
	r.GlobalLoss, r.GradNorm2 = loss, g2
	r.Alignment = eval.Alignment(F[:n*P], F[n*P:], n, P)
	r.Uniformity = eval.Uniformity(F[:n*P], n, P)
	return nil
}
