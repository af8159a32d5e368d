package data

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cifarValue is the test pattern: the value of channel c at row y, column x of image i.
func cifarValue(i, c, y, x int) uint8 { return uint8(i*17 + c*71 + y*5 + x*3) }

// cifarBatch returns a CIFAR-10 batch of images with the given labels, filled with cifarValue.
func cifarBatch(labels ...uint8) []byte {
	var b []byte
	for i, l := range labels {
		rec := make([]byte, cifarRecord)
		rec[0] = l
		for c := range 3 {
			for y := range cifarSide {
				for x := range cifarSide {
					rec[1+c*cifarPlane+y*cifarSide+x] = cifarValue(i, c, y, x)
				}
			}
		}
		b = append(b, rec...)
	}
	return b
}

func TestReadCIFAR10PlanesToNHWC(t *testing.T) {
	batch := cifarBatch(3, 9)
	// A known pixel: image 1, row 2, column 5; red, green and blue taken from their planes.
	rec := batch[cifarRecord:]
	want := []uint8{rec[1+0*1024+2*32+5], rec[1+1*1024+2*32+5], rec[1+2*1024+2*32+5]}

	d, err := ReadCIFAR10(bytes.NewReader(batch))
	require.NoError(t, err)
	require.NoError(t, d.Validate())
	assert.Equal(t, []int{2, 32, 32, 3}, []int{d.N, d.H, d.W, d.C})
	assert.Equal(t, []int32{3, 9}, d.Labels)
	assert.Equal(t, cifar10Classes, d.Classes)
	got := d.Image(1)[(2*32+5)*3:][:3]
	assert.Equal(t, want, got)

	for i := range d.N {
		for y := range 32 {
			for x := range 32 {
				for c := range 3 {
					require.Equal(t, cifarValue(i, c, y, x), d.Image(i)[(y*32+x)*3+c], "image %d y %d x %d c %d", i, y, x, c)
				}
			}
		}
	}
}

func TestLoadCIFAR10Dir(t *testing.T) {
	meta := []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")
	for _, tc := range []struct {
		name        string
		fsys        fstest.MapFS
		wantTrain   int
		wantTest    int
		wantClasses []string
	}{
		{"flat, five batches, test", fstest.MapFS{
			"data_batch_1.bin": {Data: cifarBatch(0, 1)},
			"data_batch_2.bin": {Data: cifarBatch(2)},
			"data_batch_3.bin": {Data: cifarBatch(3)},
			"data_batch_4.bin": {Data: cifarBatch(4)},
			"data_batch_5.bin": {Data: cifarBatch(5, 6)},
			"test_batch.bin":   {Data: cifarBatch(7, 8, 9)},
		}, 7, 3, cifar10Classes},
		{"sub-folder with meta, no test", fstest.MapFS{
			"cifar-10-batches-bin/data_batch_1.bin": {Data: cifarBatch(0, 1, 2)},
			"cifar-10-batches-bin/batches.meta.txt": {Data: meta},
		}, 3, 0, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadCIFAR10Dir(tc.fsys, ".")
			require.NoError(t, err)
			require.NoError(t, s.Train.Validate())
			assert.Equal(t, tc.wantTrain, s.Train.N)
			assert.Equal(t, tc.wantClasses, s.Train.Classes)
			if tc.wantTest == 0 {
				assert.Nil(t, s.Test)
				return
			}
			require.NotNil(t, s.Test)
			require.NoError(t, s.Test.Validate())
			assert.Equal(t, tc.wantTest, s.Test.N)
			assert.Equal(t, []int32{7, 8, 9}, s.Test.Labels)
		})
	}
}

func TestLoadCIFAR10DirKeepsBatchOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"data_batch_1.bin": {Data: cifarBatch(4, 5)},
		"data_batch_2.bin": {Data: cifarBatch(6)},
	}
	s, err := LoadCIFAR10Dir(fsys, ".")
	require.NoError(t, err)
	assert.Equal(t, []int32{4, 5, 6}, s.Train.Labels)
	// The third image is the first of batch 2, so it carries pattern index 0.
	assert.Equal(t, cifarValue(0, 2, 31, 31), s.Train.Image(2)[(31*32+31)*3+2])
}
