package gpu

import (
	"errors"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/optim"
)

var errTodoAugment = errors.New("gpu: augmentation/optimizer kernels are not written yet")

func (b *Backend) Augment(dst, images, rows backend.Buf, p augment.Batch) { b.fail(errTodoAugment) }
func (b *Backend) OptimStep(params, grads, m, v backend.Buf, p optim.Params) {
	b.fail(errTodoAugment)
}
