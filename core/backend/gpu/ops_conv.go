package gpu

import (
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/nn"
)

// Split-K sizing of the weight gradient: about this many pixels per chunk (enough serial work per
// invocation, several chunks for parallelism), and at most this many partial values in scratch.
const (
	dwChunkPixels = 1024
	dwMaxPartials = 1 << 22 // 16 MiB
)

// conv records the implicit-GEMM convolution of an n×h×w×c1 image into n×h×w×c2 (+ bias) (then
// ReLU); flip computes dX from dY with the rotated, channel-transposed filter. bias may be nil.
func (b *Backend) conv(out, in, w, bias *Buf, n, h, wd, c1, c2 int, flip, relu bool) {
	hasBias := bias != nil
	if !hasBias {
		bias = w // any read-only buffer: the binding must exist but is not read
	}
	entry := "conv3x3"
	if flip {
		entry = "conv3x3_dx"
	}
	params := u32s{uint32(n), uint32(h), uint32(wd), uint32(c1), uint32(c2), 0, bit(hasBias), bit(relu), 0, 0, 0}
	b.dispatch(entry, params, []*Buf{in, w, out, bias}, ceilDiv(c2, 32), ceilDiv(n*h*wd, 32), 1)
}

// dwChunks returns the image rows per split-K chunk and the number of chunks.
func dwChunks(s nn.ConvShape) (rowsPer, chunks int) {
	rows := s.N * s.H
	rowsPer = max(1, dwChunkPixels/s.W)
	per := s.K() * s.Cout
	if maxChunks := max(1, dwMaxPartials/per); ceilDiv(rows, rowsPer) > maxChunks {
		rowsPer = ceilDiv(rows, maxChunks)
	}
	rowsPer = max(rowsPer, ceilDiv(rows, 65535)) // grid z limit
	return rowsPer, ceilDiv(rows, rowsPer)
}

// convDW records dW = im2col(x)ᵀ·dy as a deterministic split-K: partial products per chunk of
// image rows, then a pass adding the chunks in ascending order. One chunk writes dW directly.
func (b *Backend) convDW(dw, x, dy *Buf, s nn.ConvShape) {
	rowsPer, chunks := dwChunks(s)
	count := s.K() * s.Cout
	part := dw
	if chunks > 1 {
		part = b.scratchBuf("conv.dw", chunks*count)
	}
	params := u32s{uint32(s.N), uint32(s.H), uint32(s.W), uint32(s.Cin), uint32(s.Cout), 0, 0, 0,
		uint32(rowsPer), uint32(count), uint32(chunks)}
	b.dispatch("conv3x3_dw", params, []*Buf{x, dy, part, dy}, ceilDiv(s.Cout, 32), ceilDiv(count/s.Cout, 32), chunks)
	if chunks > 1 {
		gx, gy := grid1D(count)
		b.dispatch("conv3x3_dw_sum", params, []*Buf{part, dy, dw, dy}, gx, gy, 1)
	}
}

// Conv3x3 computes y = conv(x, w) + bias (then ReLU).
func (b *Backend) Conv3x3(y, x, w, bias backend.Buf, s nn.ConvShape, relu bool) {
	b.conv(buf(y), buf(x), buf(w), buf(bias), s.N, s.H, s.W, s.Cin, s.Cout, false, relu)
}

// Conv3x3Back computes the gradients of Conv3x3 (dx may be nil); dy holds the masked gradient after.
func (b *Backend) Conv3x3Back(dx, dw, db, dy, x, w, y backend.Buf, s nn.ConvShape, relu bool) {
	g := buf(dy)
	pixels := s.N * s.H * s.W
	if relu {
		b.reluMask(g, buf(y), pixels*s.Cout)
	}
	b.colSums(buf(db), g, pixels, s.Cout)
	b.convDW(buf(dw), buf(x), g, s)
	if dx != nil {
		b.conv(buf(dx), g, buf(w), nil, s.N, s.H, s.W, s.Cout, s.Cin, true, false)
	}
}

// MaxPool2 writes the 2×2 window maxima to y and their positions (0..3) to arg.
func (b *Backend) MaxPool2(y, arg, x backend.Buf, s nn.PoolShape) {
	n := s.N * s.OutH() * s.OutW() * s.C
	gx, gy := grid1D(n)
	b.dispatch("maxpool2", u32s{uint32(s.N), uint32(s.H), uint32(s.W), uint32(s.C), uint32(n)},
		[]*Buf{buf(x), buf(y), buf(arg)}, gx, gy, 1)
}

// MaxPool2Back routes each output gradient to its window's maximum; dx is overwritten.
func (b *Backend) MaxPool2Back(dx, dy, arg backend.Buf, s nn.PoolShape) {
	n := s.N * s.H * s.W * s.C
	gx, gy := grid1D(n)
	b.dispatch("maxpool2_back", u32s{uint32(s.N), uint32(s.H), uint32(s.W), uint32(s.C), uint32(n)},
		[]*Buf{buf(dx), buf(dy), buf(arg)}, gx, gy, 1)
}
