package gpu

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBindGroupCacheAfterGC allocates, uses and drops buffers over and over, collecting garbage in
// between, so that new buffer wrappers land at the addresses of collected ones. A bind-group cache
// keyed by those addresses then hands back a group bound to an old buffer, and the kernel writes
// there instead (the outputs read back as zeros).
func TestBindGroupCacheAfterGC(t *testing.T) {
	_, g := backends(t)
	want := make([]float32, 64)
	for i := range want {
		want[i] = float32(i + 1)
	}
	for it := range 200 {
		x, y := g.Alloc(64), g.Alloc(64)
		g.Write(y, want)
		g.Write(x, want)
		sums := g.Alloc(64)
		g.colSums(sums.(*Buf), x.(*Buf), y.(*Buf), 1, 64) // keeps x (y > 0 everywhere): a dispatch through the cache
		g.Write(y, make([]float32, 64))
		g.colSums(sums.(*Buf), x.(*Buf), y.(*Buf), 1, 64) // now zeroes x, if it reaches the right buffers
		require.Equal(t, make([]float32, 64), read(t, g, x), "iteration %d", it)
		runtime.GC()
	}
}
