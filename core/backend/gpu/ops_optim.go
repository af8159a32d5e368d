package gpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/optim"
)

// perWorkgroup is the number of consecutive elements one update workgroup covers (PER_WG in
// shaders/optim.wgsl).
const perWorkgroup = 4 * wg

// optimParams is struct Params of shaders/optim.wgsl.
type optimParams struct {
	Nseg, WgTotal  uint32
	LR, Momentum   float32
	Beta1, Beta2   float32
	Omb1, Omb2     float32 // 1 − β1, 1 − β2 in float32, as the Go twin rounds them
	Eps, Wd, Trust float32
	C1, C2         float32 // Adam's bias corrections 1 − β^T
}

// segTable is the segment table of shaders/optim.wgsl on the device: per non-empty segment its
// offset, length, decay flag and first update workgroup; and Q, LARS's per-segment trust ratio.
type segTable struct {
	table, q *Buf
	nseg     int
	wgTotal  int
	end      int // one past the last element any segment touches
}

// segCache keeps the tables uploaded so far, keyed by the segments' offsets, lengths and decay flags.
type segCache struct {
	last     []optim.Segment
	lastTab  *segTable
	byLayout map[string]*segTable
}

// segments returns the device table of a segment list, uploading it on first use.
func (b *Backend) segments(segs []optim.Segment) *segTable {
	c := &b.segTables
	same := func(a, b optim.Segment) bool { return a.Off == b.Off && a.Len == b.Len && a.Decay == b.Decay }
	if c.lastTab != nil && slices.EqualFunc(c.last, segs, same) {
		return c.lastTab
	}
	key := ""
	for _, s := range segs {
		key += fmt.Sprintf("%d:%d:%v;", s.Off, s.Len, s.Decay)
	}
	t, ok := c.byLayout[key]
	if !ok {
		t = &segTable{}
		var words []uint32
		for _, s := range segs {
			if s.Len <= 0 {
				continue
			}
			words = append(words, uint32(s.Off), uint32(s.Len), bit(s.Decay), uint32(t.wgTotal))
			t.wgTotal += ceilDiv(s.Len, perWorkgroup)
			t.nseg++
			t.end = max(t.end, s.Off+s.Len)
		}
		if t.nseg > 0 {
			t.table = b.alloc(len(words), "optim segments")
			b.WriteU32(t.table, words)
			t.q = b.alloc(t.nseg, "lars trust ratios")
		}
		if c.byLayout == nil {
			c.byLayout = map[string]*segTable{}
		}
		c.byLayout[key] = t
	}
	c.last, c.lastTab = slices.Clone(segs), t
	return t
}

// OptimStep is optim.Step over all segments of the arena in one dispatch (shaders/optim.wgsl); LARS
// first reduces each decayed segment's norms in a second, earlier dispatch.
func (b *Backend) OptimStep(params, grads, m, v backend.Buf, p optim.Params) {
	t := b.segments(p.Segments)
	if t.nseg == 0 {
		return
	}
	pb, gb, mb, vb := buf(params), buf(grads), buf(m), buf(v)
	for _, x := range []*Buf{pb, gb, mb} {
		if x == nil || x.n < t.end {
			b.fail(fmt.Errorf("gpu: optimizer: a buffer is shorter than the segments (%d values)", t.end))
			return
		}
	}
	var c1, c2 float32
	if p.Kind == optim.Adam {
		if vb == nil || vb.n < t.end {
			b.fail(fmt.Errorf("gpu: optimizer: Adam's v is shorter than the segments (%d values)", t.end))
			return
		}
		c1 = 1 - float32(math.Pow(float64(p.Beta1), float64(p.T)))
		c2 = 1 - float32(math.Pow(float64(p.Beta2), float64(p.T)))
	}
	params32 := optimParams{Nseg: uint32(t.nseg), WgTotal: uint32(t.wgTotal), LR: p.LR, Momentum: p.Momentum,
		Beta1: p.Beta1, Beta2: p.Beta2, Omb1: 1 - p.Beta1, Omb2: 1 - p.Beta2, Eps: p.Eps, Wd: p.WeightDecay,
		Trust: p.Trust, C1: c1, C2: c2}
	x, y := grid2D(t.wgTotal)
	switch p.Kind {
	case optim.SGD:
		b.dispatch("optim_sgd", params32, binds{"P": pb, "G": gb, "M": mb, "seg": t.table}, x, y, 1)
	case optim.Adam:
		b.dispatch("optim_adam", params32, binds{"P": pb, "G": gb, "M": mb, "V": vb, "seg": t.table}, x, y, 1)
	case optim.LARS:
		b.dispatch("optim_lars_norms", params32, binds{"P": pb, "G": gb, "seg": t.table, "Q": t.q}, t.nseg, 1, 1)
		b.dispatch("optim_lars", params32, binds{"P": pb, "G": gb, "M": mb, "seg": t.table, "Q": t.q}, x, y, 1)
	default:
		b.fail(fmt.Errorf("gpu: optimizer %q is not supported", p.Kind))
	}
}
