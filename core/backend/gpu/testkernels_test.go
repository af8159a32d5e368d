package gpu

import (
	"embed"
	"strings"
	"sync"
	"testing"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/shaders"
	"github.com/stretchr/testify/require"
)

// Test kernels live in testdata/, embedded only into the test binary: production backends never
// compile them. They include the same shaders/lib files as the production kernels.
//
//go:embed testdata/*.wgsl
var testKernelFiles embed.FS

// testKernelParams maps each test kernel file to the Go twin of its Params.
var testKernelParams = map[string]any{
	"rngtest":      rngParams{},
	"augment_draw": augmentParams{},
}

// rngParams is struct Params of testdata/rngtest.wgsl.
type rngParams struct {
	N             uint32
	Key0, Key1    uint32
	Stream, Step  uint32
	Index0, Draw0 uint32
	DrawEvery     uint32
	Raw           uint32
}

var (
	testKernelsOnce sync.Once
	testKernelsErr  error
)

// testKernelSource returns a test kernel's WGSL with its includes expanded, and its path for messages.
func testKernelSource(name string) (file, src string, err error) {
	file = "testdata/" + name + ".wgsl"
	b, err := testKernelFiles.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	file = "core/backend/gpu/" + file
	src, err = shaders.Expand(file, string(b))
	return file, src, err
}

// withTestKernels adds the test kernels to the shared backend (once per test binary).
func withTestKernels(t *testing.T, g *Backend) {
	t.Helper()
	require.Same(t, shared, g, "test kernels are loaded into the shared backend")
	testKernelsOnce.Do(func() {
		for name, params := range testKernelParams {
			file, src, err := testKernelSource(name)
			if err == nil {
				err = g.loadFamily(file, src, params)
			}
			if err != nil {
				testKernelsErr = err
				return
			}
		}
	})
	require.NoError(t, testKernelsErr)
}

// augmentDraw writes the drawn parameters of views Base..Base+Rows-1 into out, 16 values per row
// (see testdata/augment_draw.wgsl): the GPU side of the Draw parity test.
func augmentDraw(t *testing.T, g *Backend, out *Buf, p augment.Batch) {
	withTestKernels(t, g)
	g.dispatch("augment_draw", newAugmentParams(p), binds{"dst": out}, ceilDiv(p.Rows, wg), 1, 1)
}

// TestTestKernelsStayOutOfProduction checks that no production kernel family is a test kernel: the
// backend New builds has none of their entry points.
func TestTestKernelsStayOutOfProduction(t *testing.T) {
	for _, name := range shaders.Kernels() {
		require.False(t, strings.Contains(name, "test"), "shaders/%s.wgsl looks like a test kernel", name)
	}
	for name := range testKernelParams {
		_, src, err := testKernelSource(name)
		require.NoError(t, err)
		m, err := shaders.Parse(src)
		require.NoError(t, err)
		for _, e := range m.Entries {
			for _, prod := range shaders.Kernels() {
				psrc, err := shaders.Source(prod)
				require.NoError(t, err)
				require.NotContains(t, psrc, "fn "+e.Name+"(", "test entry point %s is in shaders/%s.wgsl", e.Name, prod)
			}
		}
	}
}
