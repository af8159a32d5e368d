package teach

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/rng"
)

// Gallery is part 1's pool of real images: the first PerClass images of each class of a labelled
// dataset (the embedded Fashion-MNIST test split on the page), with their embeddings under a
// trained encoder (identity views: the whole image, unaugmented).
type Gallery struct {
	Enc     *Encoder
	Data    *data.Dataset // the pool, in class order
	Source  []int         // each pool image's index in the dataset it came from
	Emb     []float32     // Data.N × Enc.Arch.Proj
	Classes []string
}

// NewGallery picks the pool from ds and embeds it.
func NewGallery(enc *Encoder, ds *data.Dataset, perClass int) (*Gallery, error) {
	if !ds.Labeled() {
		return nil, errors.New("gallery: the dataset has no labels")
	}
	if ds.H != enc.Arch.InH || ds.W != enc.Arch.InW || ds.C != enc.Arch.InC {
		return nil, fmt.Errorf("gallery: images are %dx%dx%d, the encoder takes %dx%dx%d", ds.H, ds.W, ds.C, enc.Arch.InH, enc.Arch.InW, enc.Arch.InC)
	}
	if perClass < 1 {
		return nil, fmt.Errorf("gallery: %d images per class", perClass)
	}
	var idx []int
	for c := 0; c < ds.NumClasses(); c++ {
		n := 0
		for i, l := range ds.Labels {
			if int(l) == c && n < perClass {
				idx, n = append(idx, i), n+1
			}
		}
	}
	g := &Gallery{Enc: enc, Data: ds.Subset(idx), Source: idx, Classes: ds.Classes}
	in := ds.ImageSize()
	x := make([]float32, 0, len(idx)*in)
	for i := range g.Data.N {
		x = append(x, View(g.Data.Image(i), ds.H, ds.W, ds.C, augment.Config{}, rng.Key{}, 0, 0)...)
	}
	var err error
	if g.Emb, err = enc.Embed(x, g.Data.N); err != nil {
		return nil, fmt.Errorf("gallery: %w", err)
	}
	return g, nil
}

func (g *Gallery) sim(a []float32, j int) float32 {
	d := g.Enc.Arch.Proj
	var s float32
	for k, v := range a {
		s += v * g.Emb[j*d+k]
	}
	return s
}

// Thumb is one image of part 1 with its similarity to the anchor.
type Thumb struct {
	Index  int     `json:"index"`  // position in the pool (−1 for an augmented view)
	Source int     `json:"source"` // index in the dataset (the embedded test split)
	Label  int     `json:"label"`
	Class  string  `json:"class"`
	Pixels []byte  `json:"pixels"` // H×W×C uint8 (base64 in JSON)
	Sim    float32 `json:"sim"`    // cosine similarity to the anchor's embedding
	Weight float64 `json:"weight"` // its weight in softmax(β·sim) over every negative of the pool
}

// NegativesView is everything part 1 shows for one anchor.
type NegativesView struct {
	H, W, C  int     `json:"-"`
	Size     int     `json:"size"` // image side
	Beta     float64 `json:"beta"`
	Pool     int     `json:"pool"` // images in the pool (the anchor's negatives are the other classes… and its own)
	Anchor   Thumb   `json:"anchor"`
	Views    []Thumb `json:"views"`    // two augmentations of the anchor (similarity: to the anchor)
	Positive float32 `json:"positive"` // similarity of the two views to each other
	Random   []Thumb `json:"random"`   // uniformly random other images (same class ones marked by the label)
	Hard     []Thumb `json:"hard"`     // the most similar images of other classes
	// Sims and Same are every other pool image's similarity to the anchor and whether it shares the
	// anchor's class (a "false negative": contrastive learning pushes it away all the same).
	Sims []float32 `json:"sims"`
	Same []bool    `json:"same"`
	// HardMass is the share of softmax(β·sim) on the len(Hard) hardest negatives; EffectiveN is
	// 1/Σp², how many negatives effectively carry the loss's negative term.
	HardMass   float64        `json:"hard_mass"`
	EffectiveN float64        `json:"effective_n"`
	Batches    []InBatchStats `json:"batches"` // SimCLR's in-batch estimate at several B (weights left out)
}

// Negatives shows anchor a of the pool (its views drawn with seed) with k random and k hard
// negatives at inverse temperature beta, and the in-batch softmax's bias at each of batchSizes.
func (g *Gallery) Negatives(a, k int, seed uint64, beta float64, batchSizes []int, trials int) (*NegativesView, error) {
	n := g.Data.N
	if a < 0 || a >= n {
		return nil, fmt.Errorf("negatives: anchor %d outside the pool of %d", a, n)
	}
	if k < 1 || k >= n/2 {
		return nil, fmt.Errorf("negatives: %d negatives of each kind from a pool of %d", k, n)
	}
	if !(beta >= 0) || beta > MaxBeta {
		return nil, fmt.Errorf("negatives: β = %v: want 0 ≤ β ≤ %d", beta, MaxBeta)
	}
	d := g.Data
	key := rng.NewKey(seed)
	anchorEmb := g.Emb[a*g.Enc.Arch.Proj : (a+1)*g.Enc.Arch.Proj]
	thumb := func(j int) Thumb {
		l := int(d.Labels[j])
		return Thumb{Index: j, Source: g.Source[j], Label: l, Class: g.className(l), Pixels: d.Image(j), Sim: g.sim(anchorEmb, j)}
	}
	v := &NegativesView{H: d.H, W: d.W, C: d.C, Size: d.W, Beta: beta, Pool: n, Anchor: thumb(a)}
	v.Anchor.Sim = 1

	// two augmentations of the anchor, by the augment code and config the encoder was trained with
	x := make([]float32, 0, 2*d.ImageSize())
	for row := uint32(0); row < 2; row++ {
		x = append(x, View(d.Image(a), d.H, d.W, d.C, g.Enc.Aug, key, 0, uint32(a)*2+row)...)
	}
	emb, err := g.Enc.Embed(x, 2)
	if err != nil {
		return nil, fmt.Errorf("negatives: %w", err)
	}
	P := g.Enc.Arch.Proj
	for r := 0; r < 2; r++ {
		t := v.Anchor
		t.Index, t.Pixels = -1, toBytes(x[r*d.ImageSize():(r+1)*d.ImageSize()])
		t.Sim = dot(emb[r*P:(r+1)*P], anchorEmb)
		v.Views = append(v.Views, t)
	}
	v.Positive = dot(emb[:P], emb[P:])

	// every other pool image is a negative; its weight in softmax(β·sim)
	others := make([]int, 0, n-1)
	logp := make([]float32, 0, n-1)
	for j := 0; j < n; j++ {
		if j != a {
			others = append(others, j)
			s := g.sim(anchorEmb, j)
			v.Sims, v.Same = append(v.Sims, s), append(v.Same, d.Labels[j] == d.Labels[a])
			logp = append(logp, float32(beta)*s)
		}
	}
	p := Softmax(logp)
	weight := func(t Thumb) Thumb {
		i, _ := slices.BinarySearch(others, t.Index)
		t.Weight = p[i]
		return t
	}
	for _, q := range p {
		v.EffectiveN += q * q
	}
	v.EffectiveN = 1 / v.EffectiveN

	perm := key.Perm(streamPick, uint32(a), len(others))
	for _, i := range perm[:k] {
		v.Random = append(v.Random, weight(thumb(others[i])))
	}
	order := make([]int, len(others))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmpDesc(v.Sims[x], v.Sims[y]) })
	for _, i := range order {
		if len(v.Hard) == k {
			break
		}
		if !v.Same[i] {
			t := weight(thumb(others[i]))
			v.Hard = append(v.Hard, t)
			v.HardMass += t.Weight
		}
	}
	for _, b := range batchSizes {
		if b > len(logp) {
			continue
		}
		st, err := InBatch(logp, b, trials, key)
		if err != nil {
			return nil, fmt.Errorf("negatives: %w", err)
		}
		st.Weights = nil
		v.Batches = append(v.Batches, st)
	}
	return v, nil
}

func (g *Gallery) className(l int) string {
	if l >= 0 && l < len(g.Classes) {
		return g.Classes[l]
	}
	return fmt.Sprint(l)
}

func cmpDesc(a, b float32) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func dot(a, b []float32) float32 {
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// toBytes maps [0, 1] floats to bytes for display.
func toBytes(x []float32) []byte {
	out := make([]byte, len(x))
	for i, v := range x {
		out[i] = uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
	}
	return out
}
