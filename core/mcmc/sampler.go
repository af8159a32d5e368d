package mcmc

import (
	"errors"
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
)

// Sampler is EMC²'s negative sampler for a training loop of your own, without the rest of emc2: it
// keeps one chain per training image (8 bytes each) and, each step, turns the batch's similarity
// matrix into the weights Ω of the contrastive loss. Its cost is one pass over the similarity matrix
// (O(B²) per step, the same order as computing it) and no extra forward pass for Paper; Fresh and IID
// need the embeddings of B more images per step (StateImages), which Cached takes from a cache of
// each image's last embedding instead.
//
// Use it as: compute the embeddings of the two views of your batch (and, for Fresh/IID, of the
// state images), their 2B × cols similarity matrix S (cosine similarities), call Step, and
// back-propagate dLoss/dS = Scale·Ω through your encoder. The positive pair gets weight −1 and every
// recorded negative 1/M, so Σ Ω⊙S·Scale is the loss estimate up to a constant.
type Sampler struct {
	p          Params
	n          int
	chainIdx   []uint32
	chainScore []float32
}

// SamplerOptions configure a Sampler.
type SamplerOptions struct {
	Beta    float64 // inverse temperature 1/τ (e.g. 10 for τ = 0.1)
	BurnIn  float64 // fraction of each view's proposals discarded; 0.5 in the paper's runs
	Variant Variant // Fresh (re-scores the state), Cached (the same, from your own cache of embeddings), Paper or IID
	Seed    uint64  // the MH uniforms' random stream
}

// NewSampler returns a sampler for a dataset of n images, every chain empty.
func NewSampler(n int, o SamplerOptions) (*Sampler, error) {
	if n < 2 {
		return nil, fmt.Errorf("sampler: %d images: need at least 2", n)
	}
	if !(o.Beta > 0) || math.IsInf(o.Beta, 0) {
		return nil, fmt.Errorf("sampler: β = %v: want a positive, finite inverse temperature", o.Beta)
	}
	if !(o.BurnIn >= 0 && o.BurnIn < 1) {
		return nil, fmt.Errorf("sampler: burn-in %v: want a fraction in [0, 1)", o.BurnIn)
	}
	s := &Sampler{n: n, chainIdx: make([]uint32, n), chainScore: make([]float32, n),
		p: Params{Shape: objective.Shape{Beta: float32(o.Beta)}, BurnIn: o.BurnIn, Variant: o.Variant, Key: rng.NewKey(o.Seed)}}
	for i := range s.chainIdx {
		s.chainIdx[i], s.chainScore[i] = NoState, objective.Unvisited
	}
	return s, nil
}

// Cols is the number of similarity columns Step wants for a batch of b images: the 2B views, and
// for Fresh and IID one more per chain (its state image, see StateImages).
func (s *Sampler) Cols(b int) int {
	if s.p.Variant.Rescores() {
		return 3 * b
	}
	return 2 * b
}

// StateImages returns, for Fresh and IID, the image whose embedding fills similarity column 2B+k:
// chain k's current state, or the anchor itself while its chain is empty (that column then gets no
// weight). It returns nil for Paper, which needs no extra column.
func (s *Sampler) StateImages(batch []int) []int {
	if !s.p.Variant.Rescores() {
		return nil
	}
	out := make([]int, len(batch))
	for k, i := range batch {
		out[k] = i
		if z := s.chainIdx[i]; z != NoState {
			out[k] = int(z)
		}
	}
	return out
}

// Scale is the loss scale β/(2B): dLoss/dS = Scale·Ω.
func (s *Sampler) Scale(b int) float32 { return s.p.Beta / float32(2*b) }

// SamplerStats describe one step.
type SamplerStats struct {
	Loss       float64 // mean in-batch InfoNCE of the step's similarity matrix
	AcceptRate float64 // accepted proposals / proposals
}

// Step sweeps the chains of one batch over its similarity matrix and returns Ω, row-major 2B × cols
// like sim. batch holds the B distinct dataset indices of the batch; sim's rows are the anchors (view 1
// of batch[0..B−1], then view 2) and its columns the same 2B views, then (Fresh, IID) the state images
// of StateImages, all as cosine similarities. The chains advance: call Step once per training step.
func (s *Sampler) Step(sim []float32, batch []int) ([]float32, SamplerStats, error) {
	b := len(batch)
	if b < 2 {
		return nil, SamplerStats{}, errors.New("sampler: a batch needs at least 2 images")
	}
	cols := s.Cols(b)
	if len(sim) != 2*b*cols {
		return nil, SamplerStats{}, fmt.Errorf("sampler: similarity matrix of %d values, want 2B × %d = %d for B = %d", len(sim), cols, 2*b*cols, b)
	}
	seen := make(map[int]bool, b)
	idx := make([]uint32, b)
	for k, i := range batch {
		if i < 0 || i >= s.n || seen[i] {
			return nil, SamplerStats{}, fmt.Errorf("sampler: batch[%d] = %d: want distinct images in 0..%d", k, i, s.n-1)
		}
		seen[i], idx[k] = true, uint32(i)
	}
	p := s.p
	p.B, p.Cols = b, cols
	omega, stats := make([]float32, 2*b*cols), make([]float32, objective.NumStats)
	Sweep(omega, stats, sim, s.chainIdx, s.chainScore, idx, p)
	s.p.Step++
	st := SamplerStats{Loss: float64(stats[objective.StatLoss])}
	if stats[objective.StatProposals] > 0 {
		st.AcceptRate = float64(stats[objective.StatAccepted] / stats[objective.StatProposals])
	}
	return omega, st, nil
}
