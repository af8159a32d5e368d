package experiment

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
)

// mixingRandomEmbeddings returns n random unit vectors of width d.
func mixingRandomEmbeddings(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	emb := make([]float32, n*d)
	for i := 0; i < n; i++ {
		var norm float64
		for k := 0; k < d; k++ {
			v := r.NormFloat64()
			emb[i*d+k] = float32(v)
			norm += v * v
		}
		for k := 0; k < d; k++ {
			emb[i*d+k] /= float32(math.Sqrt(norm))
		}
	}
	return emb
}

// mixingNorm is the number of steps each anchor row records per visit in the row's setting.
func mixingNorm(r MixingRow) int {
	for _, v := range MixingVariants() {
		if v.String() == r.Variant {
			return mcmc.Params{Shape: objective.Shape{B: r.Batch}, BurnIn: MixingBurnIn, Variant: v}.Norm()
		}
	}
	return 0
}

// findMixingRow returns the row of (variant, β, B).
func findMixingRow(t *testing.T, rows []MixingRow, v mcmc.Variant, beta float64, b int) MixingRow {
	t.Helper()
	for _, r := range rows {
		if r.Variant == v.String() && r.Beta == beta && r.Batch == b {
			return r
		}
	}
	require.FailNowf(t, "missing row", "%s β=%g B=%d", v, beta, b)
	return MixingRow{}
}

// TestMixingQuick runs the CLI's --quick size end to end: embeddings of the default encoder trained
// one epoch on 256 images, then the sampler at β ∈ {2, 14.28}, B ∈ {4, 16}, both variants.
func TestMixingQuick(t *testing.T) {
	cfg := MixingDefaults(true)
	split, err := data.Default()
	require.NoError(t, err)
	ctx := context.Background()
	emb, d, source, err := MixingEmbeddings(ctx, cpu.New(), split, cfg.N, 1, cfg.Seed)
	require.NoError(t, err)
	require.Len(t, emb, cfg.N*d)
	assert.Contains(t, source, "trained 1 epoch")
	for i := 0; i < cfg.N; i++ {
		var norm float64
		for _, v := range emb[i*d : (i+1)*d] {
			norm += float64(v) * float64(v)
		}
		require.InDelta(t, 1, norm, 1e-4, "embedding %d is not L2-normalised", i)
	}

	rows, err := Mixing(ctx, emb, cfg.N, d, cfg)
	require.NoError(t, err)
	require.Len(t, rows, len(cfg.Betas)*len(cfg.Batches)*len(cfg.Variants))
	lo, hi := cfg.Betas[0], cfg.Betas[len(cfg.Betas)-1]
	for _, b := range cfg.Batches {
		for _, v := range cfg.Variants {
			cold, hot := findMixingRow(t, rows, v, lo, b), findMixingRow(t, rows, v, hi, b)
			assert.Greater(t, cold.AcceptRate, hot.AcceptRate, "%s B=%d: acceptance should fall as β rises", v, b)
		}
		// On frozen embeddings every stored score is exact, so both variants run the same chains
		// and differ only in what they record.
		for _, beta := range cfg.Betas {
			p, f := findMixingRow(t, rows, mcmc.Paper, beta, b), findMixingRow(t, rows, mcmc.Fresh, beta, b)
			assert.InDelta(t, p.AcceptRate, f.AcceptRate, 1e-12, "β=%g B=%d", beta, b)
		}
		assert.Positive(t, findMixingRow(t, rows, mcmc.Paper, hi, b).StaleShare, "paper B=%d at β=%g drops stale steps", b, hi)
	}
	for _, r := range rows {
		if r.Variant == mcmc.Fresh.String() {
			assert.Zero(t, r.StaleShare, "fresh never drops a recorded step")
		}
		assert.True(t, r.AcceptRate > 0 && r.AcceptRate <= 1, "acceptance %v", r.AcceptRate)
		assert.True(t, r.TV >= 0 && r.TV <= 1, "TV %v", r.TV)
		assert.True(t, r.TVFloor > 0 && r.TVFloor <= 1, "TV floor %v", r.TVFloor)
		assert.Positive(t, r.Anchors)
		assert.Positive(t, r.SimGapSE)
		assert.LessOrEqual(t, r.RecordsPerAnchor, float64(cfg.MeasuredEpochs()*mixingNorm(r)), "%s B=%d", r.Variant, r.Batch)
		if r.Variant == mcmc.Fresh.String() {
			// every anchor row records M = B−1 negatives per visit
			assert.Equal(t, 2*cfg.N/r.Batch*r.Batch, r.Anchors)
			assert.InDelta(t, float64(cfg.MeasuredEpochs()*(r.Batch-1)), r.RecordsPerAnchor, 1e-9)
		}
	}
	_, err = json.Marshal(rows)
	require.NoError(t, err)
}

// TestMixingUniformTargetAtFloor is the measurement's sanity check: at β → 0 the target is uniform
// and the fresh chain accepts (almost) every proposal, so its records are independent uniform
// batches; its TV must then sit at the i.i.d. floor, and its similarity gap at 0, within noise.
func TestMixingUniformTargetAtFloor(t *testing.T) {
	const n, d = 128, 16
	emb := mixingRandomEmbeddings(n, d, 3)
	cfg := MixingConfig{Betas: []float64{0, 1e-3}, Batches: []int{8}, Epochs: 40, Seed: 5, Variants: []mcmc.Variant{mcmc.Fresh}}
	rows, err := Mixing(context.Background(), emb, n, d, cfg)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	for _, r := range rows {
		assert.Greater(t, r.AcceptRate, 0.99, "β=%g", r.Beta)
		assert.InDelta(t, 140, r.RecordsPerAnchor, 1e-9) // 20 measured epochs × (B−1)
		// Records within an epoch are distinct batch members (drawn without replacement), which
		// sits about 2 % below i.i.d. draws; allow 7 % (noise is about 1.5 %).
		assert.InEpsilon(t, r.TVFloor, r.TV, 0.07, "β=%g: TV %.4f vs floor %.4f", r.Beta, r.TV, r.TVFloor)
		assert.InDelta(t, 0, r.SimGap, 4*r.SimGapSE+1e-9, "β=%g: gap %.4f ± %.4f", r.Beta, r.SimGap, r.SimGapSE)
	}
}

// TestMixingExactDrawsHaveNoGap feeds i.i.d. draws from the target in as records: their similarity
// gap must vanish within its standard error and their TV must match the floor, which is made the
// same way. This is what the study reports for an exact sampler.
func TestMixingExactDrawsHaveNoGap(t *testing.T) {
	const n, d, m = 128, 16, 50
	emb := mixingRandomEmbeddings(n, d, 9)
	g := mixGram(emb, n, d)
	tg := newMixTarget(g, n, 10)
	r := rand.New(rand.NewPCG(4, 4))
	records := make([][]uint32, 2*n)
	cdf := make([]float64, n)
	for i := 0; i < n; i++ {
		tg.cdf(i, cdf)
		for v := 0; v < 2; v++ {
			for range m {
				u := r.Float64() * cdf[n-1]
				j := 0
				for cdf[j] <= u {
					j++
				}
				records[v*n+i] = append(records[v*n+i], uint32(j))
			}
		}
	}
	run := &mixRun{n: n, key: rng.NewKey(2)}
	var row MixingRow
	run.distances(&row, tg, records, 0)
	assert.Equal(t, 2*n, row.Anchors)
	assert.InDelta(t, m, row.RecordsPerAnchor, 1e-12)
	assert.InDelta(t, 0, row.SimGap, 4*row.SimGapSE, "gap %.4f ± %.4f", row.SimGap, row.SimGapSE)
	assert.InEpsilon(t, row.TVFloor, row.TV, 0.05, "TV %.4f vs floor %.4f", row.TV, row.TVFloor)
}

// TestMixingTargetTV checks the TV and the target on a hand-sized example.
func TestMixingTargetTV(t *testing.T) {
	// three images; at β = 0 the target of anchor 0 is ½ on each of images 1 and 2
	emb := []float32{1, 0, 0, 1, -1, 0}
	g := mixGram(emb, 3, 2)
	assert.Equal(t, []float32{1, 0, -1, 0, 1, 0, -1, 0, 1}, g)
	tg := newMixTarget(g, 3, 0)
	assert.InDelta(t, 0.5, tg.tv(0, []uint32{1, 1, 1, 1}), 1e-12)
	assert.InDelta(t, 0, tg.tv(0, []uint32{2, 1}), 1e-12)
	assert.InDelta(t, 0.25, tg.tv(0, []uint32{2, 1, 1, 1}), 1e-12)
	// at β = 1: p_0(1) ∝ e⁰, p_0(2) ∝ e⁻¹
	tg = newMixTarget(g, 3, 1)
	p1 := 1 / (1 + math.Exp(-1))
	assert.InDelta(t, p1, tg.p(0, 1), 1e-12)
	assert.Zero(t, tg.p(0, 0))
	c := make([]float64, 3)
	assert.InDelta(t, (1-p1)*-1, tg.cdf(0, c), 1e-12)
	assert.InDelta(t, 1, c[2], 1e-12)
	assert.InDelta(t, 1-p1, tg.tv(0, []uint32{1}), 1e-12)
}

// TestMixingCancel checks that a cancelled context stops the study with ctx's error.
func TestMixingCancel(t *testing.T) {
	const n, d = 512, 8
	emb := mixingRandomEmbeddings(n, d, 1)
	cfg := MixingConfig{Betas: []float64{1, 5}, Batches: []int{4, 64}, Epochs: 1000, Seed: 1}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rows, err := Mixing(ctx, emb, n, d, cfg)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, rows)

	ctx, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	start := time.Now()
	_, err = Mixing(ctx, emb, n, d, cfg)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	split, err := data.Default()
	require.NoError(t, err)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, _, _, err = MixingEmbeddings(ctx, cpu.New(), split, 64, 1, 1)
	require.ErrorIs(t, err, context.Canceled)
}

// TestMixingValidate checks that bad sizes are refused with a message.
func TestMixingValidate(t *testing.T) {
	emb := mixingRandomEmbeddings(16, 4, 1)
	good := MixingConfig{Betas: []float64{1}, Batches: []int{4}, Epochs: 1}
	_, err := Mixing(context.Background(), emb, 16, 4, good)
	require.NoError(t, err)
	for name, mod := range map[string]func(*MixingConfig){
		"N mismatch":   func(c *MixingConfig) { c.N = 17 },
		"no epochs":    func(c *MixingConfig) { c.Epochs = 0 },
		"no betas":     func(c *MixingConfig) { c.Betas = nil },
		"negative β":   func(c *MixingConfig) { c.Betas = []float64{-1} },
		"NaN β":        func(c *MixingConfig) { c.Betas = []float64{math.NaN()} },
		"batch 1":      func(c *MixingConfig) { c.Batches = []int{1} },
		"batch > n":    func(c *MixingConfig) { c.Batches = []int{17} },
		"variant":      func(c *MixingConfig) { c.Variants = []mcmc.Variant{7} },
		"no batch set": func(c *MixingConfig) { c.Batches = nil },
	} {
		c := good
		mod(&c)
		_, err := Mixing(context.Background(), emb, 16, 4, c)
		assert.Error(t, err, name)
	}
	_, err = Mixing(context.Background(), emb[:10], 16, 4, good)
	assert.Error(t, err)
}

// TestMixingRowJSON checks that unmeasurable values are written as null.
func TestMixingRowJSON(t *testing.T) {
	b, err := json.Marshal(MixingRow{Variant: "paper", Beta: 2, Batch: 4, TV: math.NaN(), TVFloor: math.NaN(), SimGap: 0.5, SimGapSE: math.NaN()})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Nil(t, m["tv"])
	assert.Nil(t, m["tv_floor"])
	assert.Nil(t, m["sim_gap_se"])
	assert.Equal(t, 0.5, m["sim_gap"])
	assert.Equal(t, "paper", m["variant"])
	assert.Equal(t, 4.0, m["batch"])
}
