package shaders

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// corpus returns the embedded kernel families and the GPU backend's test kernels (expanded), and
// mutations of them: spans deleted, doubled and WGSL-ish fragments inserted, so that the scanner
// meets broken and odd declarations too.
func corpus(t testing.TB, mutants int) []string {
	var srcs []string
	for _, name := range Kernels() {
		src, err := Source(name)
		require.NoError(t, err, name)
		srcs = append(srcs, src)
	}
	tests, err := filepath.Glob("../core/backend/gpu/testdata/*.wgsl")
	require.NoError(t, err)
	require.NotEmpty(t, tests)
	for _, file := range tests {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		src, err := Expand(file, string(b))
		require.NoError(t, err, file)
		srcs = append(srcs, src)
	}
	bits := []string{
		"//", "/*", "*/", "/**/", "/*/", "\n", " ", "\t", "\f", "\r", "\v", "(", ")", "{", "}", ",", ":", ";", ".", "<", ">",
		"fn ", "fn", "@compute", "@workgroup_size(", "@workgroup_size(64)", "@group(0)", "@binding(0)",
		"@binding(7)", "@binding(", "var<uniform>", "var<storage,", "var<storage, read>", " read_write>",
		"read>", "p", "p:", "Params", "struct ", "struct Params {", "const ", "const\n", "x", "_", "9", "é",
		"\xff", "u32", "vec3f", "vec4<f32>", "vec2<i32>", "array<", "array<f32, 4u>", "array<vec2u,3>",
	}
	r := rand.New(rand.NewPCG(1, 2))
	base := len(srcs)
	for range mutants {
		s := srcs[r.IntN(base)]
		for range 1 + r.IntN(4) {
			i := r.IntN(len(s) + 1)
			j := min(len(s), i+r.IntN(40))
			switch r.IntN(3) {
			case 0:
				s = s[:i] + s[j:]
			case 1:
				s = s[:j] + s[i:]
			default:
				s = s[:i] + bits[r.IntN(len(bits))] + s[i:]
			}
		}
		srcs = append(srcs, s)
	}
	return srcs
}

// TestParseMatchesRegexpReader: the scanner-based Parse returns what the regexp reader it replaced
// returned, modules and errors alike, on the kernels of this folder and on broken variants of them.
func TestParseMatchesRegexpReader(t *testing.T) {
	for i, src := range corpus(t, 3000) {
		want, wantErr := refParse(src)
		got, err := Parse(src)
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "source %d:\n%s", i, src)
			continue
		}
		require.NoError(t, err, "source %d:\n%s", i, src)
		require.Equal(t, want, got, "source %d:\n%s", i, src)
	}
}

// checkScanner compares each find function of scan.go with the regexp it stands for, on src.
func checkScanner(t *testing.T, src string) {
	require.Equal(t, refComment.ReplaceAllString(src, ""), stripComments(src), "comments of %q", src)
	require.Equal(t, refIdents(src), idents(src), "idents of %q", src)

	var wantConsts []string
	for _, m := range refConst.FindAllStringSubmatch(src, -1) {
		wantConsts = append(wantConsts, m[1])
	}
	require.Equal(t, wantConsts, consts(src), "consts of %q", src)

	type match struct {
		End  int
		Caps []string
	}
	ref := func(re *regexp.Regexp) []match {
		var out []match
		for _, loc := range re.FindAllStringSubmatchIndex(src, -1) {
			m := match{End: loc[1]}
			for k := 2; k < len(loc); k += 2 {
				m.Caps = append(m.Caps, src[loc[k]:loc[k+1]])
			}
			out = append(out, m)
		}
		return out
	}
	all := func(pat []string) []match {
		var out []match
		for at := 0; ; {
			end, caps, ok := find(src, at, pat)
			if !ok {
				return out
			}
			out = append(out, match{end, caps})
			at = end
		}
	}
	require.Equal(t, ref(refUniform), all(uniformPat), "uniform in %q", src)
	require.Equal(t, ref(refStorage), all(storagePat), "storage in %q", src)
	require.Equal(t, ref(refEntry), all(entryPat), "entries in %q", src)
	require.Equal(t, ref(refFn), all(fnPat), "fns in %q", src)

	for _, name := range []string{"Params", "P", "S"} {
		loc := regexp.MustCompile(`\bstruct\s+` + regexp.QuoteMeta(name) + `\s*\{`).FindStringIndex(src)
		end, _, ok := find(src, 0, structPat(name))
		require.Equal(t, loc != nil, ok, "struct %s in %q", name, src)
		if ok {
			require.Equal(t, loc[1], end, "struct %s in %q", name, src)
		}
	}
}

// scannerCases are small texts at the edges of the patterns (also FuzzScanner's seeds).
var scannerCases = []string{
	"", "/", "/*", "/*/", "/**/", "a/*b*/c//d\ne", "x /* open // y\nz", "//\n//", "/* a */ */ /* b",
	"fn", "fn f(", "xfn f(", "_fn f(", ".fn f(", "fn\nf\t(", "fn f", "fn  f  (", "fn é(",
	"const a", "const\na", "\nconst a\nconst b", " const a", "xconst a", "const", "const\nconst x",
	".a", "..a", "a.b", "1abc", ".5e", "a_1 _b __", "é a", "\xffa", "a\xff",
	"@group(0)@binding(0)var<uniform>p:P;", "@group(0) @binding(0) var<uniform> p : P ;",
	"@group(0) @binding(0) var<uniform> pp: P;", "@group(0) @binding(0) var<uniform> p: P",
	"@group(0) @binding(12) var<storage, read_write> a : array<f32>;",
	"@group(0) @binding(1) var<storage,read> b:", "@group(0) @binding(1) var<storage, read_writ> b:",
	"@group(0) @binding() var<storage, read> b:", "@group(0) @group(0) @binding(2) var<storage, read> c :",
	"@compute @workgroup_size(8, 8) fn main", "@compute@workgroup_size(\n64\n)\nfn\nm", "@compute @workgroup_size(1 fn m",
	"@compute @workgroup_size(1) fnm", "@compute @workgroup_size(1) @compute @workgroup_size(2) fn m",
	"struct Params {", "struct Params2 {", "xstruct Params {", "struct\nParams{", "structParams {", "struct P struct S {",
}

func TestScannerMatchesRegexps(t *testing.T) {
	for _, src := range scannerCases {
		checkScanner(t, src)
	}
	for _, src := range corpus(t, 300) {
		checkScanner(t, src)
	}
}

func TestTypeReadersMatchRegexps(t *testing.T) {
	for _, typ := range []string{
		"", "vec", "vec2", "vec3f", "vec4u", "vec2i", "vec5f", "vec1f", "vec3h", "vec3ff", "vec3<f32>", "vec4<u32>",
		"vec2<i32>", "vec3<f16>", "vec3<f32", "vec3<f32>x", "xvec3f", "vec3<f32>>",
		"array<f32,2>", "array<f32,2u>", "array<f32,2uu>", "array<f32,>", "array<,2>", "array<f32>", "array<f32,u>",
		"array<vec4<f32>,16>", "array<array<f32,2>,3>", "array<f,32,4>", "array<f32,0x4>", "array<f\n32,4>",
		"array<f32,4>x", "xarray<f32,4>", "array<>", "array<f32,4", "array<a,1,>", "array<\xff,1>",
	} {
		m := refVec.FindStringSubmatch(typ)
		n, short, ok := vecType(typ)
		require.Equal(t, m != nil, ok, typ)
		if ok {
			require.Equal(t, []string{m[1], m[3]}, []string{n, short}, typ)
		}
		a := refArray.FindStringSubmatch(typ)
		elem, count, ok := arrayType(typ)
		require.Equal(t, a != nil, ok, typ)
		if ok {
			require.Equal(t, a[1:], []string{elem, count}, typ)
		}
	}
}

// FuzzScanner compares the scanner with the regexps on arbitrary text (`go test -fuzz=FuzzScanner`).
func FuzzScanner(f *testing.F) {
	for _, src := range scannerCases {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkScanner(t, src)
		want, wantErr := refParse(src)
		got, err := Parse(src)
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error())
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
}
