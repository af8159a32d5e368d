// Package backend defines the compute interface that a training step runs on.
//
// A step is a fixed sequence of operations over device buffers: augment the batch, run the encoder
// forward, build the similarity matrix, let the method (SimCLR, SogCLR or EMC²) turn it into weights,
// back-propagate and update the parameters. The CPU backend (backend/cpu) runs each operation at once
// with the plain-Go reference kernels of the domain packages (nn, augment, objective, mcmc, optim).
// A GPU backend records the same calls into one command encoder and submits once per step, so
// nothing in this interface returns data except Read, which callers use only every N steps.
//
// Buffers hold float32 or uint32 values; which one is fixed when they are allocated. A View is a
// sub-range of a buffer; its offset must be a multiple of Align so that a GPU can bind it.
package backend

import (
	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/nn"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/optim"
)

// Align is the offset granularity of views, in elements (256 bytes).
const Align = 64

// Buf is a device buffer (or a view of one).
type Buf interface {
	Len() int // number of elements
}

// Backend runs the operations of a training step.
type Backend interface {
	Name() string
	// Alloc returns a zeroed buffer of n float32 values; AllocU32 of n uint32 values.
	Alloc(n int) Buf
	AllocU32(n int) Buf
	// View returns elements [off, off+n) of b; off must be a multiple of Align.
	View(b Buf, off, n int) Buf
	Write(dst Buf, src []float32)
	WriteU32(dst Buf, src []uint32)
	// Read and ReadU32 copy a buffer back to the host, waiting for queued work.
	Read(src Buf, dst []float32) error
	ReadU32(src Buf, dst []uint32) error
	// ReadAsync starts copying src back to the host after the work queued so far and returns at
	// once; wait blocks until the copy has arrived (by the next call it usually has) and fills dst.
	// Training uses it for its statistics, so the GPU never idles waiting for the host.
	ReadAsync(src Buf) (wait func(dst []float32) error)
	// Flush submits queued work without waiting (a no-op on the CPU).
	Flush() error
	Close()

	// UploadImages stores a dataset's uint8 pixels on the device.
	UploadImages(pix []uint8) Buf
	// Augment writes one float32 view per row of p.Rows (image index, view id) into dst.
	Augment(dst, images, rows Buf, p augment.Batch)

	Conv3x3(y, x, w, b Buf, s nn.ConvShape, relu bool)
	Conv3x3Back(dx, dw, db, dy, x, w, y Buf, s nn.ConvShape, relu bool) // dx may be nil
	MaxPool2(y, arg, x Buf, s nn.PoolShape)
	MaxPool2Back(dx, dy, arg Buf, s nn.PoolShape)
	Linear(y, x, w, b Buf, m, k, n int, relu bool)
	LinearBack(dx, dw, db, dy, x, w, y Buf, m, k, n int, relu bool) // dx may be nil
	L2Norm(y, norm, x Buf, rows, d int)
	L2NormBack(dx, dy, y, norm Buf, rows, d int)

	// Similarity writes S = F[:rows]·F[:cols]ᵀ (rows×cols) for row-major F with d columns.
	Similarity(s, f Buf, rows, cols, d int)
	// SurrogateBack writes dF = scale·(Ω·F[:cols] on the first rows + Ωᵀ·F[:rows]), the gradient of
	// scale·Σ Ω⊙S with Ω held constant.
	SurrogateBack(df, omega, f Buf, rows, cols, d int, scale float32)

	// GatherRows copies n rows of d values: dst row dstRow+k = src row idx[idxOff+k]; ScatterRows
	// copies dst row idx[k] = src row k (distinct indices). EMC²'s cached sampler keeps one
	// embedding per training image with them.
	GatherRows(dst, src, idx Buf, dstRow, idxOff, n, d int)
	ScatterRows(dst, src, idx Buf, n, d int)

	// The methods' weight kernels. Each fills Ω (2B×cols) from S and writes step statistics to stats
	// (objective.NumStats values).
	SimCLRWeights(omega, stats, s Buf, p objective.Shape)
	SogCLRWeights(omega, stats, s, logU, batch Buf, p objective.SogCLRParams)
	// ChainRows writes, for the fresh EMC² variant, the image index of each chain's current state into
	// rows[2B+k] (or the anchor's own index while the chain is empty).
	ChainRows(rows, chainIdx, batch Buf, b int)
	MHSweep(omega, stats, s, chainIdx, chainScore, batch Buf, p mcmc.Params)

	// OptimStep updates params in place from grads; m and v are the optimizer's state buffers.
	OptimStep(params, grads, m, v Buf, p optim.Params)
}

// Profiler is implemented by backends that can time each kernel on its own (GPUs): while profiling
// is on, every kernel runs alone with the device drained around it.
type Profiler interface {
	Profile(on bool)
	Profiled() []KernelTime // per kernel since profiling was first turned on, slowest first
}

// KernelTime is one kernel's share of the profiled work: wall time with the queue empty before and
// after each dispatch and, where the device has timestamp queries (Timestamper), the time its
// passes took on the GPU's own clock.
type KernelTime struct {
	Kernel     string  `json:"kernel"`
	File       string  `json:"file"`
	Dispatches int     `json:"dispatches"`
	Seconds    float64 `json:"seconds"`
	GPUSeconds float64 `json:"gpu_seconds,omitempty"`
}

// Timestamper is implemented by profilers that can say whether they also time each kernel on the
// GPU's clock (KernelTime.GPUSeconds).
type Timestamper interface {
	Timestamps() bool
}

// Limited is implemented by backends that cap the size of a buffer one kernel can bind (GPUs).
type Limited interface {
	MaxBindingBytes() uint64
}
