package shaders

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestExpandIncludesEachLibraryOnce(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/a.wgsl": {Data: []byte("//!include lib/b\nfn a() {}\n")},
		"lib/b.wgsl": {Data: []byte("fn b() {}")}, // no final newline
	}
	out, err := expand(fsys, "k.wgsl", "//!include lib/a\n  //!include lib/b\nfn main() {}\n")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(out, "fn b() {}\n"), out)
	require.Equal(t, 1, strings.Count(out, "fn a() {}\n"), out)
	require.Less(t, strings.Index(out, "fn b()"), strings.Index(out, "fn a()"), "nested include expands in place")
	require.True(t, strings.HasSuffix(out, "fn main() {}\n"), out)
	require.NotContains(t, out, "//!include")
}

func TestExpandErrorsNameTheFile(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/a.wgsl": {Data: []byte("//!include lib/b\n")},
		"lib/b.wgsl": {Data: []byte("// b\n//!include lib/a\n")},
		"lib/c.wgsl": {Data: []byte("//!include lib/nope\n")},
	}
	for _, tc := range []struct{ src, want string }{
		{"//!include lib/a\n", "shaders: lib/b.wgsl:2: //!include lib/a: include cycle k.wgsl → lib/a.wgsl → lib/b.wgsl → lib/a.wgsl"},
		{"\n//!include lib/missing\n", "shaders: k.wgsl:2: //!include lib/missing: no file shaders/lib/missing.wgsl"},
		{"//!include lib/c\n", "shaders: lib/c.wgsl:1: //!include lib/nope: no file shaders/lib/nope.wgsl"},
		{"//!include rng\n", "shaders: k.wgsl:1: //!include rng: includes name a library as lib/NAME"},
		{"//!include lib/../x\n", "includes name a library as lib/NAME"},
	} {
		_, err := expand(fsys, "k.wgsl", tc.src)
		require.ErrorContains(t, err, tc.want)
	}
}

// TestEmbeddedKernels expands and parses every kernel family of this folder.
func TestEmbeddedKernels(t *testing.T) {
	names := Kernels()
	require.Contains(t, names, "mh_sweep")
	for _, name := range names {
		src, err := Source(name)
		require.NoError(t, err, name)
		m, err := Parse(src)
		require.NoError(t, err, name)
		require.NotEmpty(t, m.Entries, name)
		require.NotEmpty(t, m.Params, name)
	}
	_, err := Source("lib/rng")
	require.Error(t, err, "libraries are not kernel families")
}

func TestParseParamsLayout(t *testing.T) {
	src := `
struct Params {
  a: u32,          // comment, with a comma
  v: vec3<f32>, b: f32,
  w: vec2u,
  arr: array<f32, 2>,
  /* block comment: x: u32 */
}
@group(0) @binding(0) var<uniform> p: Params;
@compute @workgroup_size(1) fn e() {}
`
	m, err := Parse(src)
	require.NoError(t, err)
	require.Equal(t, []Field{
		{Name: "a", Type: "u32", Offset: 0, Size: 4},
		{Name: "v", Type: "vec3<f32>", Offset: 16, Size: 12},
		{Name: "b", Type: "f32", Offset: 28, Size: 4},
		{Name: "w", Type: "vec2<u32>", Offset: 32, Size: 8},
		{Name: "arr", Type: "array<f32,2>", Offset: 48, Size: 32},
	}, m.Params)
	require.Equal(t, 80, m.ParamsBytes)

	_, err = Parse("struct Params { ok: bool }\n@group(0) @binding(0) var<uniform> p: Params;")
	require.ErrorContains(t, err, "member ok: type bool is not supported")
	_, err = Parse("struct Q { a: u32 }")
	require.ErrorContains(t, err, "var<uniform> p: Params")
}

// TestParseEntryBindings: an entry point uses the bindings it names and those of the functions it
// calls, transitively; member names (p.rows) and other entry points' bindings do not count.
func TestParseEntryBindings(t *testing.T) {
	src := `
struct Params { rows: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read_write> Out: array<f32>;
@group(0) @binding(3) var<storage, read_write> Other: array<f32>;
const K = 3u;
fn leaf() -> u32 { return rows[0]; }
fn mid() -> u32 { return leaf() + K; }
@compute @workgroup_size(WG)
fn first() { Out[0] = f32(mid()); }
@compute @workgroup_size(8, 8)
fn second() { Other[p.rows] = 1.0; }
`
	m, err := Parse(src)
	require.NoError(t, err)
	require.Equal(t, []Entry{
		{Name: "first", Bindings: []Binding{{Index: 1, Name: "rows", ReadOnly: true}, {Index: 2, Name: "Out"}}},
		{Name: "second", Bindings: []Binding{{Index: 3, Name: "Other"}}},
	}, m.Entries)
	require.Equal(t, []string{"K"}, m.Consts)
}

func TestPrelude(t *testing.T) {
	got, err := Prelude([]Const{
		{Name: "A", Value: uint32(7), Go: "pkg.A"},
		{Name: "B", Value: int32(-2), Go: "pkg.B"},
		{Name: "C", Value: float32(-3.4028234663852886e38), Go: "pkg.C"},
		{Name: "D", Value: float32(1e-6), Go: "pkg.D"},
		{Name: "E", Value: float32(2), Go: "pkg.E"},
	})
	require.NoError(t, err)
	require.Contains(t, got, "const A: u32 = 7u; // pkg.A\n")
	require.Contains(t, got, "const B: i32 = -2i; // pkg.B\n")
	require.Contains(t, got, "const C: f32 = -3.4028234663852886e+38; // pkg.C\n")
	require.Contains(t, got, "const D: f32 = 9.999999974752427e-07; // pkg.D\n") // float32(1e-6), exactly
	require.Contains(t, got, "const E: f32 = 2.0; // pkg.E\n")
	_, err = Prelude([]Const{{Name: "X", Value: 1}})
	require.ErrorContains(t, err, "constant X has Go type int")
}
