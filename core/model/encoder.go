package model

import (
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/nn"
	"github.com/emc2ml/emc2/core/optim"
)

// Encoder holds the parameters, gradients and activations of an Arch on a backend, for up to MaxRows
// images per call.
type Encoder struct {
	Arch
	MaxRows  int
	Segments []optim.Segment
	Params   backend.Buf // the parameter arena
	Grads    backend.Buf // gradients, same layout

	be        backend.Backend
	w, b      []backend.Buf // per layer: convs..., hidden, proj
	dw, db    []backend.Buf
	conv      []backend.Buf // conv outputs (post-ReLU)
	pool, arg []backend.Buf
	dconv     []backend.Buf
	dpool     []backend.Buf
	Hidden    backend.Buf // hidden features (rows × Hidden), post-ReLU: what the probe reads
	dHidden   backend.Buf
	z, norm   backend.Buf // projection output before normalisation, and its row norms
	dz        backend.Buf
	Out       backend.Buf // L2-normalised embeddings (rows × Proj)
}

// NewEncoder allocates an encoder on be with the given initial parameters.
func NewEncoder(be backend.Backend, a Arch, maxRows int, init []float32) *Encoder {
	_, total := a.Layout()
	params := be.Alloc(total)
	be.Write(params, init)
	return newEncoder(be, a, maxRows, params)
}

// Twin returns an encoder over the same parameters with its own gradients and activations, for up
// to maxRows images per call: evaluation and embedding run on it without touching training's state.
func (e *Encoder) Twin(maxRows int) *Encoder { return newEncoder(e.be, e.Arch, maxRows, e.Params) }

func newEncoder(be backend.Backend, a Arch, maxRows int, params backend.Buf) *Encoder {
	segs, total := a.Layout()
	e := &Encoder{Arch: a, MaxRows: maxRows, Segments: segs, be: be, Params: params, Grads: be.Alloc(total)}
	for i := 0; i < len(segs); i += 2 {
		e.w = append(e.w, be.View(e.Params, segs[i].Off, segs[i].Len))
		e.b = append(e.b, be.View(e.Params, segs[i+1].Off, segs[i+1].Len))
		e.dw = append(e.dw, be.View(e.Grads, segs[i].Off, segs[i].Len))
		e.db = append(e.db, be.View(e.Grads, segs[i+1].Off, segs[i+1].Len))
	}
	convs, _ := a.convShapes(maxRows)
	for _, s := range convs {
		n := s.N * s.H * s.W * s.Cout
		p := s.N * (s.H / 2) * (s.W / 2) * s.Cout
		e.conv, e.dconv = append(e.conv, be.Alloc(n)), append(e.dconv, be.Alloc(n))
		e.pool, e.dpool = append(e.pool, be.Alloc(p)), append(e.dpool, be.Alloc(p))
		e.arg = append(e.arg, be.AllocU32(p))
	}
	e.Hidden, e.dHidden = be.Alloc(maxRows*a.Hidden), be.Alloc(maxRows*a.Hidden)
	e.z, e.dz, e.Out = be.Alloc(maxRows*a.Proj), be.Alloc(maxRows*a.Proj), be.Alloc(maxRows*a.Proj)
	e.norm = be.Alloc(maxRows)
	return e
}

// InputLen is the number of floats of one input image.
func (e *Encoder) InputLen() int { return e.InH * e.InW * e.InC }

// Forward runs rows images of x (NHWC float32) through the encoder, leaving the hidden features in
// e.Hidden and the embeddings in e.Out.
func (e *Encoder) Forward(x backend.Buf, rows int) {
	convs, flat := e.convShapes(rows)
	in := x
	for i, s := range convs {
		e.be.Conv3x3(e.conv[i], in, e.w[i], e.b[i], s, true)
		e.be.MaxPool2(e.pool[i], e.arg[i], e.conv[i], poolOf(s))
		in = e.pool[i]
	}
	L := len(convs)
	e.be.Linear(e.Hidden, in, e.w[L], e.b[L], rows, flat, e.Arch.Hidden, true)
	e.be.Linear(e.z, e.Hidden, e.w[L+1], e.b[L+1], rows, e.Arch.Hidden, e.Proj, false)
	e.be.L2Norm(e.Out, e.norm, e.z, rows, e.Proj)
}

// Backward back-propagates dOut (rows × Proj, the loss gradient w.r.t. e.Out) from the activations of
// the last Forward with the same x, writing the parameter gradients to e.Grads.
func (e *Encoder) Backward(x, dOut backend.Buf, rows int) {
	convs, flat := e.convShapes(rows)
	L := len(convs)
	e.be.L2NormBack(e.dz, dOut, e.Out, e.norm, rows, e.Proj)
	e.be.LinearBack(e.dHidden, e.dw[L+1], e.db[L+1], e.dz, e.Hidden, e.w[L+1], e.z, rows, e.Arch.Hidden, e.Proj, false)
	e.be.LinearBack(e.dpool[L-1], e.dw[L], e.db[L], e.dHidden, e.pool[L-1], e.w[L], e.Hidden, rows, flat, e.Arch.Hidden, true)
	for i := L - 1; i >= 0; i-- {
		s := convs[i]
		e.be.MaxPool2Back(e.dconv[i], e.dpool[i], e.arg[i], poolOf(s))
		var dx, in backend.Buf = nil, x
		if i > 0 {
			dx, in = e.dpool[i-1], e.pool[i-1]
		}
		e.be.Conv3x3Back(dx, e.dw[i], e.db[i], e.dconv[i], in, e.w[i], e.conv[i], s, true)
	}
}

func poolOf(s nn.ConvShape) nn.PoolShape { return nn.PoolShape{N: s.N, H: s.H, W: s.W, C: s.Cout} }
