package gpu

import (
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
)

// augmentParams is struct Params of shaders/lib/augment_draw.wgsl, the uniform block of
// shaders/augment.wgsl.
type augmentParams struct {
	Base, Rows           uint32
	InH, InW, C          uint32
	OutH, OutW           uint32
	Step, Key0, Key1     uint32
	Crop                 uint32 // 1 when CropScale[1] > 0
	ScaleLo, ScaleHi     float32
	LrLo, LrHi           float32 // log of the aspect-ratio range
	FlipP, JitterP       float32
	Brightness, Contrast float32
	Saturation, Hue      float32
	GrayP, BlurP         float32
	SigmaLo, SigmaHi     float32
	NoiseStd             float32
}

// newAugmentParams packs a Batch into the uniform block. The logarithms of the aspect-ratio range
// are taken here, in float64 rounded to float32, exactly as augment.Draw does.
func newAugmentParams(p augment.Batch) augmentParams {
	c := p.Cfg
	var lrLo, lrHi float32
	if c.CropScale[1] > 0 {
		rlo, rhi := c.CropRatio[0], c.CropRatio[1]
		if rhi <= 0 {
			rlo, rhi = 3.0/4, 4.0/3
		}
		lrLo, lrHi = float32(math.Log(float64(rlo))), float32(math.Log(float64(rhi)))
	}
	return augmentParams{Base: p.Base, Rows: uint32(p.Rows), InH: uint32(p.InH), InW: uint32(p.InW), C: uint32(p.C),
		OutH: uint32(p.OutH), OutW: uint32(p.OutW), Step: p.Step, Key0: p.Key.K0, Key1: p.Key.K1,
		Crop: bit(c.CropScale[1] > 0), ScaleLo: c.CropScale[0], ScaleHi: c.CropScale[1], LrLo: lrLo, LrHi: lrHi,
		FlipP: c.FlipP, JitterP: c.JitterP, Brightness: c.Brightness, Contrast: c.Contrast, Saturation: c.Saturation,
		Hue: c.Hue, GrayP: c.GrayP, BlurP: c.BlurP, SigmaLo: c.BlurSigma[0], SigmaHi: c.BlurSigma[1], NoiseStd: c.NoiseStd}
}

// Augment makes one view per row (shaders/augment.wgsl, one workgroup of wg invocations per view): row
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
	blur := 0 // the blur's intermediate image; no room needed without blur
	if p.Cfg.BlurP > 0 {
		blur = p.Rows * o
	}
	x, y := grid2D(p.Rows)
	b.dispatch("augment_views", newAugmentParams(p), binds{"images": im, "rows": rw, "dst": d,
		"scratch": b.scratchBuf("augment.blur", blur)}, x, y, 1)
}
