package gpu

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/stretchr/testify/require"
)

var (
	shared     *Backend
	sharedErr  error
	sharedOnce sync.Once
)

// backends returns the CPU reference and the GPU backend (one device for the whole test binary).
// Without an adapter the test is skipped with a loud line — or fails under CI=true, where the GPU
// suite must run (lavapipe from mesa-vulkan-drivers).
func backends(t *testing.T) (*cpu.Backend, *Backend) {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New() })
	if sharedErr != nil {
		if errors.Is(sharedErr, ErrNoAdapter) && os.Getenv("CI") != "true" {
			t.Skipf("SKIPPED GPU parity: %v (install mesa-vulkan-drivers for lavapipe)", sharedErr)
		}
		require.NoError(t, sharedErr, "GPU backend")
	}
	return cpu.New(), shared
}

// bothKernels runs f once with each version of the matrix-product and convolution kernels
// (register-blocked and tiled, SetTiled), so that both are checked on every adapter whichever the
// backend would choose, and restores the choice after.
func bothKernels(t *testing.T, g *Backend, f func(t *testing.T)) {
	defer g.SetTiled(g.Tiled())
	for _, tiled := range []bool{false, true} {
		name := "register"
		if tiled {
			name = "tiled"
		}
		t.Run(name, func(t *testing.T) {
			g.SetTiled(tiled)
			f(t)
		})
	}
}

// pair allocates the same float32 data on both backends.
func pair(c *cpu.Backend, g *Backend, v []float32) (backend.Buf, backend.Buf) {
	a, b := c.Alloc(len(v)), g.Alloc(len(v))
	c.Write(a, v)
	g.Write(b, v)
	return a, b
}

// pairU32 allocates the same uint32 data on both backends.
func pairU32(c *cpu.Backend, g *Backend, v []uint32) (backend.Buf, backend.Buf) {
	a, b := c.AllocU32(len(v)), g.AllocU32(len(v))
	c.WriteU32(a, v)
	g.WriteU32(b, v)
	return a, b
}

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// read returns a buffer's float32 contents from either backend.
func read(t *testing.T, be backend.Backend, b backend.Buf) []float32 {
	t.Helper()
	out := make([]float32, b.Len())
	require.NoError(t, be.Read(b, out))
	return out
}

func readU32(t *testing.T, be backend.Backend, b backend.Buf) []uint32 {
	t.Helper()
	out := make([]uint32, b.Len())
	require.NoError(t, be.ReadU32(b, out))
	return out
}

// relL2 is ‖got − want‖ / ‖want‖, the tensor-level criterion: GPU and CPU sum in different orders
// (and WGSL may fuse and reassociate), so they agree to rounding, not bit for bit.
func relL2(got, want []float32) float64 {
	var e, n float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		e += d * d
		n += float64(want[i]) * float64(want[i])
	}
	if n == 0 {
		return math.Sqrt(e)
	}
	return math.Sqrt(e / n)
}

// requireClose checks a GPU tensor against its CPU twin: relative L2 error at most tol, and no
// element off by more than elemTol·(1 + |want|).
func requireClose(t *testing.T, name string, got, want []float32, tol, elemTol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), name)
	for i := range want {
		if math.IsNaN(float64(got[i])) || math.Abs(float64(got[i]-want[i])) > elemTol*(1+math.Abs(float64(want[i]))) {
			require.Failf(t, "GPU differs from CPU", "%s[%d]: gpu %v, cpu %v", name, i, got[i], want[i])
		}
	}
	require.LessOrEqual(t, relL2(got, want), tol, "%s: relative L2 error", name)
}

func TestAdapter(t *testing.T) {
	_, g := backends(t)
	t.Logf("adapter: %s", g.Info())
	require.NotZero(t, g.Info().MaxStorageBinding)
}

// TestCloseFreesAndReopens checks what the browser trainer relies on between runs: Close destroys
// every buffer (allocation count back to zero) and a new backend opens and computes after it.
func TestCloseFreesAndReopens(t *testing.T) {
	backends(t) // skips without an adapter
	for round := range 2 {
		g, err := New()
		require.NoError(t, err)
		b := g.Alloc(1 << 16)
		g.Write(b, filledF32(1<<16, float32(round+1)))
		got := read(t, g, b)
		require.Equal(t, float32(round+1), got[len(got)-1])
		require.NotZero(t, g.AllocatedBytes())
		g.Close()
		require.Zero(t, g.AllocatedBytes(), "round %d", round)
	}
}

func filledF32(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}
