// Package optim holds the reference optimizer updates (SGD with momentum, Adam, LARS) over one flat
// parameter arena, and the learning-rate schedule (linear warm-up, then half-cycle cosine) of the
// EMC² code's utils.adjust_learning_rate.
package optim

import (
	"fmt"
	"math"
)

// Kind names an optimizer.
type Kind string

// The optimizers.
const (
	SGD  Kind = "sgd"
	Adam Kind = "adam"
	LARS Kind = "lars"
)

// ParseKind validates an optimizer name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case SGD, Adam, LARS:
		return k, nil
	}
	return "", fmt.Errorf("unknown optimizer %q (want sgd, adam or lars)", s)
}

// UnmarshalText parses an optimizer name (JSON configs and flags), refusing unknown ones.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// MarshalText writes the name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k), nil }

// Segment is one parameter tensor inside the arena. Decay marks weights (matrices and filters), which
// get weight decay and LARS's trust ratio; biases do not (as in MoCo v3's LARS and the paper's runs).
type Segment struct {
	Name  string
	Off   int
	Len   int
	Decay bool
}

// Params configures one update.
type Params struct {
	Kind        Kind
	LR          float32
	Momentum    float32 // SGD and LARS
	Beta1       float32 // Adam
	Beta2       float32 // Adam
	Eps         float32 // Adam
	WeightDecay float32 // coupled (added to the gradient), as torch.optim's weight_decay
	Trust       float32 // LARS trust coefficient η
	T           int     // 1-based step count (Adam's bias correction)
	Segments    []Segment
}

// Step updates p in place from the gradient g; m and v are the state (momentum / Adam moments),
// zero before the first step. g is left unchanged.
func Step(p, g, m, v []float32, hp Params) {
	for _, s := range hp.Segments {
		ps, gs, ms, vs := p[s.Off:s.Off+s.Len], g[s.Off:s.Off+s.Len], m[s.Off:s.Off+s.Len], v[s.Off:s.Off+s.Len]
		wd := float32(0)
		if s.Decay {
			wd = hp.WeightDecay
		}
		switch hp.Kind {
		case SGD:
			for i := range ps {
				d := gs[i] + wd*ps[i]
				ms[i] = hp.Momentum*ms[i] + d
				ps[i] -= hp.LR * ms[i]
			}
		case Adam:
			c1 := 1 - float32(math.Pow(float64(hp.Beta1), float64(hp.T)))
			c2 := 1 - float32(math.Pow(float64(hp.Beta2), float64(hp.T)))
			for i := range ps {
				d := gs[i] + wd*ps[i]
				ms[i] = hp.Beta1*ms[i] + (1-hp.Beta1)*d
				vs[i] = hp.Beta2*vs[i] + (1-hp.Beta2)*d*d
				mh, vh := ms[i]/c1, vs[i]/c2
				ps[i] -= hp.LR * mh / (float32(math.Sqrt(float64(vh))) + hp.Eps)
			}
		case LARS:
			q := float32(1)
			if s.Decay {
				var pn, un float64
				for i := range ps {
					d := float64(gs[i] + wd*ps[i])
					pn += float64(ps[i]) * float64(ps[i])
					un += d * d
				}
				if pn > 0 && un > 0 {
					q = hp.Trust * float32(math.Sqrt(pn)/math.Sqrt(un))
				}
			}
			for i := range ps {
				d := (gs[i] + wd*ps[i]) * q
				ms[i] = hp.Momentum*ms[i] + d
				ps[i] -= hp.LR * ms[i]
			}
		}
	}
}

// Schedule returns the learning rate at a fractional epoch: linear warm-up from 0 to base over
// warmup epochs, then a half-cycle cosine to 0 at total epochs (utils.adjust_learning_rate).
func Schedule(base float32, epoch, warmup, total float64) float32 {
	if epoch < warmup {
		return base * float32(epoch/warmup)
	}
	if total <= warmup {
		return base
	}
	return base * float32(0.5*(1+math.Cos(math.Pi*(epoch-warmup)/(total-warmup))))
}
