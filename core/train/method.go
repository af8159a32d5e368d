package train

import (
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
)

// method is one way of weighting the negatives. Adding a method means one type here plus its
// weight kernel in the backend.
type method interface {
	// extraRows is the number of encoder rows beyond the 2B views (the fresh EMC² state views).
	extraRows() int
	// prepare runs before the augmentation, e.g. to gather the chains' state images into rows.
	prepare(rows, batch backend.Buf)
	// weights fills Ω and the step statistics from the similarity matrix.
	weights(omega, stats, s, batch backend.Buf, step uint32)
	// state lists the per-image buffers a checkpoint must keep, by name.
	state() map[string]backend.Buf
}

func newMethod(be backend.Backend, c Config, n int, key rng.Key) method {
	shape := objective.Shape{B: c.Batch, Cols: 2 * c.Batch, Beta: float32(c.Beta)}
	switch c.Method {
	case "sogclr":
		m := &sogclr{be: be, p: objective.SogCLRParams{Shape: shape, Gamma: float32(c.Gamma)}, logU: be.Alloc(n)}
		be.Write(m.logU, filled(n, objective.Unvisited))
		return m
	case "emc2":
		v, _ := c.variant()
		m := &emc2{be: be, chainIdx: be.AllocU32(n), chainScore: be.Alloc(n)}
		if v.Rescores() {
			shape.Cols = 3 * c.Batch
		}
		m.p = mcmc.Params{Shape: shape, BurnIn: float32(c.BurnIn), Variant: v, Key: key}
		idx := make([]uint32, n)
		for i := range idx {
			idx[i] = mcmc.NoState
		}
		be.WriteU32(m.chainIdx, idx)
		be.Write(m.chainScore, filled(n, objective.Unvisited))
		return m
	}
	return &simclr{be: be, p: shape}
}

func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

type simclr struct {
	be backend.Backend
	p  objective.Shape
}

func (*simclr) extraRows() int                { return 0 }
func (*simclr) prepare(_, _ backend.Buf)      {}
func (*simclr) state() map[string]backend.Buf { return nil }
func (m *simclr) weights(omega, stats, s, _ backend.Buf, _ uint32) {
	m.be.SimCLRWeights(omega, stats, s, m.p)
}

type sogclr struct {
	be   backend.Backend
	p    objective.SogCLRParams
	logU backend.Buf // per image: log of the moving average u
}

func (*sogclr) extraRows() int           { return 0 }
func (*sogclr) prepare(_, _ backend.Buf) {}
func (m *sogclr) state() map[string]backend.Buf {
	return map[string]backend.Buf{"sogclr.log_u": m.logU}
}
func (m *sogclr) weights(omega, stats, s, batch backend.Buf, _ uint32) {
	m.be.SogCLRWeights(omega, stats, s, m.logU, batch, m.p)
}

type emc2 struct {
	be         backend.Backend
	p          mcmc.Params
	chainIdx   backend.Buf // per image: dataset index of the chain's state (mcmc.NoState if none)
	chainScore backend.Buf // per image: stored log-score β·s of the state
}

func (m *emc2) extraRows() int {
	if m.p.Variant.Rescores() {
		return m.p.B
	}
	return 0
}

func (m *emc2) prepare(rows, batch backend.Buf) {
	if m.p.Variant.Rescores() {
		m.be.ChainRows(rows, m.chainIdx, batch, m.p.B)
	}
}

func (m *emc2) state() map[string]backend.Buf {
	return map[string]backend.Buf{"emc2.chain_idx": m.chainIdx, "emc2.chain_score": m.chainScore}
}

func (m *emc2) weights(omega, stats, s, batch backend.Buf, step uint32) {
	p := m.p
	p.Step = step
	m.be.MHSweep(omega, stats, s, m.chainIdx, m.chainScore, batch, p)
}
