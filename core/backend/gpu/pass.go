package gpu

import (
	"bytes"
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// A compute pass is recorded as a list of commands and encoded only when it ends (endPass). A
// training step's passes repeat step after step (the same pipelines, the same cached bind groups,
// the same grids; only uniform bytes such as the step number and the learning rate change), so the
// browser backend keeps the last pass in JavaScript and sends only the commands that differ: a step
// then costs a handful of syscall/js crossings instead of three per dispatch (pass_js.go). Natively
// the commands go straight to wgpu (pass_native.go).

// cmd is one recorded dispatch. It is comparable: a replayed pass is found by comparing commands.
type cmd struct {
	k       *kernel
	bg      *wgpu.BindGroup
	off     uint32 // byte offset of its parameters in the uniform ring
	x, y, z uint32
}

// record adds a dispatch to the open pass.
func (b *Backend) record(c cmd) {
	if len(b.cmds) == 0 {
		b.counts.Passes++
	}
	b.counts.Dispatches++
	b.cmds = append(b.cmds, c)
}

// endPass encodes the recorded pass into the command encoder.
func (b *Backend) endPass() {
	if len(b.cmds) == 0 {
		return
	}
	b.counts.Sent += uint64(b.encodePass(b.cmds))
	b.cmds = b.cmds[:0]
}

// uploadRing uploads the uniform slots of the recorded work that differ from what the device's ring
// already holds: a replayed step rewrites only the slots whose parameters changed (the step number,
// the learning rate), not all of them. Runs of changed slots less than ringGap apart go as one copy.
func (b *Backend) uploadRing() {
	slot := func(s int) []byte { return b.ringHost[s*slotBytes : (s+1)*slotBytes] }
	same := func(s int) bool { return !b.fresh && bytes.Equal(slot(s), b.ringDev[s*slotBytes:(s+1)*slotBytes]) }
	for s := 0; s < b.ringUsed; s++ {
		if same(s) {
			continue
		}
		end, gap := s+1, 0 // end: one past the last changed slot of the run
		for e := s + 1; e < b.ringUsed && gap < ringGap; e++ {
			if same(e) {
				gap++
			} else {
				end, gap = e+1, 0
			}
		}
		lo, hi := s*slotBytes, end*slotBytes
		if err := b.upload(b.ring, uint64(lo), b.ringHost[lo:hi]); err != nil {
			b.fail(fmt.Errorf("gpu: uniforms: %w", err))
			return
		}
		copy(b.ringDev[lo:hi], b.ringHost[lo:hi])
		b.counts.UniformBytes += uint64(hi - lo)
		s = end
	}
}

// ringGap is how many unchanged slots a copy of the uniform ring spans rather than start a new one:
// in the browser each copy is a staging buffer and several calls into JavaScript.
const ringGap = 4
