package data

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stlValue is the test pattern: the value of channel c at row y, column x of image i.
func stlValue(i, c, y, x int) uint8 { return uint8(i*29 + c*67 + y*3 + x*11) }

// stlImages returns an STL-10 image file of n images filled with stlValue, planes column-major.
func stlImages(n int) []byte {
	b := make([]byte, n*stlRecord)
	for i := range n {
		for c := range 3 {
			for x := range stlSide {
				for y := range stlSide {
					b[i*stlRecord+c*stlPlane+x*stlSide+y] = stlValue(i, c, y, x)
				}
			}
		}
	}
	return b
}

func TestReadSTL10ColumnMajor(t *testing.T) {
	raw := stlImages(2)
	// A known pixel: image 1, row 10, column 70, green; column-major means offset x*96 + y.
	want := raw[stlRecord+1*9216+70*96+10]

	d, err := ReadSTL10Images(bytes.NewReader(raw))
	require.NoError(t, err)
	require.NoError(t, d.Validate())
	assert.Equal(t, []int{2, 96, 96, 3}, []int{d.N, d.H, d.W, d.C})
	assert.Nil(t, d.Labels)
	assert.Equal(t, want, d.Image(1)[(10*96+70)*3+1])
	assert.NotEqual(t, want, d.Image(1)[(70*96+10)*3+1], "row and column must not be swapped")

	for i := range d.N {
		for y := range 96 {
			for x := range 96 {
				for c := range 3 {
					require.Equal(t, stlValue(i, c, y, x), d.Image(i)[(y*96+x)*3+c], "image %d y %d x %d c %d", i, y, x, c)
				}
			}
		}
	}
}

func TestReadSTL10Labels(t *testing.T) {
	labels, err := ReadSTL10Labels(bytes.NewReader([]byte{1, 10, 5}))
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 9, 4}, labels)
}

func TestLoadSTL10Dir(t *testing.T) {
	base := fstest.MapFS{
		"stl10_binary/train_X.bin":         {Data: stlImages(2)},
		"stl10_binary/train_y.bin":         {Data: []byte{1, 2}},
		"stl10_binary/test_X.bin":          {Data: stlImages(3)},
		"stl10_binary/test_y.bin":          {Data: []byte{10, 9, 8}},
		"stl10_binary/unlabeled_X.bin":     {Data: stlImages(4)},
		"stl10_binary/class_names.txt":     {Data: []byte("airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n")},
		"unlabeled-only/unlabeled_X.bin":   {Data: stlImages(1)},
		"unlabeled-only/stl10_binary/x.md": {Data: []byte("not used")},
	}
	for _, tc := range []struct {
		name       string
		dir        string
		opt        STL10Options
		wantLabels []int32
		wantTest   int
	}{
		{"labeled", ".", STL10Options{}, []int32{0, 1}, 3},
		{"with unlabeled", ".", STL10Options{Unlabeled: true}, []int32{0, 1, -1, -1, -1, -1}, 3},
		{"unlabeled only", "unlabeled-only", STL10Options{Unlabeled: true}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSTL10Dir(base, tc.dir, tc.opt)
			require.NoError(t, err)
			require.NoError(t, s.Train.Validate())
			assert.Equal(t, stl10Classes, s.Train.Classes)
			assert.Equal(t, tc.wantLabels, s.Train.Labels)
			if tc.wantLabels == nil {
				assert.Equal(t, 1, s.Train.N)
			}
			if tc.wantTest == 0 {
				assert.Nil(t, s.Test)
				return
			}
			require.NotNil(t, s.Test)
			assert.Equal(t, tc.wantTest, s.Test.N)
			assert.Equal(t, []int32{9, 8, 7}, s.Test.Labels)
		})
	}
}
