// Package eval evaluates frozen representations produced by the contrastive
// trainers (EMC², SimCLR, SogCLR).
//
// It provides:
//
//   - LinearProbe: a multinomial logistic-regression probe trained with
//     L-BFGS on standardised frozen features;
//   - KNN: k-nearest-neighbour classification with Euclidean distance;
//   - Alignment, Uniformity and EffectiveRank: label-free representation
//     health metrics;
//   - GlobalLoss and GCLNegOnly: the exact global contrastive loss (and its
//     gradient) on a finite augmented set, as used to monitor EMC² training;
//   - PCA2: the projection on the first two principal components (the browser
//     trainer's embedding view).
//
// Matrices are passed as row-major []float32 slices with an explicit number
// of rows n and dimension d; labels are []int32 values in [0, classes).
// All heavy computations accumulate in float64 and are deterministic: the
// work split across goroutines depends only on the input sizes, never on
// GOMAXPROCS, so the same inputs always yield bit-identical outputs.
package eval
