package data

import (
	"bytes"
	"runtime"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIDXRoundTrip(t *testing.T) {
	const n, h, w = 5, 3, 4
	pix := ramp(n * h * w)
	labels := []int32{0, 9, 3, 255, 1}
	for _, tc := range []struct {
		name string
		wrap func([]byte) []byte
	}{
		{"raw", func(b []byte) []byte { return b }},
		{"gzip", func(b []byte) []byte { return gz(t, b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gn, gh, gw, gpix, err := ReadIDXImages(bytes.NewReader(tc.wrap(idxImages(t, n, h, w, pix))))
			require.NoError(t, err)
			assert.Equal(t, []int{n, h, w}, []int{gn, gh, gw})
			assert.Equal(t, pix, gpix)

			glabels, err := ReadIDXLabels(bytes.NewReader(tc.wrap(idxLabels(t, labels))))
			require.NoError(t, err)
			assert.Equal(t, labels, glabels)
		})
	}
}

func TestWriteIDXRejectsBadInput(t *testing.T) {
	var b bytes.Buffer
	assert.ErrorContains(t, WriteIDXImages(&b, 2, 2, 2, make([]uint8, 7)), "7 pixel bytes")
	assert.ErrorContains(t, WriteIDXImages(&b, 1, 0, 2, nil), "bad shape")
	assert.ErrorContains(t, WriteIDXLabels(&b, []int32{1, 256}), "label 256 at index 1")
}

func TestLoadIDXDir(t *testing.T) {
	train := ramp(6 * 2 * 2)
	test := ramp(3 * 2 * 2)
	for _, tc := range []struct {
		name     string
		fsys     fstest.MapFS
		dir      string
		wantTest bool
	}{
		{"gzip with test", fstest.MapFS{
			"mn/train-images-idx3-ubyte.gz": {Data: gz(t, idxImages(t, 6, 2, 2, train))},
			"mn/train-labels-idx1-ubyte.gz": {Data: gz(t, idxLabels(t, []int32{0, 1, 2, 0, 1, 2}))},
			"mn/t10k-images-idx3-ubyte.gz":  {Data: gz(t, idxImages(t, 3, 2, 2, test))},
			"mn/t10k-labels-idx1-ubyte.gz":  {Data: gz(t, idxLabels(t, []int32{2, 1, 0}))},
		}, "mn", true},
		{"raw without test", fstest.MapFS{
			"train-images-idx3-ubyte": {Data: idxImages(t, 6, 2, 2, train)},
			"train-labels-idx1-ubyte": {Data: idxLabels(t, []int32{0, 1, 2, 0, 1, 2})},
		}, ".", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadIDXDir(tc.fsys, tc.dir, "tiny")
			require.NoError(t, err)
			require.NoError(t, s.Train.Validate())
			assert.Equal(t, "tiny", s.Train.Name)
			assert.Equal(t, []int{6, 2, 2, 1}, []int{s.Train.N, s.Train.H, s.Train.W, s.Train.C})
			assert.Equal(t, train, s.Train.Pix)
			assert.Equal(t, []int32{0, 1, 2, 0, 1, 2}, s.Train.Labels)
			if !tc.wantTest {
				assert.Nil(t, s.Test)
				return
			}
			require.NotNil(t, s.Test)
			require.NoError(t, s.Test.Validate())
			assert.Equal(t, test, s.Test.Pix)
			assert.Equal(t, []int32{2, 1, 0}, s.Test.Labels)
		})
	}
}

// A header that announces 1.5 GB of pixels over a short stream must fail as truncated without
// allocating anything near the announced size.
func TestReadIDXImagesHugeHeaderDoesNotAllocate(t *testing.T) {
	data := append(idxHeader(idxImagesMagic, 2_000_000, 28, 28), make([]byte, 5000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, _, _, err := ReadIDXImages(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	require.ErrorContains(t, err, "truncated: want 1568000000 bytes, got 5000")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "bytes allocated")
}
