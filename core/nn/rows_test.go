package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGatherScatterRows(t *testing.T) {
	src := []float32{0, 1, 10, 11, 20, 21, 30, 31} // 4 rows of 2
	for _, tc := range []struct {
		name                string
		idx                 []uint32
		dstRow, idxOff, n   int
		wantGather, wantSct []float32
	}{
		{"all, reversed", []uint32{3, 2, 1, 0}, 0, 0, 4,
			[]float32{30, 31, 20, 21, 10, 11, 0, 1}, []float32{30, 31, 20, 21, 10, 11, 0, 1}},
		{"offsets", []uint32{9, 2, 0}, 1, 1, 2,
			[]float32{-1, -1, 20, 21, 0, 1, -1, -1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []float32{-1, -1, -1, -1, -1, -1, -1, -1}
			GatherRows(dst, src, tc.idx, tc.dstRow, tc.idxOff, tc.n, 2)
			assert.Equal(t, tc.wantGather, dst)
			if tc.wantSct != nil {
				out := make([]float32, len(src))
				ScatterRows(out, src, tc.idx, tc.n, 2)
				assert.Equal(t, tc.wantSct, out)
			}
		})
	}
}
