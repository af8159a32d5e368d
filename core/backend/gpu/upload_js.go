//go:build js

package gpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// upload stages host bytes in a new buffer created with its contents copied at once, and records a
// copy into dst that runs before the next submit's work. The binding's Queue.WriteBuffer hands
// WebGPU a view of wasm memory instead, which is detached when the Go heap grows before the browser
// reads it ("Number of bytes to write is too large"; TestWriteDuringMemoryGrowth).
func (b *Backend) upload(dst *wgpu.Buffer, off uint64, data []byte) error {
	tmp, err := b.dev.CreateBufferInit(&wgpu.BufferInitDescriptor{Label: "upload", Contents: data, Usage: wgpu.BufferUsageCopySrc})
	if err != nil {
		return err
	}
	if b.upEnc == nil {
		if b.upEnc, err = b.dev.CreateCommandEncoder(nil); err != nil {
			return fmt.Errorf("upload encoder: %w", err)
		}
	}
	b.pending = append(b.pending, tmp)
	return b.upEnc.CopyBufferToBuffer(tmp, 0, dst, off, uint64((len(data)+3)&^3))
}

// uploads finishes the staged copies into a command buffer to submit ahead of the work.
func (b *Backend) uploads() []*wgpu.CommandBuffer {
	if b.upEnc == nil {
		return nil
	}
	cmd, err := b.upEnc.Finish(nil)
	b.upEnc, b.pending = nil, nil // the browser keeps the staging buffers alive until the copies ran
	if err != nil {
		b.fail(fmt.Errorf("gpu: upload: %w", err))
		return nil
	}
	return []*wgpu.CommandBuffer{cmd}
}
