package train

import (
	"errors"
	"fmt"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/mcmc"
)

// ChainState is one image's Metropolis–Hastings chain as it stands between steps.
type ChainState struct {
	Anchor int     `json:"anchor"` // training-set index of the image whose chain this is
	State  int     `json:"state"`  // training-set index of its current negative, -1 before the first acceptance
	Score  float32 `json:"score"`  // the stored log-score β·s of the state (stale under the paper's variant)
}

// Chain reads the chain of training image i back from the device (two values; it waits for the
// recorded work). Only EMC² runs have chains.
func (t *Trainer) Chain(i int) (ChainState, error) {
	m, ok := t.method.(*emc2)
	if !ok {
		return ChainState{}, errors.New("only EMC² runs have MH chains")
	}
	if i < 0 || i >= t.N {
		return ChainState{}, fmt.Errorf("anchor %d: want a training image in 0..%d", i, t.N-1)
	}
	// Views start at aligned offsets, so read the aligned block that holds i.
	off := i &^ (backend.Align - 1)
	n := min(backend.Align, m.chainIdx.Len()-off)
	idx, score := make([]uint32, n), make([]float32, n)
	if err := t.be.ReadU32(t.be.View(m.chainIdx, off, n), idx); err != nil {
		return ChainState{}, fmt.Errorf("chain %d: %w", i, err)
	}
	if err := t.be.Read(t.be.View(m.chainScore, off, n), score); err != nil {
		return ChainState{}, fmt.Errorf("chain %d: %w", i, err)
	}
	idx, score = idx[i-off:], score[i-off:]
	c := ChainState{Anchor: i, State: int(idx[0]), Score: score[0]}
	if idx[0] == mcmc.NoState {
		c.State = -1
	}
	return c, nil
}

// StepGradient reads back the gradient of the last TrainStep's mini-batch objective (before weight
// decay, which the optimizer adds), in the layout of the parameters. It waits for the device.
func (t *Trainer) StepGradient() ([]float32, error) {
	g := make([]float32, t.Enc.Grads.Len())
	if err := t.be.Read(t.Enc.Grads, g); err != nil {
		return nil, fmt.Errorf("step gradient: %w", err)
	}
	return g, nil
}
