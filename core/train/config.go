// Package train runs contrastive pre-training on a backend: the Trainer owns a run's device state
// and takes one optimisation step at a time (augment → encoder → similarity → method weights →
// backward → optimizer); the Embedder runs the encoder forward over dataset images; the Evaluator
// measures an encoder (linear probe, k-NN, exact global loss, health) against its floors; checkpoints
// save and restore a Trainer bit for bit. When to step, evaluate and checkpoint is core/run's job.
package train

import (
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/optim"
)

// Config is everything a run depends on; its JSON form is saved beside the run's metrics and in
// every checkpoint. The enum fields parse themselves, so a bad name is refused where it is read.
type Config struct {
	Method      Method       `json:"method"`        // simclr | sogclr | emc2
	Variant     mcmc.Variant `json:"emc2_variant"`  // paper | fresh | iid | cached (methods with chains)
	Batch       int          `json:"batch"`         // B images per step (2B views)
	Epochs      int          `json:"epochs"`        //
	Beta        float64      `json:"beta"`          // inverse temperature 1/τ
	LR          float64      `json:"lr"`            // base learning rate
	Optimizer   optim.Kind   `json:"optimizer"`     // sgd | adam | lars
	Momentum    float64      `json:"momentum"`      // SGD / LARS
	WeightDecay float64      `json:"weight_decay"`  //
	Warmup      float64      `json:"warmup_epochs"` // linear warm-up, then cosine
	BurnIn      float64      `json:"mcmc_burn_in"`  // EMC²: fraction of each view's sweep discarded
	Gamma       float64      `json:"sogclr_gamma"`  // SogCLR: moving-average weight
	Seed        uint64       `json:"seed"`
	Data        string       `json:"data"`                  // data spec (see data.Open)
	TrainSubset int          `json:"train_subset"`          // use only the first N training images (0 = all)
	EvalSubset  int          `json:"eval_subset"`           // cap on the images the probe and k-NN train on (0 = all)
	TestSubset  int          `json:"test_subset,omitempty"` // cap on the held-out images evaluated on (0 = all)

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
		Method: EMC2, Variant: mcmc.Cached, Batch: 32, Epochs: 10, Beta: 1 / 0.1,
		LR: 1e-3, Optimizer: optim.Adam, Momentum: 0.9, WeightDecay: 1e-4, Warmup: 1,
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

// RunName labels the configuration's method: "simclr", "emc2-fresh".
func (c Config) RunName() string { return RunName(c.Method, c.Variant) }

// ExtraRows is the number of encoder rows the method needs beyond the 2B views.
func (c Config) ExtraRows() int {
	if !c.Method.valid() {
		return 0
	}
	return c.Method.spec().extraRows(c)
}

// EncoderRows is the number of images the encoder runs per training step.
func (c Config) EncoderRows() int { return 2*c.Batch + c.ExtraRows() }

// SimCols is the number of columns of the step's similarity matrix: the encoder's rows, plus the
// cached embeddings of a method that keeps them.
func (c Config) SimCols() int {
	if !c.Method.valid() {
		return c.EncoderRows()
	}
	return c.EncoderRows() + c.Method.spec().extraCols(c)
}

// SettingError is a setting out of its range. Setting is its name in the config's JSON
// ("batch", "augment.flip_p"); each front end translates it to its own spelling (a flag, a form
// field) — see SettingNames.
type SettingError struct {
	Setting string
	Value   any
	Want    string
}

func (e *SettingError) Error() string { return fmt.Sprintf("%s = %v: %s", e.Setting, e.Value, e.Want) }

// Limits on sizes, so that a config can never ask for more memory than an address space holds or
// overflow a step count; far above anything that trains in a browser tab or on one GPU.
const (
	MaxBatch      = 1 << 16
	MaxEpochs     = 1 << 20
	MaxWidth      = 1 << 14 // conv channels, hidden and projection widths
	MaxConvBlocks = 8
	MaxEvalImages = 1 << 24
)

// Validate reports the first setting out of its range. Every number must be finite.
func (c Config) Validate() error {
	bad := func(setting string, v any, want string) error { return &SettingError{setting, v, want} }
	if !c.Method.valid() {
		return bad("method", c.Method, "want one of simclr, sogclr, emc2")
	}
	if _, err := mcmc.ParseVariant(c.Variant.String()); err != nil {
		return bad("emc2_variant", c.Variant, "want paper, fresh, iid or cached")
	}
	if _, err := optim.ParseKind(string(c.Optimizer)); err != nil {
		return bad("optimizer", c.Optimizer, "want sgd, adam or lars")
	}
	ints := []struct {
		name   string
		v, lo  int
		hi     int
		reason string
	}{
		{"batch", c.Batch, 2, MaxBatch, "images per batch"},
		{"epochs", c.Epochs, 1, MaxEpochs, "epochs"},
		{"hidden", c.Hidden, 1, MaxWidth, "hidden width"},
		{"proj", c.Proj, 1, MaxWidth, "projection width"},
		{"train_subset", c.TrainSubset, 0, math.MaxInt32, "images (0 = all)"},
		{"eval_subset", c.EvalSubset, 0, MaxEvalImages, "images (0 = all)"},
		{"test_subset", c.TestSubset, 0, MaxEvalImages, "images (0 = all)"},
		{"global_size", c.GlobalSize, 0, 1 << 16, "images (0 = off)"},
		{"eval_every", c.EvalEvery, 0, MaxEpochs, "epochs (0 = only at the end)"},
		{"log_every", c.LogEvery, 0, 1 << 20, "steps"},
	}
	for _, s := range ints {
		if s.v < s.lo || s.v > s.hi {
			return bad(s.name, s.v, fmt.Sprintf("want %d to %d %s", s.lo, s.hi, s.reason))
		}
	}
	if len(c.Channels) == 0 || len(c.Channels) > MaxConvBlocks {
		return bad("channels", c.Channels, fmt.Sprintf("want 1 to %d conv blocks", MaxConvBlocks))
	}
	for _, ch := range c.Channels {
		if ch < 1 || ch > MaxWidth {
			return bad("channels", c.Channels, fmt.Sprintf("want widths from 1 to %d", MaxWidth))
		}
	}
	floats := []struct {
		name    string
		v       float64
		lo, hi  float64
		openLo  bool // lo itself is excluded
		openHi  bool
		explain string
	}{
		{"beta", c.Beta, 0, 1000, true, false, "want 0 < β ≤ 1000 (τ = 1/β ≥ 0.001)"},
		{"lr", c.LR, 0, 1e6, true, false, "want a positive, finite learning rate"},
		{"momentum", c.Momentum, 0, 1, false, true, "want 0 ≤ momentum < 1"},
		{"weight_decay", c.WeightDecay, 0, 1e3, false, false, "want a finite weight decay ≥ 0"},
		{"warmup_epochs", c.Warmup, 0, MaxEpochs, false, false, "want a finite number of epochs ≥ 0"},
		{"mcmc_burn_in", c.BurnIn, 0, 1, false, true, "want a fraction in [0, 1)"},
		{"sogclr_gamma", c.Gamma, 0, 1, true, false, "want 0 < γ ≤ 1"},
	}
	for _, f := range floats {
		if !inRange(f.v, f.lo, f.hi, f.openLo, f.openHi) {
			return bad(f.name, f.v, f.explain)
		}
	}
	if err := validateAug(c.Aug); err != nil {
		return err
	}
	return nil
}

func inRange(v, lo, hi float64, openLo, openHi bool) bool {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return false
	case v < lo || v > hi:
		return false
	case openLo && v == lo, openHi && v == hi:
		return false
	}
	return true
}

// validateAug checks the augmentation's probabilities, strengths and ranges.
func validateAug(a augment.Config) error {
	bad := func(setting string, v any, want string) error { return &SettingError{"augment." + setting, v, want} }
	probs := []struct {
		name string
		v    float32
	}{{"flip_p", a.FlipP}, {"jitter_p", a.JitterP}, {"gray_p", a.GrayP}, {"blur_p", a.BlurP}}
	for _, p := range probs {
		if !inRange(float64(p.v), 0, 1, false, false) {
			return bad(p.name, p.v, "want a probability in [0, 1]")
		}
	}
	strengths := []struct {
		name string
		v    float32
		hi   float64
	}{{"brightness", a.Brightness, 1}, {"contrast", a.Contrast, 1}, {"saturation", a.Saturation, 1},
		{"hue", a.Hue, 0.5}, {"noise_std", a.NoiseStd, 1}}
	for _, s := range strengths {
		if !inRange(float64(s.v), 0, s.hi, false, false) {
			return bad(s.name, s.v, fmt.Sprintf("want a strength in [0, %g]", s.hi))
		}
	}
	lo, hi := float64(a.CropScale[0]), float64(a.CropScale[1])
	if !(lo == 0 && hi == 0) && !(inRange(lo, 0, 1, true, false) && inRange(hi, lo, 1, false, false)) {
		return bad("crop_scale", a.CropScale, "want area fractions 0 < lo ≤ hi ≤ 1 (or 0,0 for no crop)")
	}
	lo, hi = float64(a.CropRatio[0]), float64(a.CropRatio[1])
	if !(lo == 0 && hi == 0) && !(inRange(lo, 0, 100, true, false) && inRange(hi, lo, 100, false, false)) {
		return bad("crop_ratio", a.CropRatio, "want aspect ratios 0 < lo ≤ hi ≤ 100 (or 0,0 for 3/4..4/3)")
	}
	lo, hi = float64(a.BlurSigma[0]), float64(a.BlurSigma[1])
	if !(inRange(lo, 0, 100, false, false) && inRange(hi, lo, 100, false, false)) {
		return bad("blur_sigma", a.BlurSigma, "want σ in pixels with 0 ≤ lo ≤ hi ≤ 100")
	}
	return nil
}

// SettingNames lists every setting Validate can name, for front ends that translate them.
func SettingNames() []string {
	return []string{"method", "emc2_variant", "optimizer", "batch", "epochs", "hidden", "proj", "train_subset",
		"eval_subset", "test_subset", "global_size", "eval_every", "log_every", "channels", "beta", "lr", "momentum",
		"weight_decay", "warmup_epochs", "mcmc_burn_in", "sogclr_gamma", "augment.flip_p", "augment.jitter_p",
		"augment.gray_p", "augment.blur_p", "augment.brightness", "augment.contrast", "augment.saturation",
		"augment.hue", "augment.noise_std", "augment.crop_scale", "augment.crop_ratio", "augment.blur_sigma"}
}
