package data

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// CIFAR-10 binary layout: one label byte, then a 32x32 red plane, green plane and blue plane.
const (
	cifarSide   = 32
	cifarPlane  = cifarSide * cifarSide
	cifarRecord = 1 + 3*cifarPlane
)

// cifar10Classes are the standard CIFAR-10 class names, indexed by label.
var cifar10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// cifarSubdir is the folder the official CIFAR-10 binary archive unpacks into.
const cifarSubdir = "cifar-10-batches-bin"

// ReadCIFAR10 reads one CIFAR-10 binary batch (gzip-compressed or not): records of one label byte
// (0..9) and 3072 pixel bytes stored as a red, a green and a blue 32x32 plane. The result is
// 32x32x3 NHWC, with the standard class names. It stops with an error past DefaultMaxBytes of pixels.
func ReadCIFAR10(r io.Reader) (*Dataset, error) {
	r, err := gunzipped(r)
	if err != nil {
		return nil, err
	}
	d := newCIFAR10("cifar-10", 0)
	if err := appendCIFAR10(d, r, int(DefaultMaxBytes/(3*cifarPlane))); err != nil {
		return nil, err
	}
	if d.N == 0 {
		return nil, fmt.Errorf("no CIFAR-10 records")
	}
	return d, nil
}

// newCIFAR10 returns an empty CIFAR-10 dataset with room for n records.
func newCIFAR10(name string, n int64) *Dataset {
	return &Dataset{Name: name, H: cifarSide, W: cifarSide, C: 3,
		Pix: make([]uint8, 0, n*3*cifarPlane), Labels: make([]int32, 0, n),
		Classes: append([]string(nil), cifar10Classes...)}
}

// appendCIFAR10 appends the records of one batch to d, converting planes to NHWC; d may hold at
// most maxN records.
func appendCIFAR10(d *Dataset, r io.Reader, maxN int) error {
	_, err := readRecords(r, cifarRecord, func(i int, rec []byte) error {
		if d.N >= maxN {
			return fmt.Errorf("more than %d records (%s of pixels), beyond the data limit; "+
				"use a smaller dataset or raise data.Limits.MaxBytes", maxN, fmtBytes(int64(maxN)*3*cifarPlane))
		}
		if rec[0] > 9 {
			return fmt.Errorf("record %d: label %d out of range 0..9", i, rec[0])
		}
		d.Labels = append(d.Labels, int32(rec[0]))
		base := len(d.Pix)
		d.Pix = append(d.Pix, make([]uint8, 3*cifarPlane)...)
		img := d.Pix[base:]
		for c := range 3 {
			plane := rec[1+c*cifarPlane : 1+(c+1)*cifarPlane]
			for p, v := range plane {
				img[3*p+c] = v
			}
		}
		d.N++
		return nil
	})
	return err
}

// recordCount checks that a measured file of size bytes holds whole records of rec bytes and
// returns how many.
func recordCount(size int64, rec int) (int64, error) {
	if size%int64(rec) != 0 {
		return 0, fmt.Errorf("length %d is not a multiple of the %d-byte record size (%d trailing bytes after %d records)",
			size, rec, size%int64(rec), size/int64(rec))
	}
	return size / int64(rec), nil
}

// hasCIFAR10 reports whether dir looks like CIFAR-10 binary data.
func hasCIFAR10(fsys fs.FS, dir string) bool {
	return findFile(fsys, dir, "data_batch_1.bin") != "" || isDir(fsys, path.Join(dir, cifarSubdir))
}

// LoadCIFAR10Dir loads the CIFAR-10 binary version from dir, or from its cifar-10-batches-bin
// sub-folder: data_batch_1.bin .. data_batch_5.bin (those present, at least one) make Train and
// test_batch.bin, when present, makes Test. Class names come from batches.meta.txt when it exists.
func LoadCIFAR10Dir(fsys fs.FS, dir string) (*Split, error) {
	return loadCIFAR10Dir(fsys, dir, newBudget(Limits{}))
}

func loadCIFAR10Dir(fsys fs.FS, dir string, bud *budget) (*Split, error) {
	if findFile(fsys, dir, "data_batch_1.bin") == "" && isDir(fsys, path.Join(dir, cifarSubdir)) {
		dir = path.Join(dir, cifarSubdir)
	}
	classes := cifar10Classes
	if p := findFile(fsys, dir, "batches.meta.txt"); p != "" {
		raw, err := readSmallFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("cifar-10: %w", err)
		}
		classes = strings.Fields(string(raw))
		if len(classes) != 10 {
			return nil, fmt.Errorf("cifar-10: %s: %d class names, want 10", p, len(classes))
		}
	}

	var trainFiles []string
	for i := 1; i <= 5; i++ {
		if p := findFile(fsys, dir, fmt.Sprintf("data_batch_%d.bin", i)); p != "" {
			trainFiles = append(trainFiles, p)
		}
	}
	if len(trainFiles) == 0 {
		return nil, fmt.Errorf("cifar-10: no data_batch_1.bin .. data_batch_5.bin in %q", dir)
	}
	train, err := loadCIFARFiles(fsys, trainFiles, bud)
	if err != nil {
		return nil, err
	}
	train.Classes = append([]string(nil), classes...)
	split := &Split{Train: train}
	if p := findFile(fsys, dir, "test_batch.bin"); p != "" {
		if split.Test, err = loadCIFARFiles(fsys, []string{p}, bud); err != nil {
			return nil, err
		}
		split.Test.Classes = append([]string(nil), classes...)
	}
	return split, nil
}

// loadCIFARFiles concatenates CIFAR-10 batches into one dataset. Every file is measured first, so
// that the pixels are claimed from bud and allocated once, at their exact size.
func loadCIFARFiles(fsys fs.FS, files []string, bud *budget) (*Dataset, error) {
	sizes := make([]int64, len(files))
	var n int64
	for i, p := range files {
		size, err := measure(fsys, p, bud.limit-bud.used+headerSlack)
		if err != nil {
			return nil, fmt.Errorf("cifar-10: %w", err)
		}
		k, err := recordCount(size, cifarRecord)
		if err != nil {
			return nil, fmt.Errorf("cifar-10: %s: %w", p, err)
		}
		sizes[i], n = size, n+k
	}
	if n == 0 {
		return nil, fmt.Errorf("cifar-10: %s: no records", strings.Join(files, ", "))
	}
	if err := bud.take(n*3*cifarPlane, "cifar-10: "+strings.Join(files, ", ")); err != nil {
		return nil, err
	}
	d := newCIFAR10("cifar-10", n)
	for i, p := range files {
		err := withMeasured(fsys, p, sizes[i], func(r io.Reader, _ int64) error { return appendCIFAR10(d, r, int(n)) })
		if err != nil {
			return nil, fmt.Errorf("cifar-10: %w", err)
		}
	}
	if int64(d.N) != n {
		return nil, fmt.Errorf("cifar-10: %s: %d records, but %d were measured (did the files change while being read?)",
			strings.Join(files, ", "), d.N, n)
	}
	return d, nil
}
