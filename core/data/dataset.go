// Package data reads image datasets into memory: IDX (MNIST, Fashion-MNIST), CIFAR-10 binary batches,
// STL-10 binary files, folders of PNG/JPEG images, and the embedded default subset of Fashion-MNIST.
//
// Every reader works over io.Reader or fs.FS, so the same code serves the native CLI (os.DirFS), tests
// (fstest.MapFS) and the browser (files handed over from JavaScript). Pixels stay uint8 in NHWC order;
// conversion to float32 happens on the compute backend, where the augmentations run.
package data

import (
	"fmt"
)

// Dataset is a set of same-sized images held in memory.
type Dataset struct {
	Name    string
	N       int     // number of images
	H, W, C int     // height, width, channels (1 = grayscale, 3 = RGB)
	Pix     []uint8 // N*H*W*C bytes, image-major, then row, column, channel (NHWC)
	// Labels holds one class per image, or is nil for unlabeled data. A label of -1 marks an
	// unlabeled image inside an otherwise labeled set.
	Labels  []int32
	Classes []string // class names, indexed by label; may be nil
	// Source holds, for a subset, each image's position in the set it was loaded as (nil: image i
	// is image i). It is how tests check that two front ends train on the same images.
	Source []int
}

// SourceIndex is the position of image i in the set d was loaded as.
func (d *Dataset) SourceIndex(i int) int {
	if d.Source == nil {
		return i
	}
	return d.Source[i]
}

// ImageSize returns the number of bytes of one image.
func (d *Dataset) ImageSize() int { return d.H * d.W * d.C }

// Image returns the bytes of image i (a sub-slice, not a copy).
func (d *Dataset) Image(i int) []uint8 {
	n := d.ImageSize()
	return d.Pix[i*n : (i+1)*n]
}

// Labeled reports whether every image has a label.
func (d *Dataset) Labeled() bool {
	if d.Labels == nil {
		return false
	}
	for _, l := range d.Labels {
		if l < 0 {
			return false
		}
	}
	return true
}

// NumClasses returns one more than the largest label, or 0 when unlabeled.
func (d *Dataset) NumClasses() int {
	k := len(d.Classes)
	for _, l := range d.Labels {
		if int(l)+1 > k {
			k = int(l) + 1
		}
	}
	return k
}

// Validate checks that the fields agree with each other.
func (d *Dataset) Validate() error {
	switch {
	case d.N <= 0:
		return fmt.Errorf("dataset %q: no images", d.Name)
	case d.H <= 0 || d.W <= 0 || (d.C != 1 && d.C != 3):
		return fmt.Errorf("dataset %q: bad shape %dx%dx%d (want HxWx1 or HxWx3)", d.Name, d.H, d.W, d.C)
	case len(d.Pix) != d.N*d.ImageSize():
		return fmt.Errorf("dataset %q: %d pixel bytes, want %d", d.Name, len(d.Pix), d.N*d.ImageSize())
	case d.Labels != nil && len(d.Labels) != d.N:
		return fmt.Errorf("dataset %q: %d labels for %d images", d.Name, len(d.Labels), d.N)
	}
	return nil
}

// Subset returns the images at the given indices, in that order (a copy).
func (d *Dataset) Subset(idx []int) *Dataset {
	n := d.ImageSize()
	out := &Dataset{Name: d.Name, N: len(idx), H: d.H, W: d.W, C: d.C, Classes: d.Classes,
		Pix: make([]uint8, len(idx)*n), Source: make([]int, len(idx))}
	if d.Labels != nil {
		out.Labels = make([]int32, len(idx))
	}
	for j, i := range idx {
		out.Source[j] = d.SourceIndex(i)
		copy(out.Pix[j*n:(j+1)*n], d.Image(i))
		if d.Labels != nil {
			out.Labels[j] = d.Labels[i]
		}
	}
	return out
}

// Head returns the first n images (a copy), or d itself when n is 0 or covers all of it: what
// --train-subset means.
func (d *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= d.N {
		return d
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx)
}

// Split is a training set and an evaluation set of the same image shape. Test may be nil for data
// that comes without a held-out part; callers then hold out a share of Train themselves.
type Split struct {
	Train, Test *Dataset
}

// HoldOut gives a split without a test set one: every tenth image of Train (the 10th, 20th, …; at
// least one) becomes Test, provided minTrain images are left to train on. Taking every tenth rather
// than the last tenth keeps the held-out set representative of data stored class by class (as a
// folder of class sub-folders is). It returns how many images it held out (0 when the split already
// had a test set).
func (s *Split) HoldOut(minTrain int) (int, error) {
	if s.Test != nil && s.Test.N > 0 {
		return 0, nil
	}
	n := s.Train.N
	k := max(1, n/10)
	if n-k < minTrain {
		return 0, fmt.Errorf("%d images are too few to hold out a test set and still train on %d", n, minTrain)
	}
	var tr, te []int
	for i := range n {
		if i%10 == 9 && len(te) < k || n < 10 && i == n-1 {
			te = append(te, i)
		} else {
			tr = append(tr, i)
		}
	}
	s.Train, s.Test = s.Train.Subset(tr), s.Train.Subset(te)
	return k, nil
}
