// Package model is the encoder: a stack of conv3×3 + ReLU + 2×2 max-pool blocks, a linear "hidden"
// layer with ReLU (the features the linear probe reads), a linear projection head, and L2
// normalisation — no BatchNorm, as in the paper's runs. Its parameters live in one flat arena whose
// segments are aligned for GPU binding; Forward and Backward issue the layer operations on a backend.
package model

import (
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/nn"
	"github.com/emc2ml/emc2/core/optim"
	"github.com/emc2ml/emc2/core/rng"
)

// Arch describes the encoder.
type Arch struct {
	InH      int   `json:"in_h"`
	InW      int   `json:"in_w"`
	InC      int   `json:"in_c"`
	Channels []int `json:"channels"` // output channels of each conv block
	Hidden   int   `json:"hidden"`   // width of the hidden (probe) features
	Proj     int   `json:"proj"`     // width of the projection head's output
}

// Validate checks that the architecture can be built.
func (a Arch) Validate() error {
	if a.InH <= 0 || a.InW <= 0 || (a.InC != 1 && a.InC != 3) {
		return fmt.Errorf("model: input %dx%dx%d: want HxWx1 or HxWx3", a.InH, a.InW, a.InC)
	}
	if len(a.Channels) == 0 || a.Hidden <= 0 || a.Proj <= 0 {
		return fmt.Errorf("model: need at least one conv block and positive hidden/proj widths")
	}
	h, w := a.InH, a.InW
	for i, c := range a.Channels {
		if c <= 0 {
			return fmt.Errorf("model: conv block %d has %d channels", i, c)
		}
		if h < 2 || w < 2 {
			return fmt.Errorf("model: input %dx%d is too small for %d pooling blocks", a.InH, a.InW, len(a.Channels))
		}
		h, w = h/2, w/2
	}
	return nil
}

// convShapes returns the shape of each conv block for n images, and the flattened output width.
func (a Arch) convShapes(n int) ([]nn.ConvShape, int) {
	var out []nn.ConvShape
	h, w, c := a.InH, a.InW, a.InC
	for _, co := range a.Channels {
		out = append(out, nn.ConvShape{N: n, H: h, W: w, Cin: c, Cout: co})
		h, w, c = h/2, w/2, co
	}
	return out, h * w * c
}

// Flat is the width of the flattened conv output.
func (a Arch) Flat() int { _, f := a.convShapes(1); return f }

// Layout returns the parameter segments (weights then bias of each layer) and the arena size.
func (a Arch) Layout() ([]optim.Segment, int) {
	var segs []optim.Segment
	off := 0
	add := func(name string, n int, decay bool) {
		segs = append(segs, optim.Segment{Name: name, Off: off, Len: n, Decay: decay})
		off += (n + backend.Align - 1) / backend.Align * backend.Align
	}
	convs, flat := a.convShapes(1)
	for i, s := range convs {
		add(fmt.Sprintf("conv%d.w", i+1), s.K()*s.Cout, true)
		add(fmt.Sprintf("conv%d.b", i+1), s.Cout, false)
	}
	add("hidden.w", flat*a.Hidden, true)
	add("hidden.b", a.Hidden, false)
	add("proj.w", a.Hidden*a.Proj, true)
	add("proj.b", a.Proj, false)
	return segs, off
}

// NumParams counts the trainable parameters.
func (a Arch) NumParams() int {
	segs, _ := a.Layout()
	n := 0
	for _, s := range segs {
		n += s.Len
	}
	return n
}

// FLOPsPerImage is the multiply-adds ×2 of one forward pass (backward is about twice that).
func (a Arch) FLOPsPerImage() float64 {
	convs, flat := a.convShapes(1)
	var f float64
	for _, s := range convs {
		f += 2 * float64(s.H*s.W*s.K()*s.Cout)
	}
	return f + 2*float64(flat*a.Hidden+a.Hidden*a.Proj)
}

// Init fills a host arena with PyTorch's default initialisation (uniform in ±1/√fan_in for weights
// and biases, i.e. kaiming_uniform with a = √5), drawn from the shared generator so that every
// backend starts from the same weights for the same seed.
func (a Arch) Init(key rng.Key) []float32 {
	segs, total := a.Layout()
	p := make([]float32, total)
	convs, flat := a.convShapes(1)
	fanIn := []int{}
	for _, s := range convs {
		fanIn = append(fanIn, s.K(), s.K())
	}
	fanIn = append(fanIn, flat, flat, a.Hidden, a.Hidden)
	for si, s := range segs {
		bound := float32(1 / math.Sqrt(float64(fanIn[si])))
		for i := 0; i < s.Len; i += 4 {
			u := key.Uniform4(rng.StreamInit, uint32(si), uint32(i/4), 0)
			for j := 0; j < 4 && i+j < s.Len; j++ {
				p[s.Off+i+j] = bound * (2*u[j] - 1)
			}
		}
	}
	return p
}
