package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// module builds a WebAssembly module with a custom section and a data section of the given segments
// (raw segment bytes, so that a test can write malformed ones).
func module(segs ...[]byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, 0, 4, 3, 'a', 'b', 'c') // custom section "abc", copied through unchanged
	body := appendUint(nil, uint64(len(segs)))
	for _, s := range segs {
		body = append(body, s...)
	}
	m = append(m, sectionData)
	m = appendUint(m, uint64(len(body)))
	return append(m, body...)
}

func active(off int64, data ...byte) []byte {
	s := append([]byte{0, 0x41}, appendInt(nil, off)...)
	s = append(s, 0x0b)
	s = appendUint(s, uint64(len(data)))
	return append(s, data...)
}

// image returns the memory a module's data section sets up, and its segment count.
func image(t *testing.T, m []byte) ([]byte, int) {
	t.Helper()
	r := reader{b: m, p: 8}
	for r.p < len(m) {
		id, size := r.byte(), r.uint()
		body := m[r.p : r.p+int(size)]
		r.p += int(size)
		if id != sectionData {
			continue
		}
		segs, err := readSegments(body)
		require.NoError(t, err)
		var mem []byte
		for _, s := range segs {
			if end := int(s.offset) + len(s.data); end > len(mem) {
				mem = append(mem, make([]byte, end-len(mem))...)
			}
			copy(mem[s.offset:], s.data)
		}
		return mem, len(segs)
	}
	t.Fatal("no data section")
	return nil, 0
}

func TestPackJoinsAcrossShortZeroRuns(t *testing.T) {
	tests := []struct {
		name string
		segs [][]byte
		want int // segments after packing
	}{
		{"adjacent", [][]byte{active(16, 1, 2), active(18, 3)}, 1},
		{"gap of maxGap", [][]byte{active(16, 1), active(17+maxGap, 2)}, 1},
		{"gap past maxGap", [][]byte{active(16, 1), active(18+maxGap, 2)}, 2},
		{"three, the last far", [][]byte{active(0, 1), active(10, 2), active(100000, 3)}, 2},
		{"offsets of several LEB128 bytes", [][]byte{active(1<<20, 7), active(1<<20+5, 8)}, 1},
		{"out of order", [][]byte{active(40, 2), active(0, 1), active(20, 3)}, 1},
		{"no segments", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := module(tc.segs...)
			out, err := pack(in)
			require.NoError(t, err)
			before, _ := image(t, in)
			after, n := image(t, out)
			assert.Equal(t, before, after, "the memory image must not change")
			assert.Equal(t, tc.want, n)
			assert.Equal(t, in[8:14], out[8:14], "other sections are copied unchanged")
		})
	}
}

func TestPackRejectsWhatGoDoesNotWrite(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"not wasm", []byte("hello, world"), "not a WebAssembly module"},
		{"passive segment", module([]byte{1, 1, 9}), "not an active segment"},
		{"overlapping", module(active(10, 1, 2, 3), active(11, 4)), "overlaps the one before"},
		{"truncated segment", module(active(0, 1, 2, 3)[:6]), "truncated"},
		{"no data section", []byte("\x00asm\x01\x00\x00\x00"), "no data section"},
		{"section past the end", append([]byte("\x00asm\x01\x00\x00\x00"), sectionData, 50, 0), "runs past the end"},
		{"data count section", append(module(), sectionDataCount, 1, 0), "data count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pack(tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestRewriteGoModule packs what Go's linker really writes: a small program built for js/wasm.
func TestRewriteGoModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a WebAssembly program")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(
		"package main\n\nimport \"fmt\"\n\nvar table = [4096]int{1: 1, 4000: 2}\n\nfunc main() { fmt.Println(table[1], \"packed\") }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module p\n\ngo 1.26\n"), 0o644))
	name := filepath.Join(dir, "p.wasm")
	cmd := exec.Command("go", "build", "-o", name, ".")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	in, err := os.ReadFile(name)
	require.NoError(t, err)

	require.NoError(t, rewrite(name))
	packed, err := os.ReadFile(name)
	require.NoError(t, err)
	before, nb := image(t, in)
	after, na := image(t, packed)
	assert.Equal(t, before, after, "the memory image must not change")
	assert.Less(t, na, nb/10, "segments: %d before, %d after", nb, na)
	assert.Less(t, gzipped(t, packed), gzipped(t, in))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "no temporary file is left beside the module")
}

func gzipped(t *testing.T, b []byte) int {
	var z bytes.Buffer
	w, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return z.Len()
}
