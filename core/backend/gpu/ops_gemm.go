package gpu

import "github.com/emc2ml/emc2/core/backend"

// gemmParams is struct Params of shaders/gemm.wgsl.
type gemmParams struct {
	M, N, K        uint32
	TransA, TransB uint32
	Alpha, Beta    float32
	Bias, Relu     uint32
}

// gemmOp records C = alpha·op(A)·op(B) + beta·C (+ bias) (then ReLU); bias may be nil. A workgroup
// covers a 32×32 tile of C, with the kernel SetTiled chose.
func (b *Backend) gemmOp(c, a, bb, bias *Buf, m, n, k int, transA, transB bool, alpha, beta float32, relu bool) {
	hasBias := bias != nil
	if !hasBias {
		bias = bb // the kernel reads no bias, but its layout has the (read-only) binding
	}
	params := gemmParams{M: uint32(m), N: uint32(n), K: uint32(k), TransA: bit(transA), TransB: bit(transB),
		Alpha: alpha, Beta: beta, Bias: bit(hasBias), Relu: bit(relu)}
	entry, bufs := b.pick("gemm", "gemm_tiled"), binds{"A": a, "B": bb, "C": c, "bias": bias}
	if !b.tiled && k%4 == 0 && (!transA || m%4 == 0) && (transB || n%4 == 0) && a.off%4 == 0 && bb.off%4 == 0 {
		entry, bufs = "gemm_v4", binds{"A4": a, "B4": bb, "C": c, "bias": bias} // four values of q per load (gemm.wgsl)
	}
	b.dispatch(entry, params, bufs, ceilDiv(n, 32), ceilDiv(m, b.tileRows()), 1)
}

// registerRows is PX of shaders/gemm.wgsl and conv.wgsl: the rows (pixels, dW rows) each invocation
// of the register kernels computes, 64 per 8×8 workgroup, where the tiled kernels' workgroups take 32.
// The kernels are written out for 8 (eight named accumulators): another value means rewriting them.
const registerRows = 8

// tileRows is the rows of C one workgroup of the chosen GEMM or convolution kernel covers.
func (b *Backend) tileRows() int {
	if b.tiled {
		return 32
	}
	return 8 * registerRows
}

// pick returns the version of a kernel that SetTiled chose (two constants, so that
// the per-dispatch path allocates nothing).
func (b *Backend) pick(register, tiled string) string {
	if b.tiled {
		return tiled
	}
	return register
}

// elemParams is struct Params of shaders/elementwise.wgsl.
type elemParams struct{ N, Rows, Chunk uint32 }

// grid1D spreads n invocations of wg-wide workgroups over a 2-D grid when needed.
func grid1D(n int) (x, y int) { return grid2D(ceilDiv(n, wg)) }

// colSumsChunk is the most rows one col_sums invocation adds: a convolution's bias gradient sums
// N·H·W rows (50,176 at B = 32), which one invocation per column would add alone.
const colSumsChunk = 256

// colSums records db[j] = Σ_r g[r·n + j]: partial sums over chunks of rows in parallel, then their
// sum, both in a fixed order (deterministic). With relu (the layer's ReLU output; nil for none), g is
// first zeroed in place where relu ≤ 0, in the same pass (the ReLU's backward).
func (b *Backend) colSums(db, g, relu *Buf, rows, n int) {
	chunk := max(colSumsChunk, ceilDiv(rows, 65535))
	chunks := ceilDiv(rows, chunk)
	first, bs := "col_sums", binds{"X": g}
	if relu != nil {
		first, bs = "col_sums_relu", binds{"X": g, "R": relu}
	}
	if chunks == 1 {
		bs["Y"] = db
		b.dispatch(first, elemParams{N: uint32(n), Rows: uint32(rows), Chunk: uint32(rows)}, bs, ceilDiv(n, wg), 1, 1)
		return
	}
	part := b.scratchBuf("col_sums", chunks*n)
	bs["Y"] = part
	b.dispatch(first, elemParams{N: uint32(n), Rows: uint32(rows), Chunk: uint32(chunk)}, bs, ceilDiv(n, wg), chunks, 1)
	b.dispatch("col_sums", elemParams{N: uint32(n), Rows: uint32(chunks), Chunk: uint32(chunks)}, binds{"X": part, "Y": db}, ceilDiv(n, wg), 1, 1)
}

// reluOut is the ReLU output a layer's backward masks its gradient with, or nil without a ReLU.
func reluOut(relu bool, y backend.Buf) *Buf {
	if !relu {
		return nil
	}
	return buf(y)
}

func buf(x backend.Buf) *Buf {
	if x == nil {
		return nil
	}
	return x.(*Buf)
}

// Linear computes y = x·w + b (then ReLU).
func (b *Backend) Linear(y, x, w, bias backend.Buf, m, k, n int, relu bool) {
	b.gemmOp(buf(y), buf(x), buf(w), buf(bias), m, n, k, false, false, 1, 0, relu)
}

// LinearBack computes the gradients of Linear (dx may be nil); dy holds the masked gradient after.
func (b *Backend) LinearBack(dx, dw, db, dy, x, w, y backend.Buf, m, k, n int, relu bool) {
	b.colSums(buf(db), buf(dy), reluOut(relu, y), m, n)
	b.gemmOp(buf(dw), buf(x), buf(dy), nil, k, n, m, true, false, 1, 0, false)
	if dx != nil {
		b.gemmOp(buf(dx), buf(dy), buf(w), nil, m, k, n, false, true, 1, 0, false)
	}
}

// Similarity computes S = F[:rows]·F[:cols]ᵀ.
func (b *Backend) Similarity(s, fb backend.Buf, rows, cols, d int) {
	b.gemmOp(buf(s), buf(fb), buf(fb), nil, rows, cols, d, false, true, 1, 0, false)
}

// SurrogateBack computes dF = scale·(Ωᵀ·F[:rows] on all cols rows + Ω·F[:cols] on the first rows).
func (b *Backend) SurrogateBack(df, omega, fb backend.Buf, rows, cols, d int, scale float32) {
	dfb := buf(df)
	b.gemmOp(dfb, buf(omega), buf(fb), nil, cols, d, rows, true, false, scale, 0, false)
	b.gemmOp(dfb, buf(omega), buf(fb), nil, rows, d, cols, false, false, scale, 1, false)
}
