package train

import (
	"fmt"
	"strings"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
)

// Method is a way of weighting the negatives.
type Method int

// The methods. Their order is the method table's.
const (
	SimCLR Method = iota // in-batch softmax (Chen et al., 2020)
	SogCLR               // per-image moving averages of the global denominator (Yuan et al., 2022)
	EMC2                 // Metropolis–Hastings chains over the in-batch views (Yau et al., 2024)
)

// methodSpec is one row of the method table: everything the rest of the code asks about a method.
// Adding a method is one row here, one adapter type below, and its weight kernel in the backends.
type methodSpec struct {
	name   string // spelling in configs, flags and the page
	title  string // for people
	chains bool   // keeps Metropolis–Hastings chains, so the sampler variant applies
	// extraRows is the number of encoder rows beyond the 2B views the method needs for c, and
	// extraCols the number of similarity columns beyond the encoder's rows (cached embeddings).
	extraRows, extraCols func(c Config) int
	// build makes the method's device state for n training images; shape is the step's similarity
	// matrix (2B rows × the encoder's rows).
	build func(be backend.Backend, c Config, shape objective.Shape, n int, key rng.Key) method
}

var methodTable = []methodSpec{
	SimCLR: {name: "simclr", title: "SimCLR", extraRows: noRows, extraCols: noRows, build: newSimCLR},
	SogCLR: {name: "sogclr", title: "SogCLR", extraRows: noRows, extraCols: noRows, build: newSogCLR},
	EMC2:   {name: "emc2", title: "EMC²", chains: true, extraRows: emc2Rows, extraCols: emc2Cols, build: newEMC2},
}

func noRows(Config) int { return 0 }

// Methods lists every method.
func Methods() []Method {
	out := make([]Method, len(methodTable))
	for i := range out {
		out[i] = Method(i)
	}
	return out
}

func (m Method) spec() methodSpec {
	if m < 0 || int(m) >= len(methodTable) {
		return methodSpec{name: fmt.Sprintf("method(%d)", int(m))}
	}
	return methodTable[m]
}

// String returns the method's name ("simclr", "sogclr", "emc2").
func (m Method) String() string { return m.spec().name }

// Title is the method's name for people ("SimCLR", "EMC²").
func (m Method) Title() string { return m.spec().title }

// HasChains reports whether the method keeps Metropolis–Hastings chains (and a sampler variant).
func (m Method) HasChains() bool { return m.spec().chains }

func (m Method) valid() bool { return m >= 0 && int(m) < len(methodTable) }

// ParseMethod reads a method's name.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods() {
		if s == m.String() {
			return m, nil
		}
	}
	names := make([]string, len(methodTable))
	for i, sp := range methodTable {
		names[i] = sp.name
	}
	return 0, fmt.Errorf("unknown method %q (want %s)", s, strings.Join(names, ", "))
}

// UnmarshalText parses a method's name (JSON configs and flags).
func (m *Method) UnmarshalText(b []byte) error {
	v, err := ParseMethod(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalText writes the method's name.
func (m Method) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// RunName names a method with its sampler variant where it has one: "simclr", "emc2-fresh". It
// is how experiments, run folders and reports label a configuration; ParseRunName reads it back.
func RunName(m Method, v mcmc.Variant) string {
	if m.HasChains() {
		return m.String() + "-" + v.String()
	}
	return m.String()
}

// ParseRunName reads "simclr", "emc2" (the default variant), "emc2-paper" or "emc2:paper".
func ParseRunName(s string) (Method, mcmc.Variant, error) {
	name, variant, hasVariant := strings.Cut(strings.ReplaceAll(s, ":", "-"), "-")
	m, err := ParseMethod(name)
	if err != nil {
		return 0, 0, err
	}
	v := DefaultConfig().Variant
	if hasVariant {
		if !m.HasChains() {
			return 0, 0, fmt.Errorf("method %q: %s has no sampler variants", s, name)
		}
		if v, err = mcmc.ParseVariant(variant); err != nil {
			return 0, 0, fmt.Errorf("method %q: %w", s, err)
		}
	}
	return m, v, nil
}

// MethodInfo describes a method to a front end (the page builds its method menu from it).
type MethodInfo struct {
	Name      string   `json:"name"`
	Title     string   `json:"title"`
	HasChains bool     `json:"has_chains"`
	Variants  []string `json:"variants,omitempty"` // sampler variants, the default first
}

// MethodTable describes every method.
func MethodTable() []MethodInfo {
	var out []MethodInfo
	def := DefaultConfig().Variant
	for _, m := range Methods() {
		info := MethodInfo{Name: m.String(), Title: m.Title(), HasChains: m.HasChains()}
		if m.HasChains() {
			info.Variants = []string{def.String()}
			for _, v := range mcmc.Variants() {
				if v != def {
					info.Variants = append(info.Variants, v.String())
				}
			}
		}
		out = append(out, info)
	}
	return out
}

// method is one way of weighting the negatives on a backend.
type method interface {
	// prepare runs before the augmentation, e.g. to gather the chains' state images into rows.
	prepare(rows, batch backend.Buf)
	// columns returns F, whose rows are the similarity matrix's columns: the encoder's output
	// itself, or (cached sampler) a copy of it followed by cached embeddings. It runs after the
	// forward pass.
	columns(out, rows, batch backend.Buf) backend.Buf
	// weights fills Ω and the step statistics from the similarity matrix.
	weights(omega, stats, s, batch backend.Buf, step uint32)
	// state lists the per-image buffers a checkpoint must keep, by name.
	state() map[string]backend.Buf
	// chains returns the per-image chain buffers of a method that keeps chains (ok false otherwise).
	chains() (idx, score backend.Buf, ok bool)
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

func newSimCLR(be backend.Backend, _ Config, shape objective.Shape, _ int, _ rng.Key) method {
	return &simclr{be: be, p: shape}
}

func (*simclr) prepare(_, _ backend.Buf)                  {}
func (*simclr) columns(out, _, _ backend.Buf) backend.Buf { return out }
func (*simclr) state() map[string]backend.Buf             { return nil }
func (*simclr) chains() (_, _ backend.Buf, _ bool)        { return nil, nil, false }
func (m *simclr) weights(omega, stats, s, _ backend.Buf, _ uint32) {
	m.be.SimCLRWeights(omega, stats, s, m.p)
}

type sogclr struct {
	be   backend.Backend
	p    objective.SogCLRParams
	logU backend.Buf // per image: log of the moving average u
}

func newSogCLR(be backend.Backend, c Config, shape objective.Shape, n int, _ rng.Key) method {
	m := &sogclr{be: be, p: objective.SogCLRParams{Shape: shape, Gamma: float32(c.Gamma)}, logU: be.Alloc(n)}
	be.Write(m.logU, filled(n, objective.Unvisited))
	return m
}

func (*sogclr) prepare(_, _ backend.Buf)                  {}
func (*sogclr) columns(out, _, _ backend.Buf) backend.Buf { return out }
func (*sogclr) chains() (_, _ backend.Buf, _ bool)        { return nil, nil, false }
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

	// The cached variant: each image's last view-1 embedding (n × d), the similarity's columns
	// (3B × d: the 2B views, then the states' cached embeddings) and the identity 0..2B−1.
	cache, feat, ident backend.Buf
	d                  int
}

// emc2Rows: Fresh and IID forward one view of each chain's state image as extra encoder rows.
func emc2Rows(c Config) int {
	if c.Variant.Rescores() && c.Variant != mcmc.Cached {
		return c.Batch
	}
	return 0
}

// emc2Cols: Cached takes the states' column from its cache instead.
func emc2Cols(c Config) int {
	if c.Variant == mcmc.Cached {
		return c.Batch
	}
	return 0
}

func newEMC2(be backend.Backend, c Config, shape objective.Shape, n int, key rng.Key) method {
	m := &emc2{be: be, chainIdx: be.AllocU32(n), chainScore: be.Alloc(n),
		p: mcmc.Params{Shape: shape, BurnIn: c.BurnIn, Variant: c.Variant, Key: key}}
	idx := make([]uint32, n)
	for i := range idx {
		idx[i] = mcmc.NoState
	}
	be.WriteU32(m.chainIdx, idx)
	be.Write(m.chainScore, filled(n, objective.Unvisited))
	if c.Variant == mcmc.Cached {
		b := c.Batch
		m.d = c.Proj
		m.cache, m.feat, m.ident = be.Alloc(n*c.Proj), be.Alloc(3*b*c.Proj), be.AllocU32(2*b)
		id := make([]uint32, 2*b)
		for i := range id {
			id[i] = uint32(i)
		}
		be.WriteU32(m.ident, id)
	}
	return m
}

// columns: for Cached, the batch's view-1 embeddings replace their images' cache rows first, so a
// state that is also in this batch is scored with this step's embedding.
func (m *emc2) columns(out, rows, batch backend.Buf) backend.Buf {
	if m.p.Variant != mcmc.Cached {
		return out
	}
	b, d := m.p.B, m.d
	m.be.ScatterRows(m.cache, out, batch, b, d)
	m.be.GatherRows(m.feat, out, m.ident, 0, 0, 2*b, d)
	m.be.GatherRows(m.feat, m.cache, rows, 2*b, 2*b, b, d)
	return m.feat
}

func (m *emc2) prepare(rows, batch backend.Buf) {
	if m.p.Variant.Rescores() {
		m.be.ChainRows(rows, m.chainIdx, batch, m.p.B)
	}
}

func (m *emc2) state() map[string]backend.Buf {
	st := map[string]backend.Buf{"emc2.chain_idx": m.chainIdx, "emc2.chain_score": m.chainScore}
	if m.cache != nil {
		st["emc2.cache"] = m.cache
	}
	return st
}

func (m *emc2) chains() (_, _ backend.Buf, _ bool) { return m.chainIdx, m.chainScore, true }

func (m *emc2) weights(omega, stats, s, batch backend.Buf, step uint32) {
	p := m.p
	p.Step = step
	m.be.MHSweep(omega, stats, s, m.chainIdx, m.chainScore, batch, p)
}
