package gpu

import (
	"errors"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/nn"
)

var errTodoConv = errors.New("gpu: conv/pool kernels are not written yet")

func (b *Backend) Conv3x3(y, x, w, bias backend.Buf, s nn.ConvShape, relu bool) { b.fail(errTodoConv) }
func (b *Backend) Conv3x3Back(dx, dw, db, dy, x, w, y backend.Buf, s nn.ConvShape, relu bool) {
	b.fail(errTodoConv)
}
func (b *Backend) MaxPool2(y, arg, x backend.Buf, s nn.PoolShape)       { b.fail(errTodoConv) }
func (b *Backend) MaxPool2Back(dx, dy, arg backend.Buf, s nn.PoolShape) { b.fail(errTodoConv) }
