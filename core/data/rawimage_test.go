package data

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// solidRaw is a w×h raw image of one colour.
func solidRaw(w, h int, r, g, b, a uint8) []byte {
	px := make([]uint8, 0, w*h*4)
	for range w * h {
		px = append(px, r, g, b, a)
	}
	return EncodeRaw(w, h, px)
}

func TestRawImagesThroughOpenFS(t *testing.T) {
	fsys := fstest.MapFS{
		"pics/cats/a.raw":   {Data: solidRaw(4, 4, 200, 10, 10, 255)},
		"pics/cats/b":       {Data: solidRaw(8, 4, 0, 0, 250, 255)}, // no extension: recognised by content
		"pics/dogs/c.raw":   {Data: solidRaw(4, 4, 10, 200, 10, 255)},
		"pics/dogs/bad.raw": {Data: append(solidRaw(4, 4, 1, 2, 3, 255)[:20:20], 0)}, // truncated pixels
		"pics/dogs/big.raw": {Data: EncodeRaw(1<<15, 1, nil)},                        // header out of range
	}
	s, skipped, err := OpenFS(fsys, "pics", Options{Folder: FolderOptions{Size: 4}})
	require.NoError(t, err)
	assert.Equal(t, 3, s.Train.N)
	assert.Equal(t, 3, s.Train.C)
	assert.Equal(t, []string{"cats", "dogs"}, s.Train.Classes)
	assert.Equal(t, []int32{0, 0, 1}, s.Train.Labels)
	assert.Equal(t, []uint8{200, 10, 10}, s.Train.Image(0)[:3], "pixels of an exact-size raw image pass unchanged")
	assert.Equal(t, []uint8{0, 0, 250}, s.Train.Image(1)[:3], "a wider raw image is center-cropped and resized")
	require.Len(t, skipped, 2)
	reasons := map[string]string{}
	for _, k := range skipped {
		reasons[k.Path] = k.Reason
	}
	assert.Contains(t, reasons["pics/dogs/bad.raw"], "truncated")
	assert.Contains(t, reasons["pics/dogs/big.raw"], "out of range")
}

func TestOpenFSPicksReaderByContent(t *testing.T) {
	fsys := fstest.MapFS{ // IDX files at the root, as when loose files are picked in the browser
		"train-images-idx3-ubyte.gz": {Data: gz(t, idxImages(t, 6, 2, 2, ramp(24)))},
		"train-labels-idx1-ubyte":    {Data: idxLabels(t, []int32{0, 1, 0, 1, 0, 1})},
		"t10k-images-idx3-ubyte":     {Data: idxImages(t, 3, 2, 2, ramp(12))},
		"t10k-labels-idx1-ubyte.gz":  {Data: gz(t, idxLabels(t, []int32{1, 0, 1}))},
	}
	s, skipped, err := OpenFS(fsys, ".", Options{})
	require.NoError(t, err)
	assert.Nil(t, skipped)
	assert.Equal(t, "data", s.Train.Name)
	assert.Positive(t, s.Test.N)
}

func TestHoldOut(t *testing.T) {
	mk := func(n int) *Dataset {
		return &Dataset{Name: "x", N: n, H: 1, W: 1, C: 1, Pix: ramp(n), Labels: make([]int32, n)}
	}
	for _, tc := range []struct {
		name           string
		split          Split
		minTrain       int
		held, trainN   int
		wantErr        string
		firstTestPixel uint8
	}{
		{name: "has test", split: Split{Train: mk(20), Test: mk(3)}, minTrain: 4, held: 0, trainN: 20},
		{name: "every tenth", split: Split{Train: mk(20)}, minTrain: 4, held: 2, trainN: 18, firstTestPixel: ramp(20)[9]},
		{name: "at least one", split: Split{Train: mk(5)}, minTrain: 4, held: 1, trainN: 4, firstTestPixel: ramp(5)[4]},
		{name: "too few", split: Split{Train: mk(5)}, minTrain: 5, wantErr: "too few"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.split
			k, err := s.HoldOut(tc.minTrain)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assert.Nil(t, s.Test, "a failed hold-out leaves the split as it was")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.held, k)
			assert.Equal(t, tc.trainN, s.Train.N)
			if k > 0 {
				assert.Equal(t, k, s.Test.N)
				assert.Equal(t, tc.firstTestPixel, s.Test.Pix[0])
			}
		})
	}
}

func TestHead(t *testing.T) {
	d := &Dataset{Name: "x", N: 5, H: 1, W: 1, C: 1, Pix: ramp(5), Labels: []int32{0, 1, 2, 3, 4}}
	for _, tc := range []struct{ n, want int }{{0, 5}, {3, 3}, {5, 5}, {9, 5}} {
		h := d.Head(tc.n)
		assert.Equal(t, tc.want, h.N, "Head(%d)", tc.n)
		assert.Equal(t, d.Pix[:tc.want], h.Pix)
		assert.Equal(t, d.Labels[:tc.want], h.Labels)
	}
}
