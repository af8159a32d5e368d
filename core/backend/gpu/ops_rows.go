package gpu

import "github.com/emc2ml/emc2/core/backend"

// rowsParams is shaders/rows.wgsl's Params.
type rowsParams struct {
	DstRow, IdxOff, N, D uint32
}

// GatherRows is nn.GatherRows: dst row dstRow+k = src row idx[idxOff+k].
func (b *Backend) GatherRows(dst, src, idx backend.Buf, dstRow, idxOff, n, d int) {
	gx, gy := grid1D(n * d)
	b.dispatch("gather_rows", rowsParams{DstRow: uint32(dstRow), IdxOff: uint32(idxOff), N: uint32(n), D: uint32(d)},
		binds{"Src": buf(src), "Dst": buf(dst), "Idx": buf(idx)}, gx, gy, 1)
}

// ScatterRows is nn.ScatterRows: dst row idx[k] = src row k.
func (b *Backend) ScatterRows(dst, src, idx backend.Buf, n, d int) {
	gx, gy := grid1D(n * d)
	b.dispatch("scatter_rows", rowsParams{N: uint32(n), D: uint32(d)},
		binds{"Src": buf(src), "Dst": buf(dst), "Idx": buf(idx)}, gx, gy, 1)
}
