package train

import (
	"errors"
	"fmt"

	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/rng"
)

// StepTrace is what EMC²'s sampler did in one training step, every decision of every chain of the
// batch, replayed by core/mcmc from the step's own similarity matrix and the chains' states before
// it — the same code and the same random draws as the step (on the GPU, its WGSL twin), so the
// decisions are the step's.
type StepTrace struct {
	Step   int           `json:"step"`  // the step traced (0-based: the trainer's Step before it)
	Batch  []int         `json:"batch"` // the step's training images, in chain order
	Chains []mcmc.Replay `json:"chains"`
}

// TraceNextStep asks the next TrainStep to keep its trace (LastTrace). It costs that step two small
// reads from the device: the chain states before it and the similarity matrix after it.
func (t *Trainer) TraceNextStep() error { return t.TraceStep(t.Step) }

// TraceStep asks TrainStep to keep the trace of the given step (replacing an earlier request).
func (t *Trainer) TraceStep(step int) error {
	if _, _, ok := t.method.chains(); !ok {
		return errors.New("only runs whose method keeps chains (EMC²) can be traced")
	}
	t.traceAt = step
	return nil
}

// TracePending reports whether a requested trace has not been taken yet.
func (t *Trainer) TracePending() bool { return t.traceAt >= t.Step }

// StepWith returns the first step from the current one whose batch holds training image i (each
// epoch's batches hold every image once, except the few past the last full batch), or −1 when the
// run ends before that.
func (t *Trainer) StepWith(i int) int {
	spe, B := t.StepsPerEpoch(), t.Cfg.Batch
	for e := t.Step / spe; e < t.Cfg.Epochs; e++ {
		perm := t.key.Perm(rng.StreamShuffle, uint32(e), t.N)
		for pos, j := range perm[:spe*B] {
			if j == i && e*spe+pos/B >= t.Step {
				return e*spe + pos/B
			}
		}
	}
	return -1
}

// LastTrace returns the trace the last traced step left (nil before one), or why it has none.
func (t *Trainer) LastTrace() (*StepTrace, error) { return t.trace, t.traceErr }

// traceBefore reads the batch's chain states before the step.
func (t *Trainer) traceBefore(batch []uint32) ([]mcmc.ChainState, error) {
	idxBuf, scoreBuf, _ := t.method.chains()
	idx, score := make([]uint32, t.N), make([]float32, t.N)
	if err := t.be.ReadU32(idxBuf, idx); err != nil {
		return nil, fmt.Errorf("trace: chains: %w", err)
	}
	if err := t.be.Read(scoreBuf, score); err != nil {
		return nil, fmt.Errorf("trace: chains: %w", err)
	}
	out := make([]mcmc.ChainState, len(batch))
	for k, i := range batch {
		out[k] = mcmc.ChainState{Index: idx[i], Score: score[i]}
	}
	return out, nil
}

// traceAfter replays every chain of the step from the similarity matrix it left.
func (t *Trainer) traceAfter(step int, batch []uint32, before []mcmc.ChainState) (*StepTrace, error) {
	m := t.method.(*emc2)
	p := m.p
	p.Step = uint32(step)
	s := make([]float32, 2*p.B*p.Cols)
	if err := t.be.Read(t.sim, s); err != nil {
		return nil, fmt.Errorf("trace: similarities: %w", err)
	}
	tr := &StepTrace{Step: step, Batch: make([]int, len(batch))}
	for k, i := range batch {
		tr.Batch[k] = int(i)
		rows := [2][]float32{s[k*p.Cols : (k+1)*p.Cols], s[(p.B+k)*p.Cols : (p.B+k+1)*p.Cols]}
		r, err := mcmc.ReplayChain(rows, k, before[k], batch, p)
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		tr.Chains = append(tr.Chains, r)
	}
	return tr, nil
}
