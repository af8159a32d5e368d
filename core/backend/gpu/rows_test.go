package gpu

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRowsParity: gather and scatter copy exactly what their Go twins do (nn.GatherRows,
// nn.ScatterRows), for row widths and counts that do and do not fill whole workgroups, an offset
// destination row and index offset, and a cache of many rows.
func TestRowsParity(t *testing.T) {
	c, g := backends(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name                    string
		rows, n, d, dstRow, off int
	}{
		{"one row", 5, 1, 1, 0, 0},
		{"a batch of embeddings", 300, 32, 64, 64, 64},
		{"odd widths", 97, 13, 7, 3, 5},
		{"more than a workgroup per row", 40, 9, 130, 9, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := randVec(r, tc.rows*tc.d)
			perm := r.Perm(tc.rows)
			idx := make([]uint32, tc.off+tc.n)
			for k := range idx {
				idx[k] = uint32(perm[k%len(perm)])
			}
			sc, sg := pair(c, g, src)
			ic, ig := pairU32(c, g, idx)
			dc, dg := pair(c, g, randVec(r, (tc.dstRow+tc.n+1)*tc.d)) // rows outside the copy keep their values
			c.GatherRows(dc, sc, ic, tc.dstRow, tc.off, tc.n, tc.d)
			g.GatherRows(dg, sg, ig, tc.dstRow, tc.off, tc.n, tc.d)
			require.Equal(t, read(t, c, dc), read(t, g, dg), "gather")

			cache := randVec(r, tc.rows*tc.d)
			cc, cg := pair(c, g, cache)
			c.ScatterRows(cc, dc, ic, tc.n, tc.d)
			g.ScatterRows(cg, dg, ig, tc.n, tc.d)
			got := read(t, g, cg)
			require.Equal(t, read(t, c, cc), got, "scatter")
			require.NotEqual(t, cache, got, "the scatter wrote something")
		})
	}
}
