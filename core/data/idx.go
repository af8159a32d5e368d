package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte) and the number of dimensions.
const (
	idxImagesMagic uint32 = 0x00000803
	idxLabelsMagic uint32 = 0x00000801
)

// IDX file names of the MNIST family, without the optional ".gz" suffix.
const (
	idxTrainImages = "train-images-idx3-ubyte"
	idxTrainLabels = "train-labels-idx1-ubyte"
	idxTestImages  = "t10k-images-idx3-ubyte"
	idxTestLabels  = "t10k-labels-idx1-ubyte"
)

// readIDXHeader reads the magic number and the dims big-endian uint32 sizes that follow it.
func readIDXHeader(r io.Reader, want uint32, kind string, dims int) ([]uint32, error) {
	hdr := make([]byte, 4*(1+dims))
	if got, err := io.ReadFull(r, hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("truncated IDX header: want %d bytes, got %d", len(hdr), got)
		}
		return nil, fmt.Errorf("reading IDX header: %w", err)
	}
	if magic := binary.BigEndian.Uint32(hdr); magic != want {
		hint := ""
		switch magic {
		case idxImagesMagic:
			hint = " (this is an IDX image file)"
		case idxLabelsMagic:
			hint = " (this is an IDX label file)"
		}
		return nil, fmt.Errorf("bad IDX magic 0x%08x, want 0x%08x for %s%s", magic, want, kind, hint)
	}
	sizes := make([]uint32, dims)
	for i := range sizes {
		sizes[i] = binary.BigEndian.Uint32(hdr[4*(i+1):])
	}
	return sizes, nil
}

// ReadIDXImages reads an IDX3 unsigned-byte image file (magic 0x00000803), gzip-compressed or not,
// and returns the number of images, their height and width, and the pixels (n*h*w bytes, image-major,
// row-major). A header announcing more than DefaultMaxBytes of pixels is rejected before anything is
// allocated, and memory grows only with the bytes actually read.
func ReadIDXImages(r io.Reader) (n, h, w int, pix []uint8, err error) {
	r, err = gunzipped(r)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return readIDXImages(r, -1, DefaultMaxBytes)
}

// readIDXImages reads an IDX3 image stream of size bytes (-1: unknown) holding at most limit pixel
// bytes. A known size is checked against the header before the pixels are allocated.
func readIDXImages(r io.Reader, size, limit int64) (n, h, w int, pix []uint8, err error) {
	sizes, err := readIDXHeader(r, idxImagesMagic, "images", 3)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	count, rows, cols := uint64(sizes[0]), uint64(sizes[1]), uint64(sizes[2])
	if rows == 0 || cols == 0 {
		return 0, 0, 0, nil, fmt.Errorf("bad IDX image size %dx%d", rows, cols)
	}
	if rows*cols > uint64(limit) || count*rows*cols > uint64(limit) {
		return 0, 0, 0, nil, fmt.Errorf("absurd IDX header: %d images of %dx%d would need %.3g bytes (limit %d)",
			count, rows, cols, float64(count)*float64(rows)*float64(cols), limit)
	}
	want := int64(count * rows * cols)
	what := fmt.Sprintf("pixels of %d images of %dx%d", count, rows, cols)
	if err := checkLength(size, 16, want, what); err != nil {
		return 0, 0, 0, nil, err
	}
	if pix, err = readExactly(r, want, limit, size >= 0, what); err != nil {
		return 0, 0, 0, nil, err
	}
	if err := expectEnd(r, "the "+what); err != nil {
		return 0, 0, 0, nil, err
	}
	return int(count), int(rows), int(cols), pix, nil
}

// checkLength compares a measured stream size (-1: unknown) with a header of hdr bytes announcing
// want more, before anything is allocated for them.
func checkLength(size, hdr, want int64, what string) error {
	switch {
	case size < 0:
		return nil
	case size < hdr+want:
		return fmt.Errorf("%s: truncated: want %d bytes, got %d", what, want, size-hdr)
	case size > hdr+want:
		return fmt.Errorf("unexpected data after the %s (the header disagrees with the file length: %d bytes more)",
			what, size-hdr-want)
	}
	return nil
}

// ReadIDXLabels reads an IDX1 unsigned-byte label file (magic 0x00000801), gzip-compressed or not.
func ReadIDXLabels(r io.Reader) ([]int32, error) {
	r, err := gunzipped(r)
	if err != nil {
		return nil, err
	}
	return readIDXLabels(r, -1, DefaultMaxBytes)
}

// readIDXLabels reads an IDX1 label stream of size bytes (-1: unknown), at most limit labels.
func readIDXLabels(r io.Reader, size, limit int64) ([]int32, error) {
	sizes, err := readIDXHeader(r, idxLabelsMagic, "labels", 1)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("%d labels", sizes[0])
	// Each label becomes 4 bytes in memory.
	if int64(sizes[0]) > limit/4 {
		return nil, fmt.Errorf("absurd IDX header: %d labels (limit %d)", sizes[0], limit/4)
	}
	if err := checkLength(size, 8, int64(sizes[0]), what); err != nil {
		return nil, err
	}
	raw, err := readExactly(r, int64(sizes[0]), limit, size >= 0, what)
	if err != nil {
		return nil, err
	}
	if err := expectEnd(r, "the "+what); err != nil {
		return nil, err
	}
	labels := make([]int32, len(raw))
	for i, b := range raw {
		labels[i] = int32(b)
	}
	return labels, nil
}

// WriteIDXImages writes n images of h x w unsigned bytes as an uncompressed IDX3 file. Wrap dst in a
// gzip.Writer for a ".gz" file.
func WriteIDXImages(dst io.Writer, n, h, w int, pix []uint8) error {
	if n < 0 || h <= 0 || w <= 0 || n > math.MaxUint32 || h > math.MaxUint32 || w > math.MaxUint32 {
		return fmt.Errorf("write IDX images: bad shape %d images of %dx%d", n, h, w)
	}
	if int64(len(pix)) != int64(n)*int64(h)*int64(w) {
		return fmt.Errorf("write IDX images: %d pixel bytes for %d images of %dx%d, want %d", len(pix), n, h, w, n*h*w)
	}
	hdr := make([]byte, 16)
	binary.BigEndian.PutUint32(hdr[0:], idxImagesMagic)
	binary.BigEndian.PutUint32(hdr[4:], uint32(n))
	binary.BigEndian.PutUint32(hdr[8:], uint32(h))
	binary.BigEndian.PutUint32(hdr[12:], uint32(w))
	if _, err := dst.Write(hdr); err != nil {
		return fmt.Errorf("write IDX images: %w", err)
	}
	if _, err := dst.Write(pix); err != nil {
		return fmt.Errorf("write IDX images: %w", err)
	}
	return nil
}

// WriteIDXLabels writes labels (each 0..255) as an uncompressed IDX1 file.
func WriteIDXLabels(dst io.Writer, labels []int32) error {
	if int64(len(labels)) > math.MaxUint32 {
		return fmt.Errorf("write IDX labels: %d labels is too many", len(labels))
	}
	buf := make([]byte, 8+len(labels))
	binary.BigEndian.PutUint32(buf[0:], idxLabelsMagic)
	binary.BigEndian.PutUint32(buf[4:], uint32(len(labels)))
	for i, l := range labels {
		if l < 0 || l > 255 {
			return fmt.Errorf("write IDX labels: label %d at index %d does not fit in a byte", l, i)
		}
		buf[8+i] = byte(l)
	}
	if _, err := dst.Write(buf); err != nil {
		return fmt.Errorf("write IDX labels: %w", err)
	}
	return nil
}

// hasIDX reports whether dir in fsys holds an MNIST-style training image file
// (train-images-idx3-ubyte, optionally with ".gz").
func hasIDX(fsys fs.FS, dir string) bool {
	return findFile(fsys, dir, idxTrainImages, idxTrainImages+".gz") != ""
}

// LoadIDXDir loads an MNIST-style directory: train-images-idx3-ubyte and train-labels-idx1-ubyte for
// Train, and t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte for Test, each optionally gzipped
// (".gz"). The test files are optional; when absent, Test is nil. Both datasets get the given name and
// no class names.
func LoadIDXDir(fsys fs.FS, dir string, name string) (*Split, error) {
	return loadIDXDir(fsys, dir, name, newBudget(Limits{}))
}

func loadIDXDir(fsys fs.FS, dir string, name string, bud *budget) (*Split, error) {
	train, err := loadIDXPair(fsys, dir, name, idxTrainImages, idxTrainLabels, bud)
	if err != nil {
		return nil, fmt.Errorf("idx %s: %w", name, err)
	}
	if train == nil {
		return nil, fmt.Errorf("idx %s: no %s or %s.gz in %q", name, idxTrainImages, idxTrainImages, dir)
	}
	test, err := loadIDXPair(fsys, dir, name, idxTestImages, idxTestLabels, bud)
	if err != nil {
		return nil, fmt.Errorf("idx %s: %w", name, err)
	}
	if test != nil && (test.H != train.H || test.W != train.W) {
		return nil, fmt.Errorf("idx %s: test images are %dx%d but train images are %dx%d", name, test.H, test.W, train.H, train.W)
	}
	return &Split{Train: train, Test: test}, nil
}

// loadIDXPair loads one images file and its labels file; it returns nil, nil when neither exists.
func loadIDXPair(fsys fs.FS, dir, name, images, labels string, bud *budget) (*Dataset, error) {
	imgPath := findFile(fsys, dir, images, images+".gz")
	lblPath := findFile(fsys, dir, labels, labels+".gz")
	switch {
	case imgPath == "" && lblPath == "":
		return nil, nil
	case imgPath == "":
		return nil, fmt.Errorf("found %s but no %s[.gz] beside it", lblPath, images)
	case lblPath == "":
		return nil, fmt.Errorf("found %s but no %s[.gz] beside it", imgPath, labels)
	}
	d := &Dataset{Name: name, C: 1}
	left := bud.limit - bud.used
	err := withFile(fsys, imgPath, left+headerSlack, func(r io.Reader, size int64) error {
		var err error
		d.N, d.H, d.W, d.Pix, err = readIDXImages(r, size, left)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := bud.take(int64(len(d.Pix)), imgPath); err != nil {
		return nil, err
	}
	err = withFile(fsys, lblPath, bud.limit+headerSlack, func(r io.Reader, size int64) error {
		var err error
		d.Labels, err = readIDXLabels(r, size, bud.limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(d.Labels) != d.N {
		return nil, fmt.Errorf("count mismatch: %s has %d images but %s has %d labels", imgPath, d.N, lblPath, len(d.Labels))
	}
	if d.N == 0 {
		return nil, fmt.Errorf("%s: no images", imgPath)
	}
	return d, nil
}
