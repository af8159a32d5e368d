// Package teach is the logic behind the teaching page (web/app/teach.html): the toy world of part 2
// (points on a circle, one anchor, one Metropolis–Hastings chain of core/mcmc sampling its negatives
// from softmax(β·sim)), SimCLR's in-batch softmax beside it, and part 1's real negatives: the
// embedded Fashion-MNIST images under a small trained encoder, with their random and hard negatives;
// and part 3's live run (Live): a small EMC² training run on the CPU backend whose every step is
// traced, so the page can show each chain's decisions inside training.
// The page runs this package compiled to WebAssembly (wasm/teach.go); the browser tests compare it
// with the same code run natively (web/internal/teachref).
package teach

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/rng"
)

// Counter streams of the teaching page's own draws (core/rng's streams are the trainer's). The MH
// decisions themselves use the sampler's stream, through mcmc.DrawN.
const (
	streamPoints uint32 = 0x7e01 // the toy world's point angles
	streamBatch  uint32 = 0x7e02 // SimCLR's random batches
	streamPick   uint32 = 0x7e03 // part 1's random negatives
)

// ToyConfig is the toy world of part 2, as the page's URL carries it.
type ToyConfig struct {
	Points int     `json:"points"`  // candidate negatives on the circle
	Beta   float64 `json:"beta"`    // inverse temperature β
	BurnIn int     `json:"burn_in"` // the chain's first BurnIn steps are discarded
	Seed   uint64  `json:"seed"`    // places the points and drives the chain
}

// Limits of the toy world's settings (the page's sliders).
const (
	MinPoints, MaxPoints = 3, 400
	MaxBeta              = 50
	MaxBurnIn            = 100000
)

// Validate reports the first setting out of range.
func (c ToyConfig) Validate() error {
	switch {
	case c.Points < MinPoints || c.Points > MaxPoints:
		return fmt.Errorf("toy world: %d points: want %d to %d", c.Points, MinPoints, MaxPoints)
	case !(c.Beta >= 0) || c.Beta > MaxBeta:
		return fmt.Errorf("toy world: β = %v: want 0 ≤ β ≤ %d", c.Beta, MaxBeta)
	case c.BurnIn < 0 || c.BurnIn > MaxBurnIn:
		return fmt.Errorf("toy world: burn-in %d: want 0 to %d steps", c.BurnIn, MaxBurnIn)
	}
	return nil
}

// Toy is the toy world and its chain: Points unit vectors at Angles on the circle, an anchor at
// angle 0, similarities cos(angle), and one chain (mcmc.Walk) whose target is softmax(β·sim).
type Toy struct {
	Config ToyConfig
	Angles []float64 // radians in [−π, π), ascending
	Sims   []float32 // cosine similarity of each point to the anchor
	LogP   []float32 // β·sim, the log-scores the sampler sees
	Target []float64 // softmax(LogP): the distribution the chain samples

	walk     *mcmc.Walk
	Counts   []int // visits of each point after burn-in
	Kept     int   // steps after burn-in
	Accepted int   // accepted proposals, burn-in included
}

// NewToy places the points (uniformly random angles, from the seed) and starts an empty chain.
func NewToy(c ToyConfig) (*Toy, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	key := rng.NewKey(c.Seed)
	t := &Toy{Config: c, Angles: make([]float64, c.Points)}
	for i := range t.Angles {
		u := key.Uniform4(streamPoints, 0, uint32(i), 0)
		t.Angles[i] = (2*float64(u[0]) - 1) * math.Pi
	}
	slices.Sort(t.Angles)
	t.Sims, t.LogP = make([]float32, c.Points), make([]float32, c.Points)
	for i, a := range t.Angles {
		t.Sims[i] = float32(math.Cos(a))
		t.LogP[i] = float32(c.Beta) * t.Sims[i]
	}
	t.Target = Softmax(t.LogP)
	t.Counts = make([]int, c.Points)
	t.walk = mcmc.NewWalk(t.LogP, key, 0)
	return t, nil
}

// ToyStep is one step of the toy chain, as the page draws it.
type ToyStep struct {
	T          int     `json:"t"`           // step number, from 0
	Proposed   int     `json:"proposed"`    // the proposed point
	Q          float32 `json:"q"`           // its log-score β·sim
	Score      float32 `json:"score"`       // the current state's log-score (−MaxFloat32 before the first acceptance)
	AcceptProb float64 `json:"accept_prob"` // min(1, exp(q − score))
	U          float32 `json:"u"`           // the uniform draw: accepted when u ≤ the acceptance probability
	Accepted   bool    `json:"accepted"`
	State      int     `json:"state"`   // the chain's point after the step
	BurnIn     bool    `json:"burn_in"` // discarded: the histogram does not count it
}

// Step advances the chain by one proposal.
func (t *Toy) Step() ToyStep {
	d := t.walk.Step()
	s := ToyStep{T: d.J, Proposed: d.Column, Q: d.Q, Score: d.Score, AcceptProb: d.AcceptProb(), U: d.U,
		Accepted: d.Accepted, State: d.State, BurnIn: d.J < t.Config.BurnIn}
	if d.Accepted {
		t.Accepted++
	}
	if !s.BurnIn {
		t.Counts[d.State]++
		t.Kept++
	}
	return s
}

// Steps is the number of steps taken.
func (t *Toy) Steps() int { return t.walk.Steps }

// AcceptRate is the share of accepted proposals so far (0 before the first step).
func (t *Toy) AcceptRate() float64 {
	if t.walk.Steps == 0 {
		return 0
	}
	return float64(t.Accepted) / float64(t.walk.Steps)
}

// TV is the total-variation distance between the chain's visits after burn-in and the target
// (1 while nothing is kept).
func (t *Toy) TV() float64 {
	if t.Kept == 0 {
		return 1
	}
	return TV(t.Counts, t.Kept, t.Target)
}

// TV is ½·Σ|counts/total − p|.
func TV(counts []int, total int, p []float64) float64 {
	var d float64
	for j, c := range counts {
		d += math.Abs(float64(c)/float64(total) - p[j])
	}
	return d / 2
}

// IndependentTV approximates the expected total-variation distance of L independent draws from p
// (E|X/L − p_j| ≈ √(2p_j(1−p_j)/(πL)) for a binomial count X): what the chain would reach if its
// steps were independent. The gap to the chain's TV is the price of correlated steps.
func IndependentTV(p []float64, L int) float64 {
	if L <= 0 {
		return 1
	}
	var s float64
	for _, q := range p {
		s += math.Sqrt(2 * q * (1 - q) / (math.Pi * float64(L)))
	}
	return min(1, s/2)
}

// TVCurve runs a fresh chain of c and returns its TV after each of lengths (ascending; steps
// counted from 0, burn-in included), the native reference of the page's chart.
func TVCurve(c ToyConfig, lengths []int) ([]float64, error) {
	if !slices.IsSorted(lengths) {
		return nil, errors.New("TV curve: lengths must ascend")
	}
	t, err := NewToy(c)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(lengths))
	for i, L := range lengths {
		for t.Steps() < L {
			t.Step()
		}
		out[i] = t.TV()
	}
	return out, nil
}

// Softmax returns softmax(x) in float64.
func Softmax(x []float32) []float64 {
	m := float64(slices.Max(x))
	p := make([]float64, len(x))
	var z float64
	for i, v := range x {
		p[i] = math.Exp(float64(v) - m)
		z += p[i]
	}
	for i := range p {
		p[i] /= z
	}
	return p
}
