package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/emc2ml/emc2/core/train"
)

// MixingBurnIn is the burn-in fraction of the mixing study's sweeps: 0.5, as in every README
// command of the authors' released code.
const MixingBurnIn = 0.5

// MixingConfig sizes the mixing study: how well EMC²'s Metropolis–Hastings sampler (core/mcmc)
// tracks softmax(β·s) on frozen embeddings, for every β × B × variant.
type MixingConfig struct {
	N        int            // images whose embeddings are studied; 0 = whatever Mixing is given
	Betas    []float64      // inverse temperatures β ≥ 0
	Batches  []int          // batch sizes B ≥ 2
	Epochs   int            // epochs of random batches per (β, B, variant); the first ⌊Epochs/2⌋ warm the chains up
	Seed     uint64         // batches, MH decisions and the floor's draws
	Variants []mcmc.Variant // sampler variants; empty = all of them (MixingVariants)
}

// MixingVariants lists the sampler variants the study compares. Cached is left out: on frozen
// embeddings its cache holds exactly what Fresh re-encodes, so it would repeat Fresh's row.
func MixingVariants() []mcmc.Variant { return []mcmc.Variant{mcmc.Paper, mcmc.Fresh, mcmc.IID} }

// knownVariant reports whether v is one of MixingVariants.
func knownVariant(v mcmc.Variant) bool { return slices.Contains(MixingVariants(), v) }

// MixingDefaults returns the study's sizes: 2000 images, β ∈ {1, 2, 5, 10, 14.28}, B ∈ {4, 8, 16,
// 32, 64} and 20 epochs (10 measured), or with quick 256 images, β ∈ {2, 14.28}, B ∈ {4, 16} and 2
// epochs (1 measured). Every sampler variant is studied.
func MixingDefaults(quick bool) MixingConfig {
	if quick {
		return MixingConfig{N: 256, Betas: []float64{2, 14.28}, Batches: []int{4, 16}, Epochs: 2, Seed: 1,
			Variants: MixingVariants()}
	}
	return MixingConfig{N: 2000, Betas: []float64{1, 2, 5, 10, 14.28}, Batches: []int{4, 8, 16, 32, 64}, Epochs: 20,
		Seed: 1, Variants: MixingVariants()}
}

// MeasuredEpochs is the number of final epochs whose sweeps are measured, ⌈Epochs/2⌉.
func (c MixingConfig) MeasuredEpochs() int { return c.Epochs - c.Epochs/2 }

// Validate reports the first bad setting of c for n embeddings.
func (c MixingConfig) Validate(n int) error {
	switch {
	case c.N != 0 && c.N != n:
		return fmt.Errorf("mixing: config is for %d images but %d embeddings were given", c.N, n)
	case c.Epochs < 1:
		return fmt.Errorf("mixing: %d epochs: need at least 1", c.Epochs)
	case len(c.Betas) == 0 || len(c.Batches) == 0:
		return fmt.Errorf("mixing: need at least one β and one batch size")
	}
	for _, b := range c.Betas {
		if !(b >= 0) || math.IsInf(b, 0) || b > 1000 {
			return fmt.Errorf("mixing: β = %v: want 0 ≤ β ≤ 1000", b)
		}
	}
	for _, b := range c.Batches {
		if b < 2 || b > n {
			return fmt.Errorf("mixing: batch %d: want 2 ≤ B ≤ %d images", b, n)
		}
	}
	for _, v := range c.Variants {
		if !knownVariant(v) {
			return fmt.Errorf("mixing: unknown sampler variant %d", v)
		}
	}
	return nil
}

// MixingRow is the measurement of one (variant, β, B), over the sweeps of the measured epochs.
//
// Anchors are the 2n rows of the similarity matrix (image i under view 1 and under view 2; both views
// share i's frozen embedding). For anchor a of image i, the recorded negatives are the chain states
// that enter Ω (the paper variant's dropped stale steps do not), and the target is p_i = softmax over
// j ≠ i of β·⟨e_i, e_j⟩.
//
// TV is the mean, over anchors with at least one record, of ½ Σ_j |p̂_a(j) − p_i(j)| with p̂_a the
// empirical distribution of a's records. With few records per anchor it is dominated by sampling
// noise, so TVFloor is the same mean for as many i.i.d. draws from p_i per anchor: what an exact,
// independent sampler would show. TV − TVFloor is what the sampler adds, which is bias plus
// autocorrelation: a chain that rejects records its state again, so even an unbiased chain sits above
// the floor when its acceptance rate is low. Anchors are measured per view, not per image, because
// both views of an image are proposed with the same embedding: pooling the two rows would count every
// proposal twice.
//
// SimGap separates bias from noise: the mean over anchor images of (the mean similarity ⟨e_i, e_j⟩
// of the records of i's anchors − its expectation under p_i), each anchor weighted equally within
// its image. Noise and autocorrelation average out of it; an unbiased sampler gives 0 within SimGapSE
// (its standard error over anchor images), and a negative gap means the records under-represent hard
// negatives. Values that cannot be measured (nothing recorded) are NaN.
type MixingRow struct {
	Variant          string  `json:"variant"`
	Beta             float64 `json:"beta"`
	Batch            int     `json:"batch"`
	AcceptRate       float64 `json:"accept_rate"`        // accepted / proposals (masked columns excluded)
	StaleShare       float64 `json:"stale_share"`        // dropped / recorded steps (out-of-batch stale state, paper variant)
	TV               float64 `json:"tv"`                 // mean TV of the recorded negatives to softmax(βs)
	TVFloor          float64 `json:"tv_floor"`           // the same for i.i.d. draws from the target
	SimGap           float64 `json:"sim_gap"`            // mean recorded similarity − its target expectation
	SimGapSE         float64 `json:"sim_gap_se"`         // standard error of SimGap over anchor images
	Anchors          int     `json:"anchors"`            // anchors with at least one recorded negative
	RecordsPerAnchor float64 `json:"records_per_anchor"` // mean recorded negatives of those anchors
}

// MarshalJSON writes NaN measurements (nothing was recorded) as null, which encoding/json cannot
// otherwise represent.
func (r MixingRow) MarshalJSON() ([]byte, error) {
	type plain MixingRow
	orNull := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		plain
		TV       *float64 `json:"tv"`
		TVFloor  *float64 `json:"tv_floor"`
		SimGap   *float64 `json:"sim_gap"`
		SimGapSE *float64 `json:"sim_gap_se"`
	}{plain(r), orNull(r.TV), orNull(r.TVFloor), orNull(r.SimGap), orNull(r.SimGapSE)})
}

// Mixing runs EMC²'s sampler on n frozen L2-normalised embeddings emb (n × d, row-major) for every
// β × B × variant of cfg and measures its acceptance rate, the stale share of its recorded steps and
// the total-variation distance of its recorded negatives to softmax(βs) (see MixingRow).
//
// Each (β, B, variant) starts from empty chains and runs cfg.Epochs epochs of random batches (the
// epoch permutations of core/rng, the same for every setting) through mcmc.Sweep with burn-in
// MixingBurnIn, carrying the chains across iterations as the trainer does; for the variants that
// re-score the state (fresh), extra column 2B+k holds chain k's state (mcmc.ChainRows). Both views of
// an image are its one embedding, so the similarity matrix is the Gram matrix of the batch's images
// and every stored score is exact: what remains is the sampler itself. On frozen embeddings paper and
// fresh therefore run identical chains and differ only in what they record. Only the last
// cfg.MeasuredEpochs() epochs are measured. Memory is dominated by the n × n Gram matrix.
//
// Mixing stops between iterations when ctx is cancelled and returns the rows finished so far with
// an error wrapping ctx.Err().
func Mixing(ctx context.Context, emb []float32, n, d int, cfg MixingConfig) ([]MixingRow, error) {
	if n < 2 || d < 1 || len(emb) != n*d {
		return nil, fmt.Errorf("mixing: %d floats are not %d embeddings of width %d (need n ≥ 2)", len(emb), n, d)
	}
	if err := cfg.Validate(n); err != nil {
		return nil, err
	}
	if len(cfg.Variants) == 0 {
		cfg.Variants = MixingVariants()
	}
	g := mixGram(emb, n, d)
	key := rng.NewKey(cfg.Seed)
	perms := make([][]int, cfg.Epochs)
	for e := range perms {
		perms[e] = key.Perm(rng.StreamShuffle, uint32(e), n)
	}
	var rows []MixingRow
	for _, beta := range cfg.Betas {
		tg := newMixTarget(g, n, beta)
		for _, b := range cfg.Batches {
			for _, v := range cfg.Variants {
				r := &mixRun{g: g, n: n, b: b, beta: beta, variant: v, key: key, perms: perms, warm: cfg.Epochs / 2}
				row, err := r.run(ctx, tg, uint32(len(rows)))
				if err != nil {
					return rows, fmt.Errorf("mixing %s β=%g B=%d: %w", v, beta, b, err)
				}
				rows = append(rows, row)
			}
		}
	}
	return rows, nil
}

// mixGram returns the n × n matrix of inner products of the embeddings.
func mixGram(emb []float32, n, d int) []float32 {
	g := make([]float32, n*n)
	for i := 0; i < n; i++ {
		ei := emb[i*d : (i+1)*d]
		for j := i; j < n; j++ {
			ej := emb[j*d : (j+1)*d]
			var s float32
			for k, x := range ei {
				s += x * ej[k]
			}
			g[i*n+j], g[j*n+i] = s, s
		}
	}
	return g
}

// mixTarget is softmax over j ≠ i of β·g[i, j], for every anchor image i.
type mixTarget struct {
	g    []float32
	n    int
	beta float64
	logZ []float64 // log Σ_{j≠i} exp(β·g[i, j])
}

func newMixTarget(g []float32, n int, beta float64) *mixTarget {
	t := &mixTarget{g: g, n: n, beta: beta, logZ: make([]float64, n)}
	for i := 0; i < n; i++ {
		row := g[i*n : (i+1)*n]
		m := math.Inf(-1)
		for j, s := range row {
			if j != i {
				m = math.Max(m, beta*float64(s))
			}
		}
		var sum float64
		for j, s := range row {
			if j != i {
				sum += math.Exp(beta*float64(s) - m)
			}
		}
		t.logZ[i] = m + math.Log(sum)
	}
	return t
}

// p is the target probability of negative j for anchor image i (0 for j = i).
func (t *mixTarget) p(i, j int) float64 {
	if i == j {
		return 0
	}
	return math.Exp(t.beta*float64(t.g[i*t.n+j]) - t.logZ[i])
}

// cdf writes the cumulative target of anchor image i into c (length n) and returns the target's
// mean similarity E_{p_i}[⟨e_i, e_j⟩].
func (t *mixTarget) cdf(i int, c []float64) (meanSim float64) {
	var acc float64
	for j := range c {
		p := t.p(i, j)
		acc += p
		meanSim += p * float64(t.g[i*t.n+j])
		c[j] = acc
	}
	return meanSim / acc
}

// meanSim is the mean similarity of anchor image i to the records.
func (t *mixTarget) meanSim(i int, records []uint32) float64 {
	var sum float64
	for _, j := range records {
		sum += float64(t.g[i*t.n+int(j)])
	}
	return sum / float64(len(records))
}

// tv is ½ Σ_j |p̂(j) − p_i(j)| for the empirical distribution of the records (sorted in place).
func (t *mixTarget) tv(i int, records []uint32) float64 {
	slices.Sort(records)
	m := float64(len(records))
	var diff, covered float64
	for lo := 0; lo < len(records); {
		hi := lo
		for hi < len(records) && records[hi] == records[lo] {
			hi++
		}
		p := t.p(i, int(records[lo]))
		diff += math.Abs(float64(hi-lo)/m - p)
		covered += p
		lo = hi
	}
	return 0.5 * (diff + math.Max(0, 1-covered))
}

// mixRun is one (β, B, variant) of the study.
type mixRun struct {
	g       []float32
	n, b    int
	beta    float64
	variant mcmc.Variant
	key     rng.Key
	perms   [][]int
	warm    int // epochs run before measuring
}

func (r *mixRun) run(ctx context.Context, tg *mixTarget, id uint32) (MixingRow, error) {
	n, b, g := r.n, r.b, r.g
	cols := 2 * b
	rescores := r.variant != mcmc.Paper // the chain's state is an extra column 2B+k
	if rescores {
		cols = 3 * b
	}
	p := mcmc.Params{Shape: objective.Shape{B: b, Cols: cols, Beta: float32(r.beta)}, BurnIn: MixingBurnIn,
		Variant: r.variant, Key: r.key}
	norm := float64(p.Norm())
	chainIdx, chainScore := make([]uint32, n), make([]float32, n)
	for i := range chainIdx {
		chainIdx[i], chainScore[i] = mcmc.NoState, objective.Unvisited
	}
	s, omega := make([]float32, 2*b*cols), make([]float32, 2*b*cols)
	stats := make([]float32, objective.NumStats)
	batch, rows := make([]uint32, b), make([]uint32, cols)
	records := make([][]uint32, 2*n) // anchor view·n + i → dataset indices of its recorded negatives
	var st [objective.NumStats]float64
	spe := n / b
	step := uint32(0)
	for e, perm := range r.perms {
		for it := 0; it < spe; it++ {
			if err := ctx.Err(); err != nil {
				return MixingRow{}, err
			}
			for k := range batch {
				batch[k] = uint32(perm[it*b+k])
				rows[k], rows[b+k] = batch[k], batch[k]
			}
			if rescores {
				mcmc.ChainRows(rows, chainIdx, batch, b)
			}
			for a := 0; a < 2*b; a++ {
				gr := g[int(rows[a])*n:]
				for c := 0; c < cols; c++ {
					s[a*cols+c] = gr[rows[c]]
				}
			}
			p.Step = step
			step++
			mcmc.Sweep(omega, stats, s, chainIdx, chainScore, batch, p)
			if e < r.warm {
				continue
			}
			for k := range st {
				st[k] += float64(stats[k])
			}
			for a := 0; a < 2*b; a++ {
				anchor := (a/b)*n + int(batch[a%b])
				for c := 0; c < cols; c++ {
					w := omega[a*cols+c]
					if w <= 0 || c == p.Pos(a) {
						continue
					}
					for range int(math.Round(float64(w) * norm)) {
						records[anchor] = append(records[anchor], rows[c])
					}
				}
			}
		}
	}
	row := MixingRow{Variant: r.variant.String(), Beta: r.beta, Batch: b}
	if st[objective.StatProposals] > 0 {
		row.AcceptRate = st[objective.StatAccepted] / st[objective.StatProposals]
	}
	if st[objective.StatRecorded] > 0 {
		row.StaleShare = st[objective.StatDropped] / st[objective.StatRecorded]
	}
	if err := ctx.Err(); err != nil {
		return MixingRow{}, err
	}
	r.distances(&row, tg, records, id)
	return row, nil
}

// distances fills the row's TV, TVFloor, SimGap, SimGapSE, Anchors and RecordsPerAnchor from the
// records. The floor's draws come from the run key's evaluation stream, counter (id, anchor, draw).
func (r *mixRun) distances(row *MixingRow, tg *mixTarget, records [][]uint32, id uint32) {
	n := r.n
	cdf := make([]float64, n)
	var draws []uint32
	var tvSum, floorSum, recSum float64
	var gaps []float64 // per anchor image: mean over its measured views of the similarity gap
	for i := 0; i < n; i++ {
		if len(records[i]) == 0 && len(records[n+i]) == 0 {
			continue
		}
		want := tg.cdf(i, cdf)
		total := cdf[n-1]
		var gap float64
		var views int
		for v := 0; v < 2; v++ {
			a := v*n + i
			m := len(records[a])
			if m == 0 {
				continue
			}
			row.Anchors++
			views++
			recSum += float64(m)
			gap += tg.meanSim(i, records[a]) - want
			tvSum += tg.tv(i, records[a])
			draws = draws[:0]
			for t := 0; t < m; t += 2 {
				w := r.key.Bits(rng.StreamEval, id, uint32(a), uint32(t/2))
				for h := 0; h < 2 && t+h < m; h++ {
					// 53 random bits → u uniform in [0, total); the first j with cdf[j] > u is a draw
					u := float64(uint64(w[2*h])<<21|uint64(w[2*h+1]>>11)) / (1 << 53) * total
					j := sort.Search(n, func(j int) bool { return cdf[j] > u })
					draws = append(draws, uint32(min(j, n-1)))
				}
			}
			floorSum += tg.tv(i, draws)
		}
		gaps = append(gaps, gap/float64(views))
	}
	row.TV, row.TVFloor, row.SimGap, row.SimGapSE = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if row.Anchors == 0 {
		return
	}
	k := float64(row.Anchors)
	row.TV, row.TVFloor, row.RecordsPerAnchor = tvSum/k, floorSum/k, recSum/k
	var mean float64
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(len(gaps))
	row.SimGap = mean
	if len(gaps) > 1 {
		var ss float64
		for _, g := range gaps {
			ss += (g - mean) * (g - mean)
		}
		row.SimGapSE = math.Sqrt(ss / float64(len(gaps)-1) / float64(len(gaps)))
	}
}

// MixingEmbeddings returns the L2-normalised embeddings (n × d) of the first n training images of
// split under the default encoder (train.DefaultConfig with the given seed), trained for
// trainEpochs epochs of EMC² on those images first (0 = random initialisation), together with a
// one-line description of where they came from. The views are un-augmented.
func MixingEmbeddings(ctx context.Context, be backend.Backend, split *data.Split, n, trainEpochs int, seed uint64) (emb []float32, d int, source string, err error) {
	if split == nil || split.Train == nil || split.Train.N < n || n < 2 {
		return nil, 0, "", fmt.Errorf("mixing embeddings: need %d training images", n)
	}
	if trainEpochs < 0 {
		return nil, 0, "", fmt.Errorf("mixing embeddings: %d training epochs", trainEpochs)
	}
	cfg := train.DefaultConfig()
	cfg.Seed, cfg.Epochs, cfg.TrainSubset = seed, max(1, trainEpochs), n
	cfg.Batch = min(cfg.Batch, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	ds := split.Train.Subset(idx)
	t, err := train.NewTrainer(be, cfg, ds)
	if err != nil {
		return nil, 0, "", fmt.Errorf("mixing embeddings: %w", err)
	}
	source = fmt.Sprintf("default encoder at random initialisation (seed %d), first %d images of %s", seed, n, ds.Name)
	if trainEpochs > 0 {
		if err := t.TrainTo(ctx, t.TotalSteps()); err != nil {
			return nil, 0, "", fmt.Errorf("mixing embeddings: training the encoder: %w", err)
		}
		source = fmt.Sprintf("default encoder (%s, B=%d, β=%g, seed %d) trained %d epoch(s) on the first %d images of %s",
			cfg.RunName(), cfg.Batch, cfg.Beta, seed, trainEpochs, n, ds.Name)
	}
	_, emb, err = t.Embedder().EmbedAll(ds)
	if err != nil {
		return nil, 0, "", fmt.Errorf("mixing embeddings: %w", err)
	}
	return emb, t.Arch.Proj, source, nil
}
