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

// convParams is struct Params of shaders/conv.wgsl.
type convParams struct {
	N, H, W      uint32
	C1, C2       uint32 // channels read and written
	Bias, Relu   uint32
	RowsPerChunk uint32 // conv3x3_dw
	Count        uint32 // conv3x3_dw_sum
	Chunks       uint32 // conv3x3_dw_sum
	Quads        uint32 // conv3x3_v4, conv3x3_dx_v4: groups of 4 output channels per invocation
}

// poolParams is struct Params of shaders/pool.wgsl.
type poolParams struct{ N, H, W, C, Total uint32 }

// conv records the implicit-GEMM convolution of an n×h×w×c1 image into n×h×w×c2 (+ bias) (then
// ReLU); flip computes dX from dY with the rotated, channel-transposed filter. bias may be nil.
func (b *Backend) conv(out, in, w, bias *Buf, n, h, wd, c1, c2 int, flip, relu bool) {
	hasBias := bias != nil
	if !hasBias {
		bias = w // the kernel reads no bias, but its layout has the (read-only) binding
	}
	entry := b.pick("conv3x3", "conv3x3_tiled")
	if flip {
		entry = b.pick("conv3x3_dx", "conv3x3_dx_tiled")
	}
	params := convParams{N: uint32(n), H: uint32(h), W: uint32(wd), C1: uint32(c1), C2: uint32(c2), Bias: bit(hasBias), Relu: bit(relu)}
	bufs := binds{"A": in, "B": w, "C": out, "D": bias}
	quads := 1 // groups of 4 output channels per invocation (only the _v4 kernels take more)
	if !b.tiled && c1%4 == 0 && c2%4 == 0 && in.off%4 == 0 && w.off%4 == 0 {
		entry += "_v4" // four channels per load (conv.wgsl)
		bufs = binds{"A4": in, "B4": w, "C": out, "D": bias}
		if c2%64 == 0 { // two per invocation, and no idle invocation in a workgroup's 8 columns
			quads = 2
		}
	}
	params.Quads = uint32(quads)
	b.dispatch(entry, params, bufs, ceilDiv(c2, 32*quads), ceilDiv(n*h*wd, b.tileRows()), 1)
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
	params := convParams{N: uint32(s.N), H: uint32(s.H), W: uint32(s.W), C1: uint32(s.Cin), C2: uint32(s.Cout),
		RowsPerChunk: uint32(rowsPer), Count: uint32(count), Chunks: uint32(chunks)}
	entry, bufs := b.pick("conv3x3_dw", "conv3x3_dw_tiled"), binds{"A": x, "B": dy, "C": part}
	if !b.tiled && s.Cin%8 == 0 && s.Cout%4 == 0 && x.off%4 == 0 && dy.off%4 == 0 {
		entry, bufs = "conv3x3_dw_v4", binds{"A4": x, "B4": dy, "C": part} // four channels per load (conv.wgsl)
	}
	b.dispatch(entry, params, bufs, ceilDiv(s.Cout, 32), ceilDiv(count/s.Cout, b.tileRows()), chunks)
	if chunks > 1 {
		gx, gy := grid1D(count)
		b.dispatch("conv3x3_dw_sum", params, binds{"A": part, "C": dw}, gx, gy, 1)
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
	b.colSums(buf(db), g, reluOut(relu, y), pixels, s.Cout)
	b.convDW(buf(dw), buf(x), g, s)
	if dx != nil {
		b.conv(buf(dx), g, buf(w), nil, s.N, s.H, s.W, s.Cout, s.Cin, true, false)
	}
}

// MaxPool2 writes the 2×2 window maxima to y and their positions (0..3) to arg.
func (b *Backend) MaxPool2(y, arg, x backend.Buf, s nn.PoolShape) {
	n := s.N * s.OutH() * s.OutW() * s.C
	gx, gy := grid1D(n)
	b.dispatch("maxpool2", poolParams{N: uint32(s.N), H: uint32(s.H), W: uint32(s.W), C: uint32(s.C), Total: uint32(n)},
		binds{"X": buf(x), "Y": buf(y), "Arg": buf(arg)}, gx, gy, 1)
}

// MaxPool2Back routes each output gradient to its window's maximum; dx is overwritten.
func (b *Backend) MaxPool2Back(dx, dy, arg backend.Buf, s nn.PoolShape) {
	n := s.N * s.OutH() * s.OutW() * s.C
	if n == 0 { // an image under 2×2: no window, so the kernel writes nothing and dX is all zero
		b.Write(dx, make([]float32, s.N*s.H*s.W*s.C))
		return
	}
	gx, gy := grid1D(n)
	b.dispatch("maxpool2_back", poolParams{N: uint32(s.N), H: uint32(s.H), W: uint32(s.W), C: uint32(s.C), Total: uint32(n)},
		binds{"X": buf(dx), "Y": buf(dy), "Arg": buf(arg)}, gx, gy, 1)
}
