// Package shaders holds the WGSL compute kernels, one file per kernel family, embedded into the
// binary. Each kernel has a plain-Go twin in core (see the comment at the top of each file), which
// the GPU backend's parity tests check it against.
//
// Three conventions tie the WGSL to Go (core/backend/gpu checks all of them when it builds the
// pipelines):
//   - Helpers shared by several families live in lib/ and are pulled in with a line
//     `//!include lib/NAME` (see Expand).
//   - Constants shared with Go (statistics indices, sentinels, random streams, workgroup sizes) are
//     not written in any .wgsl file: the backend prepends a prelude generated from the Go constants
//     (see Prelude).
//   - Binding 0 of group 0 is `var<uniform> p: Params`, the dispatch's parameters; the backend has
//     a Go struct for each entry point whose fields must match Params field by field (see Parse).
package shaders

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed *.wgsl lib/*.wgsl
var files embed.FS

// Kernels lists the kernel families: the .wgsl files at the top of shaders/, without the extension.
func Kernels() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".wgsl"); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	return out
}

// Source returns the WGSL of a kernel family (e.g. "gemm") with its includes expanded. The constant
// prelude is not part of it.
func Source(name string) (string, error) {
	b, err := files.ReadFile(name + ".wgsl")
	if err != nil || strings.Contains(name, "/") {
		return "", fmt.Errorf("shaders: no kernel family %q", name)
	}
	return Expand(name+".wgsl", string(b))
}

// Expand replaces each line `//!include lib/NAME` of src by shaders/lib/NAME.wgsl, itself expanded.
// A library is included once per kernel (later includes of it expand to nothing), so libraries may
// include what they need without clashing. file names src in errors. Kernels outside this package
// (the backend's test kernels) use it to reach the same libraries.
func Expand(file, src string) (string, error) {
	return expand(files, file, src)
}

const includeDirective = "//!include "

func expand(fsys fs.FS, file, src string) (string, error) {
	x := expander{fsys: fsys, done: map[string]bool{}}
	var out strings.Builder
	if err := x.expand(&out, file, src); err != nil {
		return "", err
	}
	return out.String(), nil
}

type expander struct {
	fsys  fs.FS
	done  map[string]bool // libraries already included
	stack []string        // files being expanded, outermost first (for cycles)
}

func (x *expander) expand(out *strings.Builder, file, src string) error {
	x.stack = append(x.stack, file)
	defer func() { x.stack = x.stack[:len(x.stack)-1] }()
	for n, line := range strings.SplitAfter(src, "\n") {
		arg, ok := strings.CutPrefix(strings.TrimSpace(line), includeDirective)
		if !ok {
			out.WriteString(line)
			continue
		}
		lib := strings.TrimSpace(arg) + ".wgsl"
		where := fmt.Sprintf("shaders: %s:%d: %s", file, n+1, strings.TrimSpace(line))
		if !strings.HasPrefix(lib, "lib/") || path.Clean(lib) != lib {
			return fmt.Errorf("%s: includes name a library as lib/NAME", where)
		}
		if slices.Contains(x.stack, lib) {
			return fmt.Errorf("%s: include cycle %s", where, strings.Join(append(slices.Clone(x.stack), lib), " → "))
		}
		if x.done[lib] {
			continue
		}
		b, err := fs.ReadFile(x.fsys, lib)
		if err != nil {
			return fmt.Errorf("%s: no file shaders/%s", where, lib)
		}
		x.done[lib] = true
		fmt.Fprintf(out, "// ---- %s ----\n", lib)
		if err := x.expand(out, lib, strings.TrimRight(string(b), "\n")+"\n"); err != nil {
			return err
		}
		fmt.Fprintf(out, "// ---- end of %s ----\n", lib)
	}
	return nil
}
