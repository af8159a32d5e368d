package gpu

import (
	"math"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
)

// Kernels of shaders/l2norm.wgsl, shaders/objective.wgsl and shaders/mh_sweep.wgsl.

// numCounts is the number of per-chain MH counters (objective.StatProposals .. StatState).
const numCounts = objective.NumStats - objective.StatProposals

// l2normParams is struct Params of shaders/l2norm.wgsl.
type l2normParams struct{ Rows, D uint32 }

// L2Norm writes y = x/max(‖x‖, NormEps) row by row and the norms (nn.L2Norm).
func (b *Backend) L2Norm(y, norm, x backend.Buf, rows, d int) {
	gx, gy := grid2D(rows)
	b.dispatch("l2norm", l2normParams{Rows: uint32(rows), D: uint32(d)},
		binds{"Y": buf(y), "Norm": buf(norm), "In": buf(x)}, gx, gy, 1)
}

// L2NormBack computes dx = (dy − y·⟨y, dy⟩)/‖x‖ (nn.L2NormBack).
func (b *Backend) L2NormBack(dx, dy, y, norm backend.Buf, rows, d int) {
	gx, gy := grid2D(rows)
	b.dispatch("l2norm_back", l2normParams{Rows: uint32(rows), D: uint32(d)},
		binds{"Y": buf(y), "Norm": buf(norm), "In": buf(dy), "DX": buf(dx)}, gx, gy, 1)
}

// objParams is struct Params of shaders/objective.wgsl.
type objParams struct {
	B, Cols          uint32
	Beta             float32
	Avg              uint32  // sogclr_weights: 1 when γ < 1
	Lg1, Lg2, LogNeg float32 // sogclr_weights: log(1 − γ), log γ, log(2B − 2)
	Rows, ZeroRest   uint32  // loss_total
}

func shapeParams(s objective.Shape) objParams {
	return objParams{B: uint32(s.B), Cols: uint32(s.Cols), Beta: s.Beta}
}

// lossTotal writes stats[StatLoss] = the mean of the per-row losses in rowLoss (and zeroes the other
// statistics when zeroRest).
func (b *Backend) lossTotal(rowLoss, stats *Buf, rows int, zeroRest bool) {
	b.dispatch("loss_total", objParams{Rows: uint32(rows), ZeroRest: bit(zeroRest)},
		binds{"RowLoss": rowLoss, "Stats": stats}, 1, 1, 1)
}

// SimCLRWeights fills Ω for NT-Xent and writes the statistics (objective.SimCLRWeights).
func (b *Backend) SimCLRWeights(omega, stats, s backend.Buf, p objective.Shape) {
	rowLoss := b.scratchBuf("objective.row_loss", p.Rows())
	b.dispatch("simclr_weights", shapeParams(p), binds{"S": buf(s), "Omega": buf(omega), "RowLoss": rowLoss}, p.Rows(), 1, 1)
	b.lossTotal(rowLoss, buf(stats), p.Rows(), true)
}

// SogCLRWeights fills Ω for SogCLR, updates log u of the batch's images and writes the statistics
// (objective.SogCLRWeights). The batch must hold distinct images.
func (b *Backend) SogCLRWeights(omega, stats, s, logU, batch backend.Buf, p objective.SogCLRParams) {
	o := shapeParams(p.Shape)
	o.LogNeg = float32(math.Log(float64(2*p.B - 2)))
	if p.Gamma < 1 {
		o.Avg, o.Lg1, o.Lg2 = 1, finiteLog(1-float64(p.Gamma)), finiteLog(float64(p.Gamma))
	}
	rowLoss := b.scratchBuf("objective.row_loss", p.Rows())
	b.dispatch("sogclr_weights", o, binds{"S": buf(s), "Omega": buf(omega), "RowLoss": rowLoss,
		"LogU": buf(logU), "Batch": buf(batch)}, p.B, 1, 1)
	b.lossTotal(rowLoss, buf(stats), p.Rows(), true)
}

// finiteLog is log x as a float32, with log 0 = −MaxFloat32 (WGSL assumes finite floats).
func finiteLog(x float64) float32 {
	if !(x > 0) {
		return -math.MaxFloat32
	}
	return float32(math.Log(x))
}

// mhParams is struct Params of shaders/mh_sweep.wgsl.
type mhParams struct {
	B, Cols    uint32
	Beta       float32
	Burn       int32   // Params.BurnInSteps()
	Inv        float32 // 1/Params.Norm()
	Variant    uint32
	Key0, Key1 uint32
	Step       uint32
}

// ChainRows writes rows[2B+k] = the dataset index of chain k's state (mcmc.ChainRows).
func (b *Backend) ChainRows(rows, chainIdx, batch backend.Buf, n int) {
	b.dispatch("chain_rows", mhParams{B: uint32(n)}, binds{"ChainIdx": buf(chainIdx), "Batch": buf(batch), "Rows": buf(rows)},
		ceilDiv(n, wg), 1, 1)
}

// MHSweep runs EMC²'s chains over S and writes Ω, the chain state and the statistics (mcmc.Sweep):
// one invocation per chain on software adapters, one workgroup per chain with the tiled kernels
// (SetTiled), then the in-order reduction of the counts and the InfoNCE statistic.
// The batch must hold distinct images.
func (b *Backend) MHSweep(omega, stats, s, chainIdx, chainScore, batch backend.Buf, p mcmc.Params) {
	params := mhParams{B: uint32(p.B), Cols: uint32(p.Cols), Beta: p.Beta, Burn: int32(p.BurnInSteps()),
		Inv:     1 / float32(p.Norm()), // rounded here, like the Go twin (WGSL division is not exact)
		Variant: uint32(p.Variant), Key0: p.Key.K0, Key1: p.Key.K1, Step: p.Step}
	counts := b.scratchBuf("mh.counts", numCounts*p.B)
	groups := ceilDiv(p.B, wg) // mh_sweep: an invocation per chain
	if b.tiled {
		groups = p.B // mh_sweep_staged: a workgroup per chain
	}
	b.dispatch(b.pick("mh_sweep", "mh_sweep_staged"), params, binds{"Omega": buf(omega), "S": buf(s), "ChainIdx": buf(chainIdx),
		"ChainScore": buf(chainScore), "Batch": buf(batch), "Counts": counts}, groups, 1, 1)
	b.dispatch("mh_stats", params, binds{"Counts": counts, "Stats": buf(stats)}, 1, 1, 1)
	rowLoss := b.scratchBuf("objective.row_loss", p.Rows())
	b.dispatch("infonce_rows", shapeParams(p.Shape), binds{"S": buf(s), "RowLoss": rowLoss}, p.Rows(), 1, 1)
	b.lossTotal(rowLoss, buf(stats), p.Rows(), false)
}
