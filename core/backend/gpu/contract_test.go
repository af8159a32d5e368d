package gpu

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/emc2ml/emc2/shaders"
	"github.com/stretchr/testify/require"
)

// Tests of the Go↔WGSL contract (contract.go, kernel.go). Most need no device: they read the WGSL.

type kernelFile struct {
	file, src string // path from the repository root; WGSL with includes expanded, without the prelude
	params    any
}

// allKernels returns every kernel file the backend compiles: the production families and the test
// kernels.
func allKernels(t *testing.T) []kernelFile {
	t.Helper()
	var out []kernelFile
	for _, name := range shaders.Kernels() {
		src, err := shaders.Source(name)
		require.NoError(t, err)
		out = append(out, kernelFile{"shaders/" + name + ".wgsl", src, familyParams[name]})
	}
	for name, params := range testKernelParams {
		file, src, err := testKernelSource(name)
		require.NoError(t, err)
		out = append(out, kernelFile{file, src, params})
	}
	return out
}

func parseKernel(t *testing.T, k kernelFile) *shaders.Module {
	t.Helper()
	src, err := withPrelude(k.src)
	require.NoError(t, err)
	m, err := shaders.Parse(src)
	require.NoError(t, err, k.file)
	return m
}

// TestParamsMatchGo checks every kernel's struct Params against the Go struct its dispatches write:
// same members, order, names and types.
func TestParamsMatchGo(t *testing.T) {
	for _, k := range allKernels(t) {
		m := parseKernel(t, k)
		require.NotEmpty(t, m.Entries, k.file)
		_, err := checkParams(k.file, m, reflect.TypeOf(k.params))
		require.NoError(t, err)
		t.Logf("%s: %d parameter words, entry points %v", k.file, m.ParamsBytes/4, entryNames(m))
	}
}

func entryNames(m *shaders.Module) []string {
	var out []string
	for _, e := range m.Entries {
		out = append(out, e.Name)
	}
	return out
}

// TestParamsMismatchIsCaught feeds checkParams Go structs that disagree with shaders/gemm.wgsl in
// each way that matters: a missing word, a swapped pair, a wrong type.
func TestParamsMismatchIsCaught(t *testing.T) {
	src, err := shaders.Source("gemm")
	require.NoError(t, err)
	m := parseKernel(t, kernelFile{file: "shaders/gemm.wgsl", src: src})
	type swapped struct {
		M, N, K        uint32
		TransA, TransB uint32
		Beta, Alpha    float32
		Bias, Relu     uint32
	}
	type retyped struct {
		M, N, K        uint32
		TransA, TransB uint32
		Alpha, Beta    uint32
		Bias, Relu     uint32
	}
	for _, tc := range []struct {
		params any
		want   string
	}{
		{elemParams{}, "Go has 3 fields"},
		{swapped{}, "member 5 is alpha in WGSL, Beta in Go"},
		{retyped{}, "alpha is f32 in WGSL, uint32"},
		{0, "not a struct"},
	} {
		_, err := checkParams("shaders/gemm.wgsl", m, reflect.TypeOf(tc.params))
		require.ErrorContains(t, err, "shaders/gemm.wgsl: struct Params (9 members, 9 words)")
		require.ErrorContains(t, err, tc.want)
	}
}

// TestLoadFamilyRejectsMismatch checks that building a pipeline with the wrong Go Params fails,
// naming the file.
func TestLoadFamilyRejectsMismatch(t *testing.T) {
	_, g := backends(t)
	src, err := shaders.Source("elementwise")
	require.NoError(t, err)
	err = g.loadFamily("shaders/elementwise.wgsl", src, gemmParams{})
	require.ErrorContains(t, err, "shaders/elementwise.wgsl: struct Params (3 members, 3 words) does not match Go's gpu.gemmParams")
}

// TestDispatchChecksParamsAndBindings records dispatches with the wrong parameter struct, a missing
// buffer and a buffer the entry point does not use: each is an error naming the entry point.
func TestDispatchChecksParamsAndBindings(t *testing.T) {
	_, g := backends(t)
	x, y, z := g.alloc(64, "x"), g.alloc(64, "y"), g.alloc(64, "z")
	for _, tc := range []struct {
		params any
		bufs   binds
		want   string
	}{
		{gemmParams{}, binds{"X": x, "Y": y}, "col_sums: parameters are gpu.gemmParams, its Params is gpu.elemParams"},
		{elemParams{N: 64}, binds{"X": x}, "col_sums: buffer Y (binding 2) is missing"},
		{elemParams{N: 64}, binds{"X": x, "Y": y, "Z": z}, "col_sums: the entry point does not use Z"},
	} {
		g.dispatch("col_sums", tc.params, tc.bufs, 1, 1, 1)
		require.ErrorContains(t, g.Flush(), tc.want)
	}
	g.dispatch("col_sums", elemParams{N: 64}, binds{"X": x, "Y": y}, 1, 1, 1)
	require.NoError(t, g.Flush())
}

// TestEntryBindings checks that entry points bind only what they use, on the entry points that used
// to take their family's every buffer.
func TestEntryBindings(t *testing.T) {
	want := map[string][]string{
		"chain_rows":       {"ChainIdx", "Batch", "Rows"},
		"mh_stats":         {"Counts", "Stats"},
		"mh_sweep":         {"Omega", "S", "ChainIdx", "ChainScore", "Batch", "Counts"},
		"mh_sweep_staged":  {"Omega", "S", "ChainIdx", "ChainScore", "Batch", "Counts"},
		"simclr_weights":   {"S", "Omega", "RowLoss"},
		"infonce_rows":     {"S", "RowLoss"},
		"loss_total":       {"Stats", "RowLoss"},
		"sogclr_weights":   {"S", "Omega", "RowLoss", "LogU", "Batch"},
		"l2norm":           {"Y", "Norm", "In"},
		"optim_sgd":        {"P", "G", "M", "seg"},
		"optim_lars_norms": {"P", "G", "seg", "Q"},
		"conv3x3_dw":       {"A", "B", "C"},
		"conv3x3_dw_sum":   {"A", "C"},
		"augment_draw":     {"dst"},
	}
	got := map[string][]string{}
	for _, k := range allKernels(t) {
		for _, e := range parseKernel(t, k).Entries {
			for _, b := range e.Bindings {
				got[e.Name] = append(got[e.Name], b.Name)
			}
		}
	}
	for entry, names := range want {
		require.Equal(t, names, got[entry], entry)
	}
}

var reAllCaps = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// TestConstantsDefinedOnce checks that every constant a kernel uses is declared exactly once — the
// ones shared with Go only in the generated prelude, never by hand in a .wgsl file — and that every
// prelude constant is used by some kernel.
func TestConstantsDefinedOnce(t *testing.T) {
	shared := map[string]bool{}
	for _, c := range consts {
		require.False(t, shared[c.Name], "prelude declares %s twice", c.Name)
		shared[c.Name] = true
	}
	used := map[string]bool{}
	for _, k := range allKernels(t) {
		m := parseKernel(t, k)
		count := map[string]int{}
		for _, c := range m.Consts {
			count[c]++
		}
		for c, n := range count {
			require.Equal(t, 1, n, "%s: const %s is declared %d times (shared with Go: %v)", k.file, c, n, shared[c])
		}
		bindings := map[string]bool{}
		for _, b := range m.Bindings {
			bindings[b.Name] = true
		}
		body, err := shaders.Parse(k.src) // without the prelude: what the kernel itself mentions
		require.NoError(t, err)
		for _, id := range body.Idents {
			if reAllCaps.MatchString(id) && !bindings[id] {
				require.Equal(t, 1, count[id], "%s uses %s, which is not a declared constant", k.file, id)
				used[id] = true
			}
		}
	}
	for _, c := range consts {
		require.True(t, used[c.Name], "prelude constant %s (%s) is used by no kernel", c.Name, c.Go)
	}
}

// TestShadersTint compiles every kernel, as the backend hands it to the device, with Tint, Chrome's
// WGSL compiler, which (unlike naga) enforces the uniformity rules for barriers. Skipped when tint is
// not on PATH; the browser tests compile them in Chrome anyway.
func TestShadersTint(t *testing.T) {
	tint, err := exec.LookPath("tint")
	if err != nil {
		t.Skip("SKIPPED: tint not on PATH")
	}
	dir := t.TempDir()
	for _, k := range allKernels(t) {
		src, err := withPrelude(k.src)
		require.NoError(t, err)
		path := filepath.Join(dir, strings.ReplaceAll(k.file, "/", "_"))
		require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
		out, err := exec.Command(tint, "--format", "wgsl", "-o", os.DevNull, path).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			require.Failf(t, "tint rejects "+k.file, "%s", out)
		}
		require.NoError(t, err)
	}
}
