package eval

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// checkMatrix validates that x holds an n×d row-major matrix.
func checkMatrix(name string, x []float32, n, d int) error {
	if d <= 0 {
		return fmt.Errorf("eval: %s: dimension d=%d must be positive", name, d)
	}
	if n < 0 {
		return fmt.Errorf("eval: %s: row count n=%d must be non-negative", name, n)
	}
	if n > math.MaxInt/d {
		return fmt.Errorf("eval: %s: shape %d×%d overflows int", name, n, d)
	}
	if len(x) != n*d {
		return fmt.Errorf("eval: %s: got %d values, want n·d = %d·%d = %d", name, len(x), n, d, n*d)
	}
	return nil
}

// checkFinite reports the first non-finite entry of x.
func checkFinite(name string, x []float32) error {
	for i, v := range x {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("eval: %s: non-finite value %v at index %d", name, v, i)
		}
	}
	return nil
}

// checkLabels validates that every label lies in [0, classes).
func checkLabels(name string, y []int32, classes int) error {
	for i, v := range y {
		if v < 0 || int(v) >= classes {
			return fmt.Errorf("eval: %s: label %d at index %d outside [0, %d)", name, v, i, classes)
		}
	}
	return nil
}

// checkNonNegative validates that every label is non-negative.
func checkNonNegative(name string, y []int32) error {
	for i, v := range y {
		if v < 0 {
			return fmt.Errorf("eval: %s: negative label %d at index %d", name, v, i)
		}
	}
	return nil
}

// toFloat64 converts a float32 slice to a new float64 slice.
func toFloat64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// numWorkers returns how many goroutines to use for the given number of
// independent tasks: GOMAXPROCS, capped at tasks and at least one.
func numWorkers(tasks int) int {
	w := runtime.GOMAXPROCS(0)
	if w > tasks {
		w = tasks
	}
	if w < 1 {
		w = 1
	}
	return w
}

// parallelFor runs fn(worker, task) for every task in [0, tasks), spreading
// the tasks over at most GOMAXPROCS goroutines. worker is in [0, workers)
// where workers is the value returned; it lets callers keep per-goroutine
// scratch space. Results must be written per task (never per worker) to keep
// the outcome independent of scheduling.
func parallelFor(tasks int, fn func(worker, task int)) int {
	workers := numWorkers(tasks)
	if workers == 1 {
		for t := 0; t < tasks; t++ {
			fn(0, t)
		}
		return 1
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				t := int(next.Add(1)) - 1
				if t >= tasks {
					return
				}
				fn(w, t)
			}
		}(w)
	}
	wg.Wait()
	return workers
}

// dot4 returns the dot products of t with each of a0..a3 (all of length
// len(t)). It is the register-blocked inner kernel shared by the probe,
// k-NN and global-loss code.
func dot4(a0, a1, a2, a3, t []float64) (s0, s1, s2, s3 float64) {
	n := len(t)
	a0 = a0[:n]
	a1 = a1[:n]
	a2 = a2[:n]
	a3 = a3[:n]
	for k, v := range t {
		s0 += a0[k] * v
		s1 += a1[k] * v
		s2 += a2[k] * v
		s3 += a3[k] * v
	}
	return s0, s1, s2, s3
}

// dot returns the dot product of a and b (len(b) >= len(a)).
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for k, v := range a {
		s += v * b[k]
	}
	return s
}

// clampNonNeg returns max(v, 0) for the finite values produced by the
// ||a||²+||b||²−2a·b expansion; it is much cheaper than math.Max, which is
// not inlined and handles NaN and −0.
func clampNonNeg(v float64) float64 {
	if v < 0 {
		return 0
	}
	return v
}
