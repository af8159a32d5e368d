package gpu

import (
	"fmt"
	"math"
	"sync"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
)

// lazyState holds the buffers that the augment and optim kernel families allocate on first use. It
// lives beside the Backend (keyed by it) rather than in it, so that these families keep their state in
// their own files.
type lazyState struct {
	mu      sync.Mutex
	dummies []*Buf // bound where a kernel ignores a buffer; distinct, so no writable binding aliases another
	scratch *Buf   // augment: the horizontal blur pass, Rows·OutH·OutW·C values
	optim   segCache
}

var lazyStates sync.Map // *Backend → *lazyState

func (b *Backend) lazy() *lazyState {
	if s, ok := lazyStates.Load(b); ok {
		return s.(*lazyState)
	}
	s, _ := lazyStates.LoadOrStore(b, &lazyState{})
	return s.(*lazyState)
}

// dummyBufs returns n distinct small buffers for bindings a dispatch does not use.
func (b *Backend) dummyBufs(n int) []*Buf {
	st := b.lazy()
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.dummies) < n {
		st.dummies = append(st.dummies, b.alloc(4, "dummy"))
	}
	return st.dummies[:n]
}

// scratchBuf returns a scratch buffer of at least n float32 values (grown, never shrunk).
func (b *Backend) scratchBuf(n int) *Buf {
	st := b.lazy()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.scratch == nil || st.scratch.n < n {
		st.scratch = b.alloc(n, "augment scratch")
	}
	return st.scratch
}

// grid2D spreads n workgroups over a 2-D grid when n exceeds the 65535 limit of one dimension; the
// kernels number their workgroups wid.x + wid.y·nw.x and skip those past n.
func grid2D(n int) (x, y int) {
	if n <= 65535 {
		return n, 1
	}
	return 65535, ceilDiv(n, 65535)
}

// augmentParams packs a Batch into the uniform block of shaders/augment.wgsl. The logarithms of the
// aspect-ratio range are taken here, in float64 rounded to float32, exactly as augment.Draw does.
func augmentParams(p augment.Batch) u32s {
	c := p.Cfg
	var lrLo, lrHi float32
	if c.CropScale[1] > 0 {
		rlo, rhi := c.CropRatio[0], c.CropRatio[1]
		if rhi <= 0 {
			rlo, rhi = 3.0/4, 4.0/3
		}
		lrLo, lrHi = float32(math.Log(float64(rlo))), float32(math.Log(float64(rhi)))
	}
	return u32s{p.Base, uint32(p.Rows), uint32(p.InH), uint32(p.InW), uint32(p.C), uint32(p.OutH), uint32(p.OutW),
		p.Step, p.Key.K0, p.Key.K1, bit(c.CropScale[1] > 0), f(c.CropScale[0]), f(c.CropScale[1]), f(lrLo), f(lrHi),
		f(c.FlipP), f(c.JitterP), f(c.Brightness), f(c.Contrast), f(c.Saturation), f(c.Hue), f(c.GrayP), f(c.BlurP),
		f(c.BlurSigma[0]), f(c.BlurSigma[1]), f(c.NoiseStd)}
}

// Augment makes one view per row (shaders/augment.wgsl, one 64-invocation workgroup per view): row
// r reads image rows[r] and draws with the counters (step, Base + r), as augment.Draw + augment.Apply.
func (b *Backend) Augment(dst, images, rows backend.Buf, p augment.Batch) {
	if p.Rows <= 0 {
		return
	}
	d, im, rw := buf(dst), buf(images), buf(rows)
	o := p.OutH * p.OutW * p.C
	switch {
	case p.InH <= 0 || p.InW <= 0 || p.C <= 0 || p.OutH <= 0 || p.OutW <= 0:
		b.fail(fmt.Errorf("gpu: augment: bad shape %dx%dx%d → %dx%d", p.InH, p.InW, p.C, p.OutH, p.OutW))
		return
	case d.n < p.Rows*o:
		b.fail(fmt.Errorf("gpu: augment: dst holds %d values, %d views need %d", d.n, p.Rows, p.Rows*o))
		return
	case rw.n < p.Rows:
		b.fail(fmt.Errorf("gpu: augment: rows holds %d indices, need %d", rw.n, p.Rows))
		return
	}
	scratch := b.dummyBufs(1)[0]
	if p.Cfg.BlurP > 0 {
		scratch = b.scratchBuf(p.Rows * o)
	}
	x, y := grid2D(p.Rows)
	b.dispatch("augment_views", augmentParams(p), []*Buf{im, rw, d, scratch}, x, y, 1)
}

// augmentDraw writes the drawn parameters of views Base..Base+Rows-1 into out, 16 values per row
// (X0, Y0, CW, CH, Flip, Jitter, Bright, Contr, Sat, Hue, Gray, Blur, Sigma, 0, 0, 0): the GPU side of
// the Draw parity test.
func (b *Backend) augmentDraw(out *Buf, p augment.Batch) {
	d := b.dummyBufs(3)
	b.dispatch("augment_draw", augmentParams(p), []*Buf{d[0], d[1], out, d[2]}, ceilDiv(p.Rows, 64), 1, 1)
}
