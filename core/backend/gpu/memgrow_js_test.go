package gpu

import (
	"testing"
)

// growthBox is a small object with a pointer, the size of the js.Value box that Queue.WriteBuffer
// allocates between making its view of the wasm memory and handing it to WebGPU.
type growthBox struct {
	p    *int
	a, b uint64
}

var growthKeep []*growthBox

// TestWriteDuringMemoryGrowth uploads a small buffer many times while the Go heap grows, so the wasm
// memory grows (and its ArrayBuffer is detached) at every point of the upload sooner or later.
// cogentcore/webgpu v0.23.0's Queue.WriteBuffer passes WebGPU a view of the wasm memory, which such a
// growth detaches: the write then panics ("Number of bytes to write is too large", "Cannot perform
// Construct on a detached ArrayBuffer"). The backend therefore uploads through staging buffers in
// the browser (upload_js.go); with Queue.WriteBuffer this test failed within a second.
func TestWriteDuringMemoryGrowth(t *testing.T) {
	_, g := backends(t)
	x := g.Alloc(4)
	v := []float32{1, 2, 3, 4}
	defer func() { growthKeep = nil }()
	for i := range 60_000 {
		growthKeep = append(growthKeep, &growthBox{})
		g.Write(x, v)
		if i%20_000 == 0 {
			g.Write(x, []float32{float32(i), 0, 0, 0})
			if got := read(t, g, x)[0]; got != float32(i) {
				t.Fatalf("iteration %d: read back %v", i, got)
			}
		}
	}
	if got := read(t, g, x); got[3] != 4 {
		t.Fatalf("read back %v, want %v", got, v)
	}
}
