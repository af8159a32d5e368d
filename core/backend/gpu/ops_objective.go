package gpu

import (
	"math"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
)

// Kernels of shaders/l2norm.wgsl, shaders/objective.wgsl and shaders/mh_sweep.wgsl.

// numCounts is the number of per-chain MH counters (objective.StatProposals .. StatState).
const numCounts = objective.NumStats - 1

// L2Norm writes y = x/max(‖x‖, NormEps) row by row and the norms (nn.L2Norm).
func (b *Backend) L2Norm(y, norm, x backend.Buf, rows, d int) {
	gx, gy := grid2D(rows)
	b.dispatch("l2norm", u32s{uint32(rows), uint32(d)}, []*Buf{buf(y), buf(norm), buf(x), b.dummy(0)}, gx, gy, 1)
}

// L2NormBack computes dx = (dy − y·⟨y, dy⟩)/‖x‖ (nn.L2NormBack).
func (b *Backend) L2NormBack(dx, dy, y, norm backend.Buf, rows, d int) {
	gx, gy := grid2D(rows)
	b.dispatch("l2norm_back", u32s{uint32(rows), uint32(d)}, []*Buf{buf(y), buf(norm), buf(dy), buf(dx)}, gx, gy, 1)
}

// objParams is the parameter block of shaders/objective.wgsl.
type objParams struct {
	shape          objective.Shape
	avg            bool
	lg1, lg2       float32
	logNeg         float32
	rows, zeroRest uint32
}

func (o objParams) words() u32s {
	return u32s{uint32(o.shape.B), uint32(o.shape.Cols), f(o.shape.Beta), bit(o.avg), f(o.lg1), f(o.lg2),
		f(o.logNeg), o.rows, o.zeroRest}
}

// objDispatch records one objective-family entry point; logU and batch may be nil.
func (b *Backend) objDispatch(entry string, o objParams, s, omega, stats, logU, batch *Buf, groups int) {
	if logU == nil {
		logU = b.dummy(0)
	}
	if batch == nil {
		batch = b.dummy(1)
	}
	rowLoss := b.scratchBuf("objective.row_loss", o.shape.Rows())
	b.dispatch(entry, o.words(), []*Buf{s, omega, stats, rowLoss, logU, batch}, groups, 1, 1)
}

// lossTotal writes stats[StatLoss] = the mean of the per-row losses (and zeroes the other
// statistics when zeroRest).
func (b *Backend) lossTotal(o objParams, s, omega, stats *Buf, zeroRest bool) {
	o.rows, o.zeroRest = uint32(o.shape.Rows()), bit(zeroRest)
	b.objDispatch("loss_total", o, s, omega, stats, nil, nil, 1)
}

// SimCLRWeights fills Ω for NT-Xent and writes the statistics (objective.SimCLRWeights).
func (b *Backend) SimCLRWeights(omega, stats, s backend.Buf, p objective.Shape) {
	o := objParams{shape: p}
	b.objDispatch("simclr_weights", o, buf(s), buf(omega), buf(stats), nil, nil, p.Rows())
	b.lossTotal(o, buf(s), buf(omega), buf(stats), true)
}

// SogCLRWeights fills Ω for SogCLR, updates log u of the batch's images and writes the statistics
// (objective.SogCLRWeights). The batch must hold distinct images.
func (b *Backend) SogCLRWeights(omega, stats, s, logU, batch backend.Buf, p objective.SogCLRParams) {
	o := objParams{shape: p.Shape, avg: p.Gamma < 1, logNeg: float32(math.Log(float64(2*p.B - 2)))}
	if o.avg {
		o.lg1, o.lg2 = finiteLog(1-float64(p.Gamma)), finiteLog(float64(p.Gamma))
	}
	b.objDispatch("sogclr_weights", o, buf(s), buf(omega), buf(stats), buf(logU), buf(batch), p.B)
	b.lossTotal(o, buf(s), buf(omega), buf(stats), true)
}

// finiteLog is log x as a float32, with log 0 = −MaxFloat32 (WGSL assumes finite floats).
func finiteLog(x float64) float32 {
	if !(x > 0) {
		return -math.MaxFloat32
	}
	return float32(math.Log(x))
}

// ChainRows writes rows[2B+k] = the dataset index of chain k's state (mcmc.ChainRows).
func (b *Backend) ChainRows(rows, chainIdx, batch backend.Buf, n int) {
	params := u32s{uint32(n), 0, 0, 0, 0, 0, 0, 0, 0}
	bufs := []*Buf{b.dummy(0), b.dummy(1), buf(chainIdx), b.dummy(2), buf(batch), b.dummy(3), b.dummy(4), buf(rows)}
	b.dispatch("chain_rows", params, bufs, ceilDiv(n, 64), 1, 1)
}

// MHSweep runs EMC²'s chains over S and writes Ω, the chain state and the statistics (mcmc.Sweep):
// one invocation per chain, then the in-order reduction of the counts and the InfoNCE statistic.
// The batch must hold distinct images.
func (b *Backend) MHSweep(omega, stats, s, chainIdx, chainScore, batch backend.Buf, p mcmc.Params) {
	inv := 1 / float32(p.Norm()) // rounded here, like the Go twin (WGSL division is not exact)
	params := u32s{uint32(p.B), uint32(p.Cols), f(p.Beta), uint32(int32(p.BurnInSteps())), f(inv),
		uint32(p.Variant), p.Key.K0, p.Key.K1, p.Step}
	bufs := []*Buf{buf(omega), buf(s), buf(chainIdx), buf(chainScore), buf(batch), b.scratchBuf("mh.counts", numCounts*p.B),
		buf(stats), b.dummy(0)}
	b.dispatch("mh_sweep", params, bufs, ceilDiv(p.B, 64), 1, 1)
	b.dispatch("mh_stats", params, bufs, 1, 1, 1)
	o := objParams{shape: p.Shape}
	b.objDispatch("infonce_rows", o, buf(s), buf(omega), buf(stats), nil, nil, p.Rows())
	b.lossTotal(o, buf(s), buf(omega), buf(stats), false)
}
