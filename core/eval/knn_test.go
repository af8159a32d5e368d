package eval

import (
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKNNHandMade(t *testing.T) {
	// One-dimensional points, so distances are easy to check by hand.
	trainX := []float32{0, 1, 3, 10, 11, 12}
	trainY := []int32{0, 1, 2, 1, 1, 0}
	tests := []struct {
		name   string
		q      float32
		y      int32
		want1  int32 // 1-NN prediction
		want3  int32 // 3-NN prediction
		reason string
	}{
		{name: "three-way tie resolved by distance", q: 0.2, y: 0, want1: 0, want3: 0,
			reason: "3-NN labels 0,1,2 once each; label 0 has the smallest summed distance"},
		{name: "clear majority", q: 10.9, y: 1, want1: 1, want3: 1,
			reason: "neighbours 11 (1), 10 (1), 12 (0)"},
		{name: "exact distance and sum ties", q: 2, y: 2, want1: 1, want3: 1,
			reason: "1 and 3 are both at distance 1: the smaller index wins 1-NN; 3-NN sums tie 1 vs 1, the smaller label wins"},
		{name: "majority overrides nearest", q: 11.6, y: 0, want1: 0, want3: 1,
			reason: "nearest is 12 (0) but 11 and 10 are both label 1"},
	}
	testX := make([]float32, len(tests))
	testY := make([]int32, len(tests))
	for i, tc := range tests {
		testX[i], testY[i] = tc.q, tc.y
	}
	ks, preds, err := knnPredict(trainX, trainY, testX, testY, 1, []int{3, 1, 3})
	require.NoError(t, err)
	require.Equal(t, []int{1, 3}, ks)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want1, preds[0][i], "k=1: %s", tc.reason)
			assert.Equal(t, tc.want3, preds[1][i], "k=3: %s", tc.reason)
		})
	}

	acc, err := KNN(trainX, trainY, testX, testY, 1, 1, 3)
	require.NoError(t, err)
	assert.Equal(t, map[int]float64{1: 0.75, 3: 0.5}, acc)
}

func TestKNNTieBreaks(t *testing.T) {
	tests := []struct {
		name   string
		trainX []float32
		trainY []int32
		q      []float32
		ks     []int
		want   []int32 // prediction for each k in ascending order
	}{
		{
			name:   "2-2 count tie goes to smaller summed distance",
			trainX: []float32{1, 4, -2, 2.5, 100},
			trainY: []int32{1, 1, 0, 0, 2},
			q:      []float32{0},
			ks:     []int{1, 3, 4},
			// distances 1 (1), 2 (0), 2.5 (0), 4 (1): sums 5 vs 4.5
			want: []int32{1, 0, 0},
		},
		{
			name:   "2-2 count and sum tie goes to smaller label",
			trainX: []float32{1, 3, -2, -2, 50},
			trainY: []int32{5, 5, 4, 4, 9},
			q:      []float32{0},
			ks:     []int{4},
			// distances 1 (5), 3 (5), 2 (4), 2 (4): sums 4 vs 4
			want: []int32{4},
		},
		{
			name:   "equidistant rows ranked by index",
			trainX: []float32{-1, 1, -1, 1},
			trainY: []int32{3, 2, 2, 3},
			q:      []float32{0},
			ks:     []int{1, 2},
			// all at distance 1: 1-NN is index 0 (3); 2-NN labels 3,2 tie on
			// count and sum, so label 2 wins.
			want: []int32{3, 2},
		},
		{
			name:   "non-contiguous labels",
			trainX: []float32{0, 0.5, 10},
			trainY: []int32{1000, 1000, 7},
			q:      []float32{9},
			ks:     []int{1, 3},
			want:   []int32{7, 1000},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testY := make([]int32, len(tc.q))
			ks, preds, err := knnPredict(tc.trainX, tc.trainY, tc.q, testY, 1, tc.ks)
			require.NoError(t, err)
			require.Len(t, ks, len(tc.want))
			for ki := range ks {
				assert.Equal(t, tc.want[ki], preds[ki][0], "k=%d", ks[ki])
			}
		})
	}
}

// naiveKNN is an independent reference: direct Euclidean distances, a full
// stable sort, and an explicit majority vote.
func naiveKNN(trainX []float32, trainY []int32, q []float32, d, k int) int32 {
	n := len(trainY)
	idx := make([]int, n)
	dist := make([]float64, n)
	for j := 0; j < n; j++ {
		idx[j] = j
		var s float64
		for c := 0; c < d; c++ {
			diff := float64(q[c]) - float64(trainX[j*d+c])
			s += diff * diff
		}
		dist[j] = math.Sqrt(s)
	}
	sort.SliceStable(idx, func(a, b int) bool { return dist[idx[a]] < dist[idx[b]] })
	count := map[int32]int{}
	sum := map[int32]float64{}
	for _, j := range idx[:k] {
		count[trainY[j]]++
		sum[trainY[j]] += dist[j]
	}
	best := int32(-1)
	for l := range count {
		switch {
		case best < 0, count[l] > count[best]:
			best = l
		case count[l] == count[best] && (sum[l] < sum[best] || (sum[l] == sum[best] && l < best)):
			best = l
		}
	}
	return best
}

func TestKNNMatchesNaive(t *testing.T) {
	r := newRand(11)
	const nTrain, nTest, d = 150, 37, 6
	trainX := randomMatrix(r, nTrain, d)
	testX := randomMatrix(r, nTest, d)
	trainY := make([]int32, nTrain)
	testY := make([]int32, nTest)
	for i := range trainY {
		trainY[i] = int32(r.IntN(4))
	}
	for i := range testY {
		testY[i] = int32(r.IntN(4))
	}
	ksIn := []int{1, 2, 5, 10, nTrain}
	ks, preds, err := knnPredict(trainX, trainY, testX, testY, d, ksIn)
	require.NoError(t, err)
	require.Equal(t, ksIn, ks)
	acc, err := KNN(trainX, trainY, testX, testY, d, ksIn...)
	require.NoError(t, err)
	for ki, k := range ks {
		correct := 0
		for i := 0; i < nTest; i++ {
			want := naiveKNN(trainX, trainY, testX[i*d:(i+1)*d], d, k)
			assert.Equal(t, want, preds[ki][i], "k=%d row %d", k, i)
			if want == testY[i] {
				correct++
			}
		}
		assert.InDelta(t, float64(correct)/nTest, acc[k], 1e-12, "k=%d", k)
	}
	assert.Len(t, acc, len(ksIn))
}

func TestKNNTrainOnTrainIsPerfectFor1NN(t *testing.T) {
	r := newRand(12)
	x, y := gaussianBlobs(r, 97, 5, 3, 1, 1)
	acc, err := KNN(x, y, x, y, 5, 1)
	require.NoError(t, err)
	assert.Equal(t, 1.0, acc[1])
}

func TestKNNErrors(t *testing.T) {
	x := []float32{0, 1, 2, 3} // 2×2
	y := []int32{0, 1}
	nan := float32(math.NaN())
	tests := []struct {
		name     string
		trX, teX []float32
		trY, teY []int32
		d        int
		ks       []int
		wantErr  string
	}{
		{name: "zero dimension", trX: x, trY: y, teX: x, teY: y, d: 0, ks: []int{1}, wantErr: "dimension"},
		{name: "empty train", trX: nil, trY: nil, teX: x, teY: y, d: 2, ks: []int{1}, wantErr: "empty training set"},
		{name: "empty test", trX: x, trY: y, teX: nil, teY: nil, d: 2, ks: []int{1}, wantErr: "empty test set"},
		{name: "train shape", trX: x[:3], trY: y, teX: x, teY: y, d: 2, ks: []int{1}, wantErr: "train features"},
		{name: "test shape", trX: x, trY: y, teX: x, teY: []int32{0}, d: 2, ks: []int{1}, wantErr: "test features"},
		{name: "no k", trX: x, trY: y, teX: x, teY: y, d: 2, ks: nil, wantErr: "no k"},
		{name: "k zero", trX: x, trY: y, teX: x, teY: y, d: 2, ks: []int{0}, wantErr: "k=0"},
		{name: "k too large", trX: x, trY: y, teX: x, teY: y, d: 2, ks: []int{1, 3}, wantErr: "k=3"},
		{name: "negative train label", trX: x, trY: []int32{-1, 0}, teX: x, teY: y, d: 2, ks: []int{1}, wantErr: "train labels"},
		{name: "negative test label", trX: x, trY: y, teX: x, teY: []int32{0, -4}, d: 2, ks: []int{1}, wantErr: "test labels"},
		{name: "non-finite", trX: []float32{0, nan, 2, 3}, trY: y, teX: x, teY: y, d: 2, ks: []int{1}, wantErr: "non-finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := KNN(tc.trX, tc.trY, tc.teX, tc.teY, tc.d, tc.ks...)
			require.Error(t, err)
			assert.Nil(t, acc)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "eval: knn")
		})
	}
}
