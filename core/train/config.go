// Package train runs contrastive pre-training end to end: it draws batches, runs the step (augment →
// encoder → similarity → method weights → backward → optimizer) on a backend, evaluates the encoder
// against its floors, reports progress to an Observer and writes checkpoints.
package train

import (
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/optim"
)

// Config is everything a run depends on; its JSON form is saved beside the run's metrics.
type Config struct {
	Method      string  `json:"method"`        // simclr | sogclr | emc2
	Variant     string  `json:"emc2_variant"`  // paper | fresh | iid (EMC² only)
	Batch       int     `json:"batch"`         // B images per step (2B views)
	Epochs      int     `json:"epochs"`        //
	Beta        float64 `json:"beta"`          // inverse temperature 1/τ
	LR          float64 `json:"lr"`            // base learning rate
	Optimizer   string  `json:"optimizer"`     // sgd | adam | lars
	Momentum    float64 `json:"momentum"`      // SGD / LARS
	WeightDecay float64 `json:"weight_decay"`  //
	Warmup      float64 `json:"warmup_epochs"` // linear warm-up, then cosine
	BurnIn      float64 `json:"mcmc_burn_in"`  // EMC²: fraction of each view's sweep discarded
	Gamma       float64 `json:"sogclr_gamma"`  // SogCLR: moving-average weight
	Seed        uint64  `json:"seed"`
	Data        string  `json:"data"`                  // data spec (see data.Open)
	TrainSubset int     `json:"train_subset"`          // use only the first N training images (0 = all)
	EvalSubset  int     `json:"eval_subset"`           // cap on the images the probe and k-NN train on (0 = all)
	TestSubset  int     `json:"test_subset,omitempty"` // cap on the held-out images evaluated on (0 = all)

	Channels []int `json:"channels"` // conv blocks of the encoder
	Hidden   int   `json:"hidden"`   // hidden (probe) width
	Proj     int   `json:"proj"`     // projection width

	Aug augment.Config `json:"augment"`
	// FiniteViews marks pre-computed views (the paper's finite-augmentation setting): the dataset's
	// first half holds view 1 of each image and its second half view 2, and no augmentation runs.
	FiniteViews bool `json:"finite_views,omitempty"`

	EvalEvery  int `json:"eval_every"`  // evaluate every N epochs (and at the end); 0 = only at the end
	LogEvery   int `json:"log_every"`   // read step statistics back every N steps
	GlobalSize int `json:"global_size"` // images of the held-out set for the exact global loss (0 = off)
}

// DefaultConfig is the configuration `make run` trains with. Its values were chosen by the
// measurements recorded in the README ("Choosing the defaults").
func DefaultConfig() Config {
	return Config{
		Method: "emc2", Variant: "fresh", Batch: 32, Epochs: 10, Beta: 1 / 0.1,
		LR: 1e-3, Optimizer: "adam", Momentum: 0.9, WeightDecay: 1e-4, Warmup: 1,
		BurnIn: 0.5, Gamma: 0.9, Seed: 1, Data: "default",
		Channels: []int{32, 64}, Hidden: 128, Proj: 64,
		Aug: augment.Config{
			CropScale: [2]float32{0.5, 1}, FlipP: 0.5,
			JitterP: 0.8, Brightness: 0.6, Contrast: 0.6, Saturation: 0.4, Hue: 0.1, GrayP: 0.2,
			BlurP: 0.3, BlurSigma: [2]float32{0.1, 1.5}, NoiseStd: 0.03,
		},
		EvalEvery: 0, LogEvery: 10, GlobalSize: 256,
	}
}

// Validate reports the first bad setting, naming the flag.
func (c Config) Validate() error {
	switch c.Method {
	case "simclr", "sogclr", "emc2":
	default:
		return fmt.Errorf("--method %q: want simclr, sogclr or emc2", c.Method)
	}
	if _, err := c.variant(); err != nil {
		return err
	}
	if _, err := optim.ParseKind(c.Optimizer); err != nil {
		return fmt.Errorf("--optimizer: %w", err)
	}
	switch {
	case c.Batch < 2:
		return fmt.Errorf("--batch %d: need at least 2 images per batch", c.Batch)
	case c.Epochs < 1:
		return fmt.Errorf("--epochs %d: need at least 1", c.Epochs)
	case !(c.Beta > 0) || c.Beta > 1000 || math.IsInf(c.Beta, 0):
		return fmt.Errorf("--beta %v: want 0 < β ≤ 1000 (τ = 1/β)", c.Beta)
	case !(c.LR > 0):
		return fmt.Errorf("--lr %v: want a positive learning rate", c.LR)
	case c.BurnIn < 0 || c.BurnIn >= 1:
		return fmt.Errorf("--mcmc-burn-in %v: want a fraction in [0, 1)", c.BurnIn)
	case c.Gamma <= 0 || c.Gamma > 1:
		return fmt.Errorf("--sogclr-gamma %v: want 0 < γ ≤ 1", c.Gamma)
	case c.WeightDecay < 0 || c.Momentum < 0 || c.Momentum >= 1:
		return fmt.Errorf("weight decay %v / momentum %v out of range", c.WeightDecay, c.Momentum)
	case c.Warmup < 0:
		return fmt.Errorf("--warmup %v: want ≥ 0 epochs", c.Warmup)
	case c.TrainSubset < 0 || c.EvalSubset < 0 || c.TestSubset < 0 || c.GlobalSize < 0:
		return fmt.Errorf("subset sizes must be ≥ 0")
	case c.Hidden < 1 || c.Proj < 1 || len(c.Channels) == 0:
		return fmt.Errorf("encoder widths must be positive and there must be a conv block")
	}
	return nil
}

func (c Config) variant() (mcmc.Variant, error) {
	switch c.Variant {
	case "paper":
		return mcmc.Paper, nil
	case "fresh", "":
		return mcmc.Fresh, nil
	case "iid":
		return mcmc.IID, nil
	}
	return 0, fmt.Errorf("--emc2-variant %q: want paper, fresh or iid", c.Variant)
}
