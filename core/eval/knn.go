package eval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

const (
	// knnBlockRows is the number of test rows handled per work unit.
	knnBlockRows = 16
	// knnTileRows is the number of training rows whose distances are
	// computed together, so a tile stays in cache across a test block.
	knnTileRows = 128
)

// KNN classifies every test row by its k nearest training rows under the
// Euclidean distance (as torch.cdist) and returns the accuracy for each
// requested k.
//
// trainX is a len(trainY)×d and testX a len(testY)×d row-major matrix;
// labels must be non-negative. With k = 1 the prediction is the label of the
// nearest training row; otherwise it is the majority label among the k
// nearest, ties broken by the smallest summed distance among the tied
// labels, then by the smaller label. Equidistant training rows are ranked by
// index (the smaller index is nearer).
//
// Squared distances are computed once for all ks as ||a||²+||b||²−2a·b
// (clamped at zero) with a blocked, cache-tiled product in float64,
// parallelised over test rows. Each k must lie in [1, len(trainY)];
// duplicated ks are allowed.
func KNN(trainX []float32, trainY []int32, testX []float32, testY []int32, d int, ks ...int) (map[int]float64, error) {
	uniq, preds, err := knnPredict(trainX, trainY, testX, testY, d, ks)
	if err != nil {
		return nil, err
	}
	out := make(map[int]float64, len(uniq))
	for ki, k := range uniq {
		correct := 0
		for i, p := range preds[ki] {
			if p == testY[i] {
				correct++
			}
		}
		out[k] = float64(correct) / float64(len(testY))
	}
	return out, nil
}

// knnPredict validates the inputs and returns the sorted distinct ks and,
// for each of them, the predicted label of every test row.
func knnPredict(trainX []float32, trainY []int32, testX []float32, testY []int32, d int, ks []int) ([]int, [][]int32, error) {
	nTrain, nTest := len(trainY), len(testY)
	if nTrain == 0 {
		return nil, nil, errors.New("eval: knn: empty training set")
	}
	if nTest == 0 {
		return nil, nil, errors.New("eval: knn: empty test set")
	}
	if err := checkMatrix("knn train features", trainX, nTrain, d); err != nil {
		return nil, nil, err
	}
	if err := checkMatrix("knn test features", testX, nTest, d); err != nil {
		return nil, nil, err
	}
	if len(ks) == 0 {
		return nil, nil, errors.New("eval: knn: no k given")
	}
	for _, k := range ks {
		if k < 1 || k > nTrain {
			return nil, nil, fmt.Errorf("eval: knn: k=%d outside [1, %d] (training rows)", k, nTrain)
		}
	}
	if err := checkNonNegative("knn train labels", trainY); err != nil {
		return nil, nil, err
	}
	if err := checkNonNegative("knn test labels", testY); err != nil {
		return nil, nil, err
	}
	if err := checkFinite("knn train features", trainX); err != nil {
		return nil, nil, err
	}
	if err := checkFinite("knn test features", testX); err != nil {
		return nil, nil, err
	}
	uniq := slices.Clone(ks)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	maxK := uniq[len(uniq)-1]

	// Dense label ids, ordered like the labels themselves.
	labels := slices.Clone(trainY)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	ids := make([]int32, nTrain)
	for i, y := range trainY {
		j, _ := slices.BinarySearch(labels, y)
		ids[i] = int32(j)
	}

	tr, te := toFloat64(trainX), toFloat64(testX)
	trNorm, teNorm := rowNorms2(tr, d), rowNorms2(te, d)
	preds := make([][]int32, len(uniq))
	for i := range preds {
		preds[i] = make([]int32, nTest)
	}

	blocks := (nTest + knnBlockRows - 1) / knnBlockRows
	scratch := make([]*knnScratch, numWorkers(blocks))
	parallelFor(blocks, func(w, b int) {
		if scratch[w] == nil {
			scratch[w] = newKNNScratch(nTrain, maxK, len(labels))
		}
		sc := scratch[w]
		lo := b * knnBlockRows
		hi := min(lo+knnBlockRows, nTest)
		blockDistances(te, teNorm, tr, trNorm, d, lo, hi, sc.dist)
		for r := 0; r < hi-lo; r++ {
			nb := sc.nearest(sc.dist[r*nTrain:(r+1)*nTrain], maxK)
			sc.vote(nb, ids, uniq, func(ki int, id int32) {
				preds[ki][lo+r] = labels[id]
			})
		}
	})
	return uniq, preds, nil
}

// rowNorms2 returns the squared Euclidean norm of every d-dimensional row.
func rowNorms2(x []float64, d int) []float64 {
	out := make([]float64, len(x)/d)
	for i := range out {
		row := x[i*d : (i+1)*d]
		out[i] = dot(row, row)
	}
	return out
}

// blockDistances writes the squared distances between test rows lo..hi-1
// and every training row into dist (row-major, (hi-lo)×nTrain).
func blockDistances(te, teNorm, tr, trNorm []float64, d, lo, hi int, dist []float64) {
	nTrain := len(trNorm)
	for t0 := 0; t0 < nTrain; t0 += knnTileRows {
		t1 := min(t0+knnTileRows, nTrain)
		r := lo
		for ; r+4 <= hi; r += 4 {
			a0 := te[r*d : (r+1)*d]
			a1 := te[(r+1)*d : (r+2)*d]
			a2 := te[(r+2)*d : (r+3)*d]
			a3 := te[(r+3)*d : (r+4)*d]
			n0, n1, n2, n3 := teNorm[r], teNorm[r+1], teNorm[r+2], teNorm[r+3]
			d0 := dist[(r-lo)*nTrain : (r-lo+1)*nTrain]
			d1 := dist[(r-lo+1)*nTrain : (r-lo+2)*nTrain]
			d2 := dist[(r-lo+2)*nTrain : (r-lo+3)*nTrain]
			d3 := dist[(r-lo+3)*nTrain : (r-lo+4)*nTrain]
			distTile4(a0, a1, a2, a3, n0, n1, n2, n3, tr, trNorm, d, t0, t1, d0, d1, d2, d3)
		}
		for ; r < hi; r++ {
			a := te[r*d : (r+1)*d]
			dr := dist[(r-lo)*nTrain : (r-lo+1)*nTrain]
			for j := t0; j < t1; j++ {
				dr[j] = clampNonNeg(teNorm[r] + trNorm[j] - 2*dot(a, tr[j*d:(j+1)*d]))
			}
		}
	}
}

// neighbour is a training row index with its squared distance.
type neighbour struct {
	dist float64
	idx  int
}

// farther reports whether a ranks after b: larger distance, or equal
// distance and larger index.
func farther(a, b neighbour) bool {
	return a.dist > b.dist || (a.dist == b.dist && a.idx > b.idx)
}

// knnScratch is per-goroutine working memory for KNN.
type knnScratch struct {
	dist    []float64
	heap    []neighbour
	counts  []int
	sums    []float64
	touched []int32
}

func newKNNScratch(nTrain, maxK, nLabels int) *knnScratch {
	return &knnScratch{
		dist:    make([]float64, knnBlockRows*nTrain),
		heap:    make([]neighbour, 0, maxK),
		counts:  make([]int, nLabels),
		sums:    make([]float64, nLabels),
		touched: make([]int32, 0, maxK),
	}
}

// nearest returns the k nearest training rows for one row of squared
// distances, sorted nearest first (ties by index). It uses a bounded
// max-heap, so it costs O(n log k).
func (s *knnScratch) nearest(dist []float64, k int) []neighbour {
	h := s.heap[:0]
	for j, dj := range dist {
		c := neighbour{dist: dj, idx: j}
		if len(h) < k {
			h = append(h, c)
			// sift up
			i := len(h) - 1
			for i > 0 {
				p := (i - 1) / 2
				if !farther(h[i], h[p]) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if !farther(h[0], c) {
			continue
		}
		h[0] = c
		// sift down
		i := 0
		for {
			l := 2*i + 1
			if l >= len(h) {
				break
			}
			m := l
			if r := l + 1; r < len(h) && farther(h[r], h[l]) {
				m = r
			}
			if !farther(h[m], h[i]) {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	slices.SortFunc(h, func(a, b neighbour) int {
		if c := cmp.Compare(a.dist, b.dist); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	s.heap = h
	return h
}

// vote walks the sorted neighbours and, for each k in the ascending list ks,
// reports (via emit) the winning dense label id among the first k: the most
// frequent, then the smallest summed Euclidean distance, then the smallest
// id.
func (s *knnScratch) vote(nb []neighbour, ids []int32, ks []int, emit func(ki int, id int32)) {
	s.touched = s.touched[:0]
	next := 0
	for ki, k := range ks {
		for ; next < k; next++ {
			id := ids[nb[next].idx]
			if s.counts[id] == 0 {
				s.touched = append(s.touched, id)
			}
			s.counts[id]++
			s.sums[id] += math.Sqrt(nb[next].dist)
		}
		best := s.touched[0]
		for _, id := range s.touched[1:] {
			cb, ci := s.counts[best], s.counts[id]
			switch {
			case ci > cb:
				best = id
			case ci == cb && (s.sums[id] < s.sums[best] || (s.sums[id] == s.sums[best] && id < best)):
				best = id
			}
		}
		emit(ki, best)
	}
	for _, id := range s.touched {
		s.counts[id] = 0
		s.sums[id] = 0
	}
}

// distTile4 writes the squared distances between four test rows (a0..a3,
// squared norms n0..n3) and training rows t0..t1-1 into d0..d3.
func distTile4(a0, a1, a2, a3 []float64, n0, n1, n2, n3 float64, tr, trNorm []float64, d, t0, t1 int, d0, d1, d2, d3 []float64) {
	for j := t0; j < t1; j++ {
		s0, s1, s2, s3 := dot4(a0, a1, a2, a3, tr[j*d:(j+1)*d])
		nj := trNorm[j]
		d0[j] = clampNonNeg(n0 + nj - 2*s0)
		d1[j] = clampNonNeg(n1 + nj - 2*s1)
		d2[j] = clampNonNeg(n2 + nj - 2*s2)
		d3[j] = clampNonNeg(n3 + nj - 2*s3)
	}
}
