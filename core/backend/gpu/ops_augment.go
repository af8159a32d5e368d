package gpu

import (
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
)

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
	scratch := b.dummy(0)
	if p.Cfg.BlurP > 0 {
		scratch = b.scratchBuf("augment.blur", p.Rows*o)
	}
	x, y := grid2D(p.Rows)
	b.dispatch("augment_views", augmentParams(p), []*Buf{im, rw, d, scratch}, x, y, 1)
}

// augmentDraw writes the drawn parameters of views Base..Base+Rows-1 into out, 16 values per row
// (X0, Y0, CW, CH, Flip, Jitter, Bright, Contr, Sat, Hue, Gray, Blur, Sigma, 0, 0, 0): the GPU side of
// the Draw parity test.
func (b *Backend) augmentDraw(out *Buf, p augment.Batch) {
	d := []*Buf{b.dummy(0), b.dummy(1), b.dummy(2)}
	b.dispatch("augment_draw", augmentParams(p), []*Buf{d[0], d[1], out, d[2]}, ceilDiv(p.Rows, 64), 1, 1)
}
