package eval

import (
	"context"
	"testing"
)

// BenchmarkLinearProbe trains a 10-class probe on 6000×128 features.
func BenchmarkLinearProbe(b *testing.B) {
	r := newRand(61)
	trX, trY := gaussianBlobs(r, 6000, 128, 10, 1.5, 1)
	teX, teY := gaussianBlobs(r, 1000, 128, 10, 1.5, 1)
	b.ResetTimer()
	var res ProbeResult
	for b.Loop() {
		var err error
		res, err = LinearProbe(context.Background(), trX, trY, teX, teY, 128, 10, ProbeOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Iterations), "iters")
	b.ReportMetric(res.TestAcc, "test-acc")
}

// BenchmarkKNN classifies 2000 test rows against 6000 training rows in 128
// dimensions for k = 1, 5 and 20.
func BenchmarkKNN(b *testing.B) {
	r := newRand(62)
	trX, trY := gaussianBlobs(r, 6000, 128, 10, 1.5, 1)
	teX, teY := gaussianBlobs(r, 2000, 128, 10, 1.5, 1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := KNN(trX, trY, teX, teY, 128, 1, 5, 20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGlobalLoss evaluates the exact global loss and its gradient for
// 1000 images with 2 views of dimension 128.
func BenchmarkGlobalLoss(b *testing.B) {
	r := newRand(63)
	F := randomMatrix(r, 2000, 128)
	normaliseRows(F, 128)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := GlobalLoss(F, 1000, 2, 128, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUniformity evaluates Uniformity on 2000 unit vectors in 128
// dimensions.
func BenchmarkUniformity(b *testing.B) {
	r := newRand(64)
	z := randomMatrix(r, 2000, 128)
	normaliseRows(z, 128)
	b.ResetTimer()
	for b.Loop() {
		Uniformity(z, 2000, 128)
	}
}
