// Package experiment holds the studies behind docs/RESULTS.md, one file each: the paper's
// gradient-norm check on a finite augmented set (gradnorm.go), accuracy against batch size
// (batchsweep.go), and the MH sampler's mixing on frozen embeddings (mixing.go). Each writes CSV
// rows and a PNG figure and has a small --quick size that the tests run.
package experiment
