//go:build !js

package gpu

import "github.com/cogentcore/webgpu/wgpu"

// upload writes host bytes into a buffer through the queue (ordered before the next submit).
func (b *Backend) upload(dst *wgpu.Buffer, off uint64, data []byte) error {
	return b.queue.WriteBuffer(dst, off, data)
}

// uploads returns the command buffers that must run before the next submit's work (none natively).
func (b *Backend) uploads() []*wgpu.CommandBuffer { return nil }
