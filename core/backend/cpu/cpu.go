// Package cpu is the reference backend: every operation runs at once, in plain Go, by calling the
// reference kernel of its domain package. The GPU backend's kernels are checked against it.
package cpu

import (
	"fmt"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/internal/par"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/nn"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/optim"
)

// Buf is a host slice: exactly one of F (float32), U (uint32) or B (uint8 images) is set.
type Buf struct {
	F []float32
	U []uint32
	B []uint8
}

// Len returns the number of elements.
func (b *Buf) Len() int { return max(len(b.F), len(b.U), len(b.B)) }

// Backend is the CPU reference backend.
type Backend struct {
	allocated uint64 // bytes of the buffers allocated so far, images included
}

// New returns a CPU backend.
func New() *Backend { return &Backend{} }

var _ backend.Backend = (*Backend)(nil)

func f(b backend.Buf) []float32 {
	if b == nil {
		return nil
	}
	return b.(*Buf).F
}

func u(b backend.Buf) []uint32 { return b.(*Buf).U }

// Name identifies the backend.
func (*Backend) Name() string { return "cpu" }

// Alloc returns n zeroed float32 values.
func (b *Backend) Alloc(n int) backend.Buf {
	b.allocated += 4 * uint64(n)
	return &Buf{F: make([]float32, n)}
}

// AllocU32 returns n zeroed uint32 values.
func (b *Backend) AllocU32(n int) backend.Buf {
	b.allocated += 4 * uint64(n)
	return &Buf{U: make([]uint32, n)}
}

// AllocatedBytes is the size of all buffers allocated so far: the run's working memory, as the GPU
// backend reports its device memory.
func (b *Backend) AllocatedBytes() uint64 { return b.allocated }

// View returns a sub-range sharing storage with b.
func (*Backend) View(b backend.Buf, off, n int) backend.Buf {
	if off%backend.Align != 0 {
		panic(fmt.Sprintf("cpu: view offset %d is not a multiple of %d", off, backend.Align))
	}
	s := b.(*Buf)
	switch {
	case s.F != nil:
		return &Buf{F: s.F[off : off+n : off+n]}
	case s.U != nil:
		return &Buf{U: s.U[off : off+n : off+n]}
	}
	return &Buf{B: s.B[off : off+n : off+n]}
}

// Write copies src into dst.
func (*Backend) Write(dst backend.Buf, src []float32) { copy(f(dst), src) }

// WriteU32 copies src into dst.
func (*Backend) WriteU32(dst backend.Buf, src []uint32) { copy(u(dst), src) }

// Read copies src to dst.
func (*Backend) Read(src backend.Buf, dst []float32) error { copy(dst, f(src)); return nil }

// ReadU32 copies src to dst.
func (*Backend) ReadU32(src backend.Buf, dst []uint32) error { copy(dst, u(src)); return nil }

// ReadAsync copies at once (the CPU's work is already done).
func (*Backend) ReadAsync(src backend.Buf) func(dst []float32) error {
	snap := append([]float32(nil), f(src)...)
	return func(dst []float32) error { copy(dst, snap); return nil }
}

// Flush does nothing: work is done when called.
func (*Backend) Flush() error { return nil }

// Close does nothing.
func (*Backend) Close() {}

// UploadImages keeps the pixels as they are.
func (b *Backend) UploadImages(pix []uint8) backend.Buf {
	b.allocated += uint64(len(pix))
	return &Buf{B: pix}
}

// Augment makes one view per row; rows holds one dataset index per row.
func (*Backend) Augment(dst, images, rows backend.Buf, p augment.Batch) {
	pix, idx, out := images.(*Buf).B, u(rows), f(dst)
	in, o := p.InH*p.InW*p.C, p.OutH*p.OutW*p.C
	par.For(p.Rows, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			id := p.Base + uint32(r)
			prm := augment.Draw(p.Cfg, p.Key, p.Step, id, p.InH, p.InW)
			src := pix[int(idx[r])*in:][:in]
			augment.Apply(out[r*o:(r+1)*o], src, p.InH, p.InW, p.C, p.OutH, p.OutW, prm, p.Cfg.NoiseStd, p.Key, p.Step, id)
		}
	})
}

// Conv3x3 is nn.Conv3x3.
func (*Backend) Conv3x3(y, x, w, b backend.Buf, s nn.ConvShape, relu bool) {
	nn.Conv3x3(f(y), f(x), f(w), f(b), s, relu)
}

// Conv3x3Back is nn.Conv3x3Back.
func (*Backend) Conv3x3Back(dx, dw, db, dy, x, w, y backend.Buf, s nn.ConvShape, relu bool) {
	nn.Conv3x3Back(f(dx), f(dw), f(db), f(dy), f(x), f(w), f(y), s, relu)
}

// MaxPool2 is nn.MaxPool2.
func (*Backend) MaxPool2(y, arg, x backend.Buf, s nn.PoolShape) { nn.MaxPool2(f(y), u(arg), f(x), s) }

// MaxPool2Back is nn.MaxPool2Back.
func (*Backend) MaxPool2Back(dx, dy, arg backend.Buf, s nn.PoolShape) {
	nn.MaxPool2Back(f(dx), f(dy), u(arg), s)
}

// Linear is nn.Linear.
func (*Backend) Linear(y, x, w, b backend.Buf, m, k, n int, relu bool) {
	nn.Linear(f(y), f(x), f(w), f(b), m, k, n, relu)
}

// LinearBack is nn.LinearBack.
func (*Backend) LinearBack(dx, dw, db, dy, x, w, y backend.Buf, m, k, n int, relu bool) {
	nn.LinearBack(f(dx), f(dw), f(db), f(dy), f(x), f(w), f(y), m, k, n, relu)
}

// L2Norm is nn.L2Norm.
func (*Backend) L2Norm(y, norm, x backend.Buf, rows, d int) { nn.L2Norm(f(y), f(norm), f(x), rows, d) }

// L2NormBack is nn.L2NormBack.
func (*Backend) L2NormBack(dx, dy, y, norm backend.Buf, rows, d int) {
	nn.L2NormBack(f(dx), f(dy), f(y), f(norm), rows, d)
}

// Similarity computes S = F[:rows]·F[:cols]ᵀ.
func (*Backend) Similarity(s, fb backend.Buf, rows, cols, d int) {
	F := f(fb)
	nn.Gemm(false, true, rows, cols, d, F[:rows*d], F[:cols*d], 0, f(s))
}

// SurrogateBack is objective.SurrogateBack.
func (*Backend) SurrogateBack(df, omega, fb backend.Buf, rows, cols, d int, scale float32) {
	objective.SurrogateBack(f(df), f(omega), f(fb), rows, cols, d, scale)
}

// SimCLRWeights is objective.SimCLRWeights.
func (*Backend) SimCLRWeights(omega, stats, s backend.Buf, p objective.Shape) {
	objective.SimCLRWeights(f(omega), f(stats), f(s), p)
}

// SogCLRWeights is objective.SogCLRWeights.
func (*Backend) SogCLRWeights(omega, stats, s, logU, batch backend.Buf, p objective.SogCLRParams) {
	objective.SogCLRWeights(f(omega), f(stats), f(s), f(logU), u(batch), p)
}

// GatherRows is nn.GatherRows.
func (*Backend) GatherRows(dst, src, idx backend.Buf, dstRow, idxOff, n, d int) {
	nn.GatherRows(f(dst), f(src), u(idx), dstRow, idxOff, n, d)
}

// ScatterRows is nn.ScatterRows.
func (*Backend) ScatterRows(dst, src, idx backend.Buf, n, d int) {
	nn.ScatterRows(f(dst), f(src), u(idx), n, d)
}

// ChainRows is mcmc.ChainRows.
func (*Backend) ChainRows(rows, chainIdx, batch backend.Buf, b int) {
	mcmc.ChainRows(u(rows), u(chainIdx), u(batch), b)
}

// MHSweep is mcmc.Sweep.
func (*Backend) MHSweep(omega, stats, s, chainIdx, chainScore, batch backend.Buf, p mcmc.Params) {
	mcmc.Sweep(f(omega), f(stats), f(s), u(chainIdx), f(chainScore), u(batch), p)
}

// OptimStep is optim.Step.
func (*Backend) OptimStep(params, grads, m, v backend.Buf, p optim.Params) {
	optim.Step(f(params), f(grads), f(m), f(v), p)
}
