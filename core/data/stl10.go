package data

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// STL-10 binary layout: 3 planes (R, G, B) of 96x96 bytes per image, each plane column-major.
const (
	stlSide   = 96
	stlPlane  = stlSide * stlSide
	stlRecord = 3 * stlPlane
)

// stl10Classes are the STL-10 class names, indexed by label (file label minus one).
var stl10Classes = []string{"airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"}

// stlSubdir is the folder the official STL-10 binary archive unpacks into.
const stlSubdir = "stl10_binary"

// STL10Options selects the optional parts of STL-10.
type STL10Options struct {
	// Unlabeled adds the 100,000 images of unlabeled_X.bin to Train, after the labeled training
	// images, with label -1. When train_X.bin is absent, Train is the unlabeled images alone, with
	// Labels nil.
	Unlabeled bool
}

// ReadSTL10Images reads an STL-10 image file (train_X.bin, test_X.bin or unlabeled_X.bin), whose
// length must be a multiple of 3*96*96 bytes. Each image is a red, a green and a blue plane, each
// stored column by column; the result is 96x96x3 NHWC without labels.
func ReadSTL10Images(r io.Reader) (*Dataset, error) {
	r, err := gunzipped(r)
	if err != nil {
		return nil, err
	}
	d := newSTL10("stl-10", 0)
	if err := appendSTL10(d, r, int(DefaultMaxBytes/stlRecord)); err != nil {
		return nil, err
	}
	if d.N == 0 {
		return nil, fmt.Errorf("no STL-10 images")
	}
	return d, nil
}

// ReadSTL10Labels reads an STL-10 label file (train_y.bin, test_y.bin): one byte per image, 1..10,
// returned as 0..9.
func ReadSTL10Labels(r io.Reader) ([]int32, error) {
	r, err := gunzipped(r)
	if err != nil {
		return nil, err
	}
	return readSTL10Labels(r, int(DefaultMaxBytes/4))
}

// readSTL10Labels reads at most maxN STL-10 labels.
func readSTL10Labels(r io.Reader, maxN int) ([]int32, error) {
	var labels []int32
	_, err := readRecords(r, 1, func(i int, rec []byte) error {
		if len(labels) >= maxN {
			return fmt.Errorf("more than %d labels", maxN)
		}
		if rec[0] < 1 || rec[0] > 10 {
			return fmt.Errorf("label %d at index %d out of range 1..10", rec[0], i)
		}
		labels = append(labels, int32(rec[0])-1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("no STL-10 labels")
	}
	return labels, nil
}

// newSTL10 returns an empty STL-10 dataset with room for n images.
func newSTL10(name string, n int64) *Dataset {
	return &Dataset{Name: name, H: stlSide, W: stlSide, C: 3, Pix: make([]uint8, 0, n*stlRecord)}
}

// appendSTL10 appends the images of r to d, converting column-major planes to NHWC; d may hold at
// most maxN images.
func appendSTL10(d *Dataset, r io.Reader, maxN int) error {
	_, err := readRecords(r, stlRecord, func(_ int, rec []byte) error {
		if d.N >= maxN {
			return fmt.Errorf("more than %d images (%s of pixels), beyond the data limit; "+
				"use a smaller dataset or raise data.Limits.MaxBytes", maxN, fmtBytes(int64(maxN)*stlRecord))
		}
		base := len(d.Pix)
		d.Pix = append(d.Pix, make([]uint8, stlRecord)...)
		img := d.Pix[base:]
		for c := range 3 {
			plane := rec[c*stlPlane : (c+1)*stlPlane]
			for x := range stlSide {
				col := plane[x*stlSide : (x+1)*stlSide]
				for y, v := range col {
					img[3*(y*stlSide+x)+c] = v
				}
			}
		}
		d.N++
		return nil
	})
	return err
}

// hasSTL10 reports whether dir looks like STL-10 binary data.
func hasSTL10(fsys fs.FS, dir string) bool {
	return findFile(fsys, dir, "train_X.bin", "unlabeled_X.bin") != "" || isDir(fsys, path.Join(dir, stlSubdir))
}

// LoadSTL10Dir loads the STL-10 binary version from dir, or from its stl10_binary sub-folder:
// train_X.bin with train_y.bin make Train and test_X.bin with test_y.bin, when present, make Test.
// unlabeled_X.bin is read only when opt.Unlabeled is set. Class names come from class_names.txt when
// it exists.
func LoadSTL10Dir(fsys fs.FS, dir string, opt STL10Options) (*Split, error) {
	return loadSTL10Dir(fsys, dir, opt, newBudget(Limits{}))
}

func loadSTL10Dir(fsys fs.FS, dir string, opt STL10Options, bud *budget) (*Split, error) {
	if !hasSTL10Files(fsys, dir) && isDir(fsys, path.Join(dir, stlSubdir)) {
		dir = path.Join(dir, stlSubdir)
	}
	classes := stl10Classes
	if p := findFile(fsys, dir, "class_names.txt"); p != "" {
		raw, err := readSmallFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("stl-10: %w", err)
		}
		classes = strings.Fields(string(raw))
		if len(classes) != 10 {
			return nil, fmt.Errorf("stl-10: %s: %d class names, want 10", p, len(classes))
		}
	}

	trainX := findFile(fsys, dir, "train_X.bin")
	unlabeledX := findFile(fsys, dir, "unlabeled_X.bin")
	switch {
	case opt.Unlabeled && unlabeledX == "":
		return nil, fmt.Errorf("stl-10: unlabeled images requested but there is no unlabeled_X.bin in %q", dir)
	case !opt.Unlabeled && trainX == "" && unlabeledX != "":
		return nil, fmt.Errorf("stl-10: no train_X.bin in %q (only unlabeled_X.bin, which is read when asked for unlabeled images)", dir)
	case trainX == "" && unlabeledX == "":
		return nil, fmt.Errorf("stl-10: no train_X.bin in %q", dir)
	}

	var files []string
	for _, p := range []string{trainX, unlabeledX} {
		if p == "" || (p == unlabeledX && !opt.Unlabeled) {
			continue
		}
		files = append(files, p)
	}
	train, sizes, err := newSTL10Files(fsys, files, bud)
	if err != nil {
		return nil, err
	}
	for i, p := range files {
		before := train.N
		maxN := before + int(sizes[i]/stlRecord)
		if err := withMeasured(fsys, p, sizes[i], func(r io.Reader, _ int64) error { return appendSTL10(train, r, maxN) }); err != nil {
			return nil, fmt.Errorf("stl-10: %w", err)
		}
		if train.N != maxN {
			return nil, fmt.Errorf("stl-10: %s: %d images, but %d were measured (did it change while being read?)", p, train.N-before, maxN-before)
		}
		if p == trainX {
			if err := attachSTL10Labels(fsys, train, path.Join(path.Dir(p), "train_y.bin")); err != nil {
				return nil, err
			}
		} else if train.Labels != nil {
			for len(train.Labels) < train.N {
				train.Labels = append(train.Labels, -1)
			}
		}
	}
	train.Classes = append([]string(nil), classes...)
	split := &Split{Train: train}

	if testX := findFile(fsys, dir, "test_X.bin"); testX != "" {
		test, sizes, err := newSTL10Files(fsys, []string{testX}, bud)
		if err != nil {
			return nil, err
		}
		maxN := int(sizes[0] / stlRecord)
		if err := withMeasured(fsys, testX, sizes[0], func(r io.Reader, _ int64) error { return appendSTL10(test, r, maxN) }); err != nil {
			return nil, fmt.Errorf("stl-10: %w", err)
		}
		if test.N != maxN {
			return nil, fmt.Errorf("stl-10: %s: %d images, but %d were measured (did it change while being read?)", testX, test.N, maxN)
		}
		if err := attachSTL10Labels(fsys, test, path.Join(dir, "test_y.bin")); err != nil {
			return nil, err
		}
		test.Classes = append([]string(nil), classes...)
		split.Test = test
	}
	return split, nil
}

// newSTL10Files measures STL-10 image files, claims their pixels from bud and returns an empty
// dataset with room for exactly their images, and each file's size.
func newSTL10Files(fsys fs.FS, files []string, bud *budget) (*Dataset, []int64, error) {
	sizes := make([]int64, len(files))
	var n int64
	for i, p := range files {
		size, err := measure(fsys, p, bud.limit-bud.used+headerSlack)
		if err != nil {
			return nil, nil, fmt.Errorf("stl-10: %w", err)
		}
		k, err := recordCount(size, stlRecord)
		if err != nil {
			return nil, nil, fmt.Errorf("stl-10: %s: %w", p, err)
		}
		if k == 0 {
			return nil, nil, fmt.Errorf("stl-10: %s: no images", p)
		}
		sizes[i], n = size, n+k
	}
	if err := bud.take(n*stlRecord, "stl-10: "+strings.Join(files, ", ")); err != nil {
		return nil, nil, err
	}
	return newSTL10("stl-10", n), sizes, nil
}

// hasSTL10Files reports whether dir itself holds STL-10 image files.
func hasSTL10Files(fsys fs.FS, dir string) bool {
	return findFile(fsys, dir, "train_X.bin", "test_X.bin", "unlabeled_X.bin") != ""
}

// attachSTL10Labels reads the label file p and sets the labels of d, which must have as many images.
func attachSTL10Labels(fsys fs.FS, d *Dataset, p string) error {
	if findFile(fsys, path.Dir(p), path.Base(p)) == "" {
		return fmt.Errorf("stl-10: %d images but no label file %s", d.N, p)
	}
	var labels []int32
	if err := withFile(fsys, p, DefaultMaxBytes, func(r io.Reader, size int64) error {
		if size != int64(d.N) {
			return fmt.Errorf("count mismatch: %d images but %s has %d labels", d.N, p, size)
		}
		var err error
		labels, err = readSTL10Labels(r, d.N)
		return err
	}); err != nil {
		return fmt.Errorf("stl-10: %w", err)
	}
	if len(labels) != d.N {
		return fmt.Errorf("stl-10: count mismatch: %d images but %s has %d labels", d.N, p, len(labels))
	}
	d.Labels = labels
	return nil
}
