package gpu

import (
	"errors"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
)

var errTodoObjective = errors.New("gpu: L2-norm/objective/MH kernels are not written yet")

func (b *Backend) L2Norm(y, norm, x backend.Buf, rows, d int)          { b.fail(errTodoObjective) }
func (b *Backend) L2NormBack(dx, dy, y, norm backend.Buf, rows, d int) { b.fail(errTodoObjective) }
func (b *Backend) SimCLRWeights(omega, stats, s backend.Buf, p objective.Shape) {
	b.fail(errTodoObjective)
}
func (b *Backend) SogCLRWeights(omega, stats, s, logU, batch backend.Buf, p objective.SogCLRParams) {
	b.fail(errTodoObjective)
}
func (b *Backend) ChainRows(rows, chainIdx, batch backend.Buf, n int) { b.fail(errTodoObjective) }
func (b *Backend) MHSweep(omega, stats, s, chainIdx, chainScore, batch backend.Buf, p mcmc.Params) {
	b.fail(errTodoObjective)
}
