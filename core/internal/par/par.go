// Package par splits loops over the machine's cores.
package par

import (
	"runtime"
	"sync"
)

// For calls fn on contiguous chunks [lo, hi) covering [0, n), in parallel when n is at least minChunk
// per worker. Chunks are deterministic for a given n and GOMAXPROCS, and each index is visited once,
// so kernels that write disjoint outputs per index stay deterministic.
func For(n, minChunk int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if minChunk < 1 {
		minChunk = 1
	}
	if w := n / minChunk; w < workers {
		workers = w
	}
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
