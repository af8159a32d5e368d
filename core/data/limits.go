package data

import (
	"fmt"
	"io"
	"io/fs"
)

// Limits bound what reading a dataset may cost, so that no file, however broken or hostile, can
// make a reader allocate more than it says: every size a reader learns from outside (a header, a
// file's Stat, a gzip stream, an image's declared width and height) is checked against them before
// the memory it implies is allocated. The zero value means the defaults below.
type Limits struct {
	// MaxBytes caps the pixel bytes of one loaded dataset, training and test images together, and
	// so the decompressed size of any one file. 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxImageBytes caps what one image of a folder may cost to decode: its file, and the pixels
	// its header declares at the decoder's bytes per pixel plus the square cropped from them.
	// 0 means DefaultMaxImageBytes.
	MaxImageBytes int64
	// MaxFiles caps the entries (files and folders) visited below an image folder. 0 means
	// DefaultMaxFiles.
	MaxFiles int
}

// Default limits.
const (
	// DefaultMaxBytes (4 GiB) holds every standard dataset with room to spare, STL-10 with its
	// 100,000 unlabeled images (2.9 GB) included; a sparse 64 GiB file is refused from its size.
	DefaultMaxBytes int64 = 4 << 30
	// DefaultMaxImageBytes (512 MiB) decodes a 50-megapixel photo; a 16-bit 8192x8192 PNG (a
	// 512 MiB decoded image, whatever its file size) is skipped.
	DefaultMaxImageBytes int64 = 512 << 20
	// DefaultMaxFiles (1,000,000) is far beyond any image folder a laptop trains on, and stops a
	// mistaken walk of a system folder early.
	DefaultMaxFiles = 1_000_000
	// maxMetaBytes caps the small text files read whole (class names).
	maxMetaBytes = 1 << 20
	// maxDepth caps how deep an image folder's sub-folders may nest.
	maxDepth = 64
	// headerSlack is what a file may hold beyond its pixels: headers, and labels beside them.
	headerSlack = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxImageBytes <= 0 {
		l.MaxImageBytes = DefaultMaxImageBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	return l
}

// budget counts the pixel bytes a dataset has claimed against Limits.MaxBytes.
type budget struct {
	limit, used int64
}

func newBudget(l Limits) *budget { return &budget{limit: l.withDefaults().MaxBytes} }

// take claims n more bytes for what, or says why it cannot.
func (b *budget) take(n int64, what string) error {
	if n < 0 || n > b.limit-b.used {
		return fmt.Errorf("%s would need %s of pixels, beyond the data limit of %s (%s already loaded); "+
			"use a smaller dataset or raise data.Limits.MaxBytes", what, fmtBytes(n), fmtBytes(b.limit), fmtBytes(b.used))
	}
	b.used += n
	return nil
}

// fmtBytes writes a byte count for people: "512 B", "3.0 KiB", "64.0 GiB".
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// fileKind names a file mode that is not a regular file, for a skip reason or an error.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeDir != 0:
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// measure returns the number of bytes the (possibly gunzipped) content of the file p holds,
// refusing anything but a regular file and any content beyond max bytes without allocating for it.
// A plain file's size comes from Stat; a gzip stream, or a file whose Stat says 0 (as /proc's do),
// is read through once and counted, bounded by max.
func measure(fsys fs.FS, p string, max int64) (int64, error) {
	// Stat before Open: opening a named pipe blocks until someone writes to it.
	if st, err := fs.Stat(fsys, p); err != nil {
		return 0, err
	} else if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is %s, not a data file", p, fileKind(st.Mode()))
	}
	f, err := fsys.Open(p)
	if err != nil {
		return 0, err // fs errors already name the path
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is %s, not a data file", p, fileKind(st.Mode()))
	}
	r, isGz, err := gunzip(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	if !isGz && st.Size() > 0 {
		if st.Size() > max {
			return 0, fmt.Errorf("%s is %s, more than the %s left under the data limit; use a smaller dataset or raise data.Limits.MaxBytes",
				p, fmtBytes(st.Size()), fmtBytes(max))
		}
		return st.Size(), nil
	}
	n, err := io.Copy(io.Discard, io.LimitReader(r, max+1))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	if n > max {
		what := "holds"
		if isGz {
			what = "decompresses to"
		}
		return 0, fmt.Errorf("%s %s more than the %s left under the data limit; use a smaller dataset or raise data.Limits.MaxBytes",
			p, what, fmtBytes(max))
	}
	return n, nil
}

// readSmallFile reads a small text file (class names) whole, refusing one above maxMetaBytes.
func readSmallFile(fsys fs.FS, p string) ([]byte, error) {
	if st, err := fs.Stat(fsys, p); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a text file", p, fileKind(st.Mode()))
	}
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(b) > maxMetaBytes {
		return nil, fmt.Errorf("%s: more than %s, too large for a list of class names", p, fmtBytes(maxMetaBytes))
	}
	return b, nil
}
