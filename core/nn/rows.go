package nn

// GatherRows copies n rows of d values from src into dst: dst row dstRow+k = src row idx[idxOff+k].
// EMC²'s cached sampler uses it to place the cached embeddings of the chains' states beside the
// batch's (shaders/rows.wgsl is its twin).
func GatherRows(dst, src []float32, idx []uint32, dstRow, idxOff, n, d int) {
	for k := 0; k < n; k++ {
		s := int(idx[idxOff+k]) * d
		copy(dst[(dstRow+k)*d:(dstRow+k+1)*d], src[s:s+d])
	}
}

// ScatterRows copies n rows of d values from src into dst: dst row idx[k] = src row k. The indices
// must be distinct (a batch's images), so the result does not depend on the order of the copies.
func ScatterRows(dst, src []float32, idx []uint32, n, d int) {
	for k := 0; k < n; k++ {
		t := int(idx[k]) * d
		copy(dst[t:t+d], src[k*d:(k+1)*d])
	}
}
