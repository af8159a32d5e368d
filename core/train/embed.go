package train

import (
	"fmt"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/eval"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/rng"
)

// EmbedRows is the most images an Embedder runs through the encoder per pass.
const EmbedRows = 64

// Embedder runs an encoder forward (and, for the exact global gradient, backward) over dataset
// images, with scratch of its own: it reads the encoder's parameters and writes nothing a training
// step uses, so evaluation, the page's embedding view, exports and experiments can call it between
// steps. Views are made with fixed counters (the augmentation step EvalStep), so the same call gives
// the same views every time.
type Embedder struct {
	be     backend.Backend
	enc    *model.Encoder // over the trainer's parameters; own activations and gradients
	key    rng.Key
	rows   backend.Buf // dataset index per row
	x      backend.Buf // the rows' views
	dOut   backend.Buf // gradient w.r.t. the embeddings (ExactGlobalGrad)
	images map[*data.Dataset]backend.Buf
}

// EvalStep is the augmentation counter of the Embedder's views; training steps never reach it.
const EvalStep = ^uint32(0)

// NewEmbedder returns an embedder over enc's parameters that runs up to rows images per pass; seed
// keys the views' random draws.
func NewEmbedder(be backend.Backend, enc *model.Encoder, seed uint64, rows int) *Embedder {
	twin := enc.Twin(rows)
	return &Embedder{be: be, enc: twin, key: rng.NewKey(seed), rows: be.AllocU32(rows),
		x: be.Alloc(rows * twin.InputLen()), dOut: be.Alloc(rows * twin.Proj), images: map[*data.Dataset]backend.Buf{}}
}

// Share tells the embedder that ds's pixels are on the device already, in images.
func (e *Embedder) Share(ds *data.Dataset, images backend.Buf) { e.images[ds] = images }

// Arch is the encoder's architecture.
func (e *Embedder) Arch() model.Arch { return e.enc.Arch }

func (e *Embedder) upload(ds *data.Dataset) backend.Buf {
	img, ok := e.images[ds]
	if !ok {
		img = e.be.UploadImages(ds.Pix)
		e.images[ds] = img
	}
	return img
}

// pass runs the images idx[lo:lo+n] of ds (views made with aug; view counters base+lo…) forward.
func (e *Embedder) pass(ds *data.Dataset, idx []int, lo, n int, aug augment.Config, base uint32) {
	rows := make([]uint32, n)
	for r := range rows {
		rows[r] = uint32(idx[lo+r])
	}
	e.be.WriteU32(e.rows, rows)
	b := augment.Batch{Base: base + uint32(lo), Rows: n, InH: ds.H, InW: ds.W, C: ds.C, OutH: ds.H, OutW: ds.W,
		Cfg: aug, Key: e.key, Step: EvalStep}
	e.be.Augment(e.x, e.upload(ds), e.rows, b)
	e.enc.Forward(e.x, n)
}

// Embed returns the hidden features and the embeddings of images idx of ds, row by row, under views
// made with aug (augment.Config{} for the plain image) and view counters from base.
func (e *Embedder) Embed(ds *data.Dataset, idx []int, aug augment.Config, base uint32) (hidden, emb []float32, err error) {
	H, P, max := e.enc.Arch.Hidden, e.enc.Proj, e.enc.MaxRows
	hidden, emb = make([]float32, len(idx)*H), make([]float32, len(idx)*P)
	for lo := 0; lo < len(idx); lo += max {
		n := min(max, len(idx)-lo)
		e.pass(ds, idx, lo, n, aug, base)
		if err := e.be.Read(e.enc.Hidden, hidden[lo*H:(lo+n)*H]); err != nil {
			return nil, nil, fmt.Errorf("embed: hidden features: %w", err)
		}
		if err := e.be.Read(e.enc.Out, emb[lo*P:(lo+n)*P]); err != nil {
			return nil, nil, fmt.Errorf("embed: embeddings: %w", err)
		}
	}
	return hidden, emb, nil
}

// EmbedAll embeds every image of ds (plain views).
func (e *Embedder) EmbedAll(ds *data.Dataset) (hidden, emb []float32, err error) {
	return e.Embed(ds, seq(ds.N), augment.Config{}, 0)
}

// ExactGlobalGrad computes the exact global contrastive loss at inverse temperature beta
// (eval.GlobalLoss: every other view is a candidate, the positive included) over the views of images
// idx of ds — row a·n + i must be view a of image i, K = len(idx)/n views each, made with aug — and
// its gradient w.r.t. the parameters (in their layout), by back-propagating the exact feature
// gradient chunk by chunk. It also returns the embeddings.
func (e *Embedder) ExactGlobalGrad(ds *data.Dataset, idx []int, n int, aug augment.Config, beta float64) (loss float64, grad []float64, F []float32, err error) {
	_, F, err = e.Embed(ds, idx, aug, 0)
	if err != nil {
		return 0, nil, nil, err
	}
	P, max := e.enc.Proj, e.enc.MaxRows
	loss, dF, err := eval.GlobalLoss(F, n, len(idx)/n, P, beta)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("global loss: %w", err)
	}
	grad = make([]float64, e.enc.Params.Len())
	chunk := make([]float32, len(grad))
	dOut := make([]float32, max*P)
	for lo := 0; lo < len(idx); lo += max {
		m := min(max, len(idx)-lo)
		e.pass(ds, idx, lo, m, aug, 0)
		for k := range dOut[:m*P] {
			dOut[k] = float32(dF[lo*P+k])
		}
		e.be.Write(e.dOut, dOut[:m*P])
		e.enc.Backward(e.x, e.dOut, m)
		if err := e.be.Read(e.enc.Grads, chunk); err != nil {
			return 0, nil, nil, fmt.Errorf("global gradient: %w", err)
		}
		for k, v := range chunk {
			grad[k] += float64(v)
		}
	}
	return loss, grad, F, nil
}

// ExactGlobal is ExactGlobalGrad with the gradient's squared norm instead of the gradient.
func (e *Embedder) ExactGlobal(ds *data.Dataset, idx []int, n int, aug augment.Config, beta float64) (loss, gradNorm2 float64, F []float32, err error) {
	loss, grad, F, err := e.ExactGlobalGrad(ds, idx, n, aug, beta)
	for _, g := range grad {
		gradNorm2 += g * g
	}
	return loss, gradNorm2, F, err
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
