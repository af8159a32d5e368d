// Package shaders holds the WGSL compute kernels, one file per kernel family, embedded into the
// binary. Each kernel has a plain-Go twin in core (see the comment at the top of each file), which
// the GPU backend's parity tests check it against.
package shaders

import (
	"embed"
	"fmt"
)

//go:embed *.wgsl
var files embed.FS

// Source returns the WGSL source of a kernel family (e.g. "gemm"), with the shared generator
// (rng.wgsl) prepended when the file asks for it with the line `//!include rng`.
func Source(name string) (string, error) {
	b, err := files.ReadFile(name + ".wgsl")
	if err != nil {
		return "", fmt.Errorf("shaders: no kernel family %q", name)
	}
	src := string(b)
	if containsLine(src, "//!include rng") {
		r, err := files.ReadFile("rng.wgsl")
		if err != nil {
			return "", fmt.Errorf("shaders: rng.wgsl: %w", err)
		}
		src = string(r) + "\n" + src
	}
	return src, nil
}

// Names lists the kernel families.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, e.Name()[:len(e.Name())-len(".wgsl")])
	}
	return out
}

func containsLine(s, line string) bool {
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		if s[:i] == line {
			return true
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return false
}
