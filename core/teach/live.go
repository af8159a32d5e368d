package teach

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/session"
	"github.com/emc2ml/emc2/core/train"
)

// LiveConfig is part 3's training run: EMC² on the first Images training images, B = Batch, with
// the trainer's default encoder and augmentations. Everything else is train.DefaultConfig's.
type LiveConfig struct {
	Images  int          `json:"images"`
	Batch   int          `json:"batch"`
	Epochs  int          `json:"epochs"`
	Variant mcmc.Variant `json:"variant"` // paper | fresh (iid works too)
	Seed    uint64       `json:"seed"`
}

// Limits on a live run: the page trains it on the CPU inside a worker, one step per command.
const (
	MinLiveImages = 16
	MaxLiveImages = 4096
	MaxLiveBatch  = 64
	MaxLiveEpochs = 50
)

// TrainConfig is the trainer configuration of the run.
func (c LiveConfig) TrainConfig() train.Config {
	cfg := train.DefaultConfig()
	cfg.Method, cfg.Variant, cfg.Batch, cfg.Epochs, cfg.Seed = train.EMC2, c.Variant, c.Batch, c.Epochs, c.Seed
	cfg.TrainSubset = c.Images
	cfg.LogEvery, cfg.EvalEvery, cfg.GlobalSize = 1, 0, 0 // every step's statistics; no evaluation
	return cfg
}

func (c LiveConfig) validate() error {
	switch {
	case c.Images < MinLiveImages || c.Images > MaxLiveImages:
		return fmt.Errorf("live run: %d images: want %d to %d", c.Images, MinLiveImages, MaxLiveImages)
	case c.Batch < 2 || c.Batch > MaxLiveBatch || c.Batch > c.Images:
		return fmt.Errorf("live run: batch %d: want 2 to %d, at most the %d images", c.Batch, MaxLiveBatch, c.Images)
	case c.Epochs < 1 || c.Epochs > MaxLiveEpochs:
		return fmt.Errorf("live run: %d epochs: want 1 to %d", c.Epochs, MaxLiveEpochs)
	}
	return nil
}

// LiveStat is one step of the run, for the per-step chart.
type LiveStat struct {
	Step       int     `json:"step"`
	Accepted   int     `json:"accepted"`    // accepted proposals of the batch's chains (from the replays)
	Proposals  int     `json:"proposals"`   // proposals made (own columns excluded)
	AcceptRate float64 `json:"accept_rate"` // the trainer's own statistic for the step
	Loss       float64 `json:"loss"`        // the step's in-batch InfoNCE
	StaleGap   float64 `json:"stale_gap"`   // mean |stored − fresh| over the batch's chains with a state
	WithState  int     `json:"with_state"`  // chains of the batch that had a state before the step
}

// LiveChain sums up one chain's sweep in one step, and the stored score beside a fresh one.
type LiveChain struct {
	K         int     `json:"k"`     // position in the batch
	Image     int     `json:"image"` // training image (the anchor)
	Label     int32   `json:"label"`
	Step      int     `json:"step"`
	Accepted  int     `json:"accepted"`
	Recorded  int     `json:"recorded"` // decisions that added weight (after burn-in, not dropped)
	Before    int     `json:"before"`   // training image of the state the step started from (−1: none)
	After     int     `json:"after"`    // …and of the state it stored (−1: none)
	HasState  bool    `json:"has_state"`
	Stored    float32 `json:"stored"`     // the chain's stored log-score β·s before the step
	StoredAge int     `json:"stored_age"` // steps since that score was computed
	// Fresh is the state's score with current features: for the fresh variant the sweep's own
	// re-score β·S[k, 2B+k] (this step's weights and views); for paper, which never re-scores,
	// β·cos of the plain anchor and state images under the weights after the step.
	Fresh     float32 `json:"fresh"`
	FreshKind string  `json:"fresh_kind"` // sweep | plain
}

// Live is part 3: a small EMC² run that the page steps, every step traced (core/train replays
// each chain's sweep with core/mcmc from the step's own similarity matrix).
type Live struct {
	Config  LiveConfig
	T       *train.Trainer
	History []LiveStat
	Batch   []LiveChain // the last step's chains

	trace    *train.StepTrace
	last     map[int]*train.StepTrace // image → the last traced step whose batch held it
	chains   map[int]LiveChain        // image → its chain's summary in that step
	visits   map[int][]session.ChainVisit
	storedAt []int // image → step whose sweep wrote its chain's stored score (−1: never)
}

// NewLive builds the run on be over the first cfg.Images images of ds.
func NewLive(be backend.Backend, ds *data.Dataset, cfg LiveConfig) (*Live, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if ds.N < cfg.Images {
		return nil, fmt.Errorf("live run: %d images asked, the data holds %d", cfg.Images, ds.N)
	}
	t, err := train.NewTrainer(be, cfg.TrainConfig(), ds.Head(cfg.Images))
	if err != nil {
		return nil, fmt.Errorf("live run: %w", err)
	}
	l := &Live{Config: cfg, T: t, last: map[int]*train.StepTrace{}, chains: map[int]LiveChain{},
		visits: map[int][]session.ChainVisit{}, storedAt: make([]int, t.N)}
	for i := range l.storedAt {
		l.storedAt[i] = -1
	}
	return l, nil
}

// LastTrace is the last step's trace: every decision of every chain of its batch.
func (l *Live) LastTrace() *train.StepTrace { return l.trace }

// Done reports whether the run has taken all its steps.
func (l *Live) Done() bool { return l.T.Step >= l.T.TotalSteps() }

// Step takes one traced training step.
func (l *Live) Step() error {
	t := l.T
	if l.Done() {
		return fmt.Errorf("live run: all %d steps are taken", t.TotalSteps())
	}
	if err := t.TraceNextStep(); err != nil {
		return fmt.Errorf("live run: %w", err)
	}
	t.TrainStep()
	st, err := t.ReadStats()
	if err != nil {
		return fmt.Errorf("live run: %w", err)
	}
	tr, err := t.LastTrace()
	if err != nil {
		return fmt.Errorf("live run: step %d: %w", t.Step-1, err)
	}
	if tr == nil || tr.Step != t.Step-1 {
		return fmt.Errorf("live run: step %d left no trace", t.Step-1)
	}
	fresh, err := l.freshScores(tr)
	if err != nil {
		return err
	}
	stat := LiveStat{Step: tr.Step, AcceptRate: st.AcceptRate, Loss: st.Loss}
	l.Batch = l.Batch[:0]
	for k, r := range tr.Chains {
		c := l.summarise(tr, k, r, fresh[k])
		stat.Accepted += c.Accepted
		for _, d := range r.Decisions {
			if !d.Own {
				stat.Proposals++
			}
		}
		if c.HasState {
			stat.WithState++
			stat.StaleGap += abs32(c.Stored - c.Fresh)
		}
		l.Batch = append(l.Batch, c)
		l.last[c.Image], l.chains[c.Image] = tr, c
		v := session.ChainVisit{Step: tr.Step, Accepted: c.Accepted, Recorded: c.Recorded, State: c.After}
		l.visits[c.Image] = append(l.visits[c.Image], v)
	}
	if stat.WithState > 0 {
		stat.StaleGap /= float64(stat.WithState)
	}
	l.History = append(l.History, stat)
	l.trace = tr
	return nil
}

// summarise makes chain k's LiveChain and notes when its stored score was written.
func (l *Live) summarise(tr *train.StepTrace, k int, r mcmc.Replay, fresh float32) LiveChain {
	i := int(r.Image)
	c := LiveChain{K: k, Image: i, Label: l.label(i), Step: tr.Step, Before: stateImage(r.Before), After: stateImage(r.After),
		HasState: r.Before.Index != mcmc.NoState, Stored: r.Before.Score, StoredAge: -1, Fresh: fresh, FreshKind: "plain"}
	if r.Variant != mcmc.Paper.String() {
		c.FreshKind = "sweep"
	}
	if c.HasState && l.storedAt[i] >= 0 {
		c.StoredAge = tr.Step - l.storedAt[i]
	}
	for _, d := range r.Decisions {
		if d.Accepted {
			c.Accepted++
		}
		if d.Recorded && !d.Dropped {
			c.Recorded++
		}
	}
	// The sweep stores a new score when it accepts, and the re-scoring variants every step.
	if c.Accepted > 0 || (r.Variant != mcmc.Paper.String() && c.HasState) {
		l.storedAt[i] = tr.Step
	}
	return c
}

// freshScores gives each chain of the traced step its state's score with current features (see
// LiveChain.Fresh); 0 for a chain without a state.
func (l *Live) freshScores(tr *train.StepTrace) ([]float32, error) {
	out := make([]float32, len(tr.Chains))
	if len(tr.Chains) > 0 && tr.Chains[0].Variant != mcmc.Paper.String() {
		for k, r := range tr.Chains {
			if r.Before.Index != mcmc.NoState && len(r.Decisions) > 0 {
				out[k] = r.Decisions[0].Score // view 1's re-score, the score the sweep starts from
			}
		}
		return out, nil
	}
	var idx []int
	for _, r := range tr.Chains {
		if r.Before.Index != mcmc.NoState {
			idx = append(idx, int(r.Image), int(r.Before.Index))
		}
	}
	if len(idx) == 0 {
		return out, nil
	}
	_, emb, err := l.T.Embedder().Embed(l.T.Data, idx, augment.Config{}, 0)
	if err != nil {
		return nil, fmt.Errorf("live run: fresh scores: %w", err)
	}
	p, n := l.T.Arch.Proj, 0
	for k, r := range tr.Chains {
		if r.Before.Index == mcmc.NoState {
			continue
		}
		var s float32
		for j := range p {
			s += emb[2*n*p+j] * emb[(2*n+1)*p+j]
		}
		out[k], n = float32(l.T.Cfg.Beta)*s, n+1
	}
	return out, nil
}

func (l *Live) label(i int) int32 {
	if l.T.Data.Labels == nil || i < 0 {
		return -1
	}
	return l.T.Data.Labels[i]
}

func stateImage(s mcmc.ChainState) int {
	if s.Index == mcmc.NoState {
		return -1
	}
	return int(s.Index)
}

func abs32(x float32) float64 {
	if x < 0 {
		return float64(-x)
	}
	return float64(x)
}

// LiveReport is what the page shows after a step: the batch, its chains, the followed chain's walk
// (the trainer's chain-inspector report, session.ChainReport) and the run's per-step history.
type LiveReport struct {
	Step          int                  `json:"step"` // steps taken
	Total         int                  `json:"total"`
	StepsPerEpoch int                  `json:"steps_per_epoch"`
	Variant       string               `json:"variant"`
	Beta          float64              `json:"beta"`
	BurnIn        int                  `json:"burn_in"` // P
	Norm          int                  `json:"norm"`    // M
	Batch         []LiveChain          `json:"batch"`   // the last step's chains (empty before the first step)
	Follow        *session.ChainReport `json:"follow,omitempty"`
	FollowChain   *LiveChain           `json:"follow_chain,omitempty"` // the followed chain's summary in Follow's step
	FollowAlpha   []float64            `json:"follow_alpha,omitempty"` // α = min(1, exp(q − score)) of each of Follow's decisions
	History       []LiveStat           `json:"history"`
	Classes       []string             `json:"classes"`
	Size          int                  `json:"size"`   // image side
	Images        map[string][]byte    `json:"images"` // pixels of every image the report names, by index
}

// Report describes the run now, following training image anchor (−1: the last batch's first chain).
func (l *Live) Report(anchor int) (LiveReport, error) {
	t := l.T
	cfg := t.Cfg
	p := mcmc.Params{BurnIn: cfg.BurnIn, Variant: cfg.Variant}
	p.B = cfg.Batch
	rep := LiveReport{Step: t.Step, Total: t.TotalSteps(), StepsPerEpoch: t.StepsPerEpoch(), Variant: cfg.Variant.String(),
		Beta: cfg.Beta, BurnIn: p.BurnInSteps(), Norm: p.Norm(), Batch: l.Batch, History: l.History,
		Classes: t.Data.Classes, Size: t.Data.H, Images: map[string][]byte{}}
	if rep.History == nil { // JSON: an empty list, not null
		rep.History, rep.Batch = []LiveStat{}, []LiveChain{}
	}
	if anchor >= t.N {
		return rep, fmt.Errorf("live run: anchor %d: want a training image in 0..%d", anchor, t.N-1)
	}
	if anchor < 0 && len(l.Batch) > 0 {
		anchor = l.Batch[0].Image
	}
	if anchor >= 0 {
		rep.Follow = l.follow(anchor)
		if c, ok := l.chains[anchor]; ok {
			rep.FollowChain = &c
		}
		if r := rep.Follow.Replay; r != nil {
			for _, d := range r.Decisions {
				rep.FollowAlpha = append(rep.FollowAlpha, d.AcceptProb())
			}
		}
		for _, i := range rep.Follow.Columns {
			l.addImage(rep.Images, i)
		}
		l.addImage(rep.Images, anchor)
	}
	for _, c := range l.Batch {
		for _, i := range []int{c.Image, c.Before, c.After} {
			l.addImage(rep.Images, i)
		}
	}
	return rep, nil
}

// follow is the trainer's chain-inspector report for the chain of image a.
func (l *Live) follow(a int) *session.ChainReport {
	t := l.T
	rep := &session.ChainReport{Anchor: a, AnchorLabel: l.label(a), Step: -1, Beta: t.Cfg.Beta,
		Visits: l.visits[a], Next: t.StepWith(a)}
	tr := l.last[a]
	if tr == nil {
		return rep
	}
	for k := range tr.Chains {
		if int(tr.Chains[k].Image) == a {
			rep.Replay = &tr.Chains[k]
		}
	}
	if rep.Replay == nil {
		return rep
	}
	rep.Step, rep.Epoch = tr.Step, float64(tr.Step)/float64(t.StepsPerEpoch())
	B := len(tr.Batch)
	for c := 0; c < 2*B; c++ {
		rep.Columns = append(rep.Columns, tr.Batch[c%B])
	}
	if rep.Replay.Variant != mcmc.Paper.String() {
		for _, c := range tr.Chains { // the extra columns: each chain's state image, re-scored
			if c.Before.Index != mcmc.NoState {
				rep.Columns = append(rep.Columns, int(c.Before.Index))
			} else {
				rep.Columns = append(rep.Columns, int(c.Image))
			}
		}
	}
	for _, i := range rep.Columns {
		rep.Labels = append(rep.Labels, l.label(i))
	}
	return rep
}

func (l *Live) addImage(m map[string][]byte, i int) {
	if i < 0 || i >= l.T.Data.N {
		return
	}
	k := strconv.Itoa(i)
	if _, ok := m[k]; !ok {
		m[k] = l.T.Data.Image(i)
	}
}

// ErrNoLive is returned by the page's live commands before a run exists.
var ErrNoLive = errors.New("no live run yet (send teach-live first)")
