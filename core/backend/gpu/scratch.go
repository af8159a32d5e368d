package gpu

// scratchBuf returns the backend's scratch buffer of this name with room for at least n float32
// values, grown (never shrunk) as needed; its contents are undefined. Work recorded earlier keeps
// using the old buffer through its bind group, so growing mid-step is safe.
func (b *Backend) scratchBuf(name string, n int) *Buf {
	s := b.scratch[name]
	if s == nil || s.n < n {
		s = b.alloc(max(n, backendMinScratch), name)
		b.scratch[name] = s
	}
	return s
}

const backendMinScratch = 64

// grid2D spreads n workgroups over a 2-D grid when n exceeds the 65535 limit of one dimension; the
// kernels number their workgroups wid.x + wid.y·nw.x and skip those past n.
func grid2D(n int) (x, y int) {
	if n <= 65535 {
		return n, 1
	}
	return 65535, ceilDiv(n, 65535)
}
