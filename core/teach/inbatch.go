package teach

import (
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/rng"
)

// InBatchStats is what SimCLR's in-batch softmax does to the negatives of one anchor: over random
// batches of B candidates (drawn without replacement), each candidate's expected weight in the
// batch softmax, how far that is from the full softmax, and the bias of the log-partition estimate.
type InBatchStats struct {
	B       int       `json:"b"`
	Trials  int       `json:"trials"`
	Weights []float64 `json:"weights"` // E[1{j ∈ batch}·e^{a_j} / Σ_{i∈batch} e^{a_i}] per candidate j
	// TV is the total-variation distance between Weights and softmax(a): how much of the weight the
	// in-batch softmax puts in the wrong place (0 when B is every candidate).
	TV float64 `json:"tv"`
	// LogZBias is E[log((n/B)·Σ_{i∈batch} e^{a_i})] − log Σ_i e^{a_i}: the batch sum is an unbiased
	// estimate of the partition function, but its log is not (Jensen), and the loss takes the log.
	LogZBias float64 `json:"log_z_bias"`
}

// InBatch estimates InBatchStats over trials random batches of b of the log-scores a.
func InBatch(a []float32, b, trials int, key rng.Key) (InBatchStats, error) {
	n := len(a)
	if b < 1 || b > n {
		return InBatchStats{}, fmt.Errorf("in-batch softmax: batch %d of %d candidates", b, n)
	}
	if trials < 1 {
		return InBatchStats{}, fmt.Errorf("in-batch softmax: %d trials", trials)
	}
	m := math.Inf(-1)
	for _, v := range a {
		m = max(m, float64(v))
	}
	e := make([]float64, n)
	var z float64
	for i, v := range a {
		e[i] = math.Exp(float64(v) - m)
		z += e[i]
	}
	st := InBatchStats{B: b, Trials: trials, Weights: make([]float64, n)}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	var logBias float64
	for t := 0; t < trials; t++ {
		// a partial Fisher–Yates shuffle: perm[:b] is a uniformly random batch
		for i := 0; i < b; i++ {
			bits := key.Bits(streamBatch, uint32(t), uint32(i), 0)
			j := i + int(bits[0]%uint32(n-i))
			perm[i], perm[j] = perm[j], perm[i]
		}
		var zb float64
		for _, j := range perm[:b] {
			zb += e[j]
		}
		for _, j := range perm[:b] {
			st.Weights[j] += e[j] / zb / float64(trials)
		}
		logBias += math.Log(zb*float64(n)/float64(b)/z) / float64(trials)
	}
	st.LogZBias = logBias
	for i := range e {
		st.TV += math.Abs(st.Weights[i]-e[i]/z) / 2
	}
	return st, nil
}
