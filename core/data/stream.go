package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
)

// gunzipped returns a reader that yields the decompressed bytes when r starts with the gzip magic
// 0x1f 0x8b, and the bytes of r unchanged otherwise.
func gunzipped(r io.Reader) (io.Reader, error) {
	zr, _, err := gunzip(r)
	return zr, err
}

// gunzip is gunzipped that also says whether r was a gzip stream.
func gunzip(r io.Reader) (io.Reader, bool, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, fmt.Errorf("gzip: %w", err)
		}
		return zr, true, nil
	}
	return br, false, nil
}

// readChunk is the largest amount read (and allocated) in one step when a header announces a size
// that nothing has confirmed yet.
const readChunk = 1 << 20

// readExactly reads exactly n bytes of the named part of a file, n at most limit. When known is
// set, the caller has measured the stream (measure) and n bytes are there: one buffer of n bytes
// is allocated. Otherwise memory grows with the bytes actually read, doubling up to n and never
// past it, so a header that announces far more than the stream holds fails with a "truncated"
// error before any large allocation.
func readExactly(r io.Reader, n, limit int64, known bool, what string) ([]byte, error) {
	if n < 0 || n > limit {
		return nil, fmt.Errorf("%s: size %d bytes out of range (limit %d)", what, n, limit)
	}
	if known {
		buf := make([]byte, n)
		if got, err := io.ReadFull(r, buf); err != nil {
			return nil, truncated(what, n, int64(got), err)
		}
		return buf, nil
	}
	buf := make([]byte, 0, min(n, readChunk))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		got, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+got]
		if err != nil {
			return nil, truncated(what, n, int64(len(buf)), err)
		}
	}
	return buf, nil
}

// truncated describes a read of n bytes that stopped after got with err.
func truncated(what string, n, got int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: truncated: want %d bytes, got %d", what, n, got)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// expectEnd checks that r holds nothing after what was read; for a gzip stream this also verifies its
// checksum. what describes the data read so far.
func expectEnd(r io.Reader, what string) error {
	var one [1]byte
	_, err := io.ReadFull(r, one[:])
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("after %s: %w", what, err)
	}
	return fmt.Errorf("unexpected data after %s (the header disagrees with the file length)", what)
}

// readRecords calls fn for every fixed-size record of r, in order, until the end of the stream. It
// fails when the stream ends inside a record, that is when its length is not a multiple of size.
func readRecords(r io.Reader, size int, fn func(i int, rec []byte) error) (int, error) {
	rec := make([]byte, size)
	for i := 0; ; i++ {
		got, err := io.ReadFull(r, rec)
		switch {
		case errors.Is(err, io.EOF):
			return i, nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return i, fmt.Errorf("length %d is not a multiple of the %d-byte record size (%d trailing bytes after %d records)",
				int64(i)*int64(size)+int64(got), size, got, i)
		case err != nil:
			return i, fmt.Errorf("record %d: %w", i, err)
		}
		if err := fn(i, rec); err != nil {
			return i, err
		}
	}
}

// findFile returns the first of the given names that exists as a regular file in dir, or "" when none does.
func findFile(fsys fs.FS, dir string, names ...string) string {
	for _, name := range names {
		p := path.Join(dir, name)
		if st, err := fs.Stat(fsys, p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// isDir reports whether p exists in fsys and is a directory.
func isDir(fsys fs.FS, p string) bool {
	st, err := fs.Stat(fsys, p)
	return err == nil && st.IsDir()
}

// withFile measures the file p (see measure), opens it again and calls read on its (possibly
// gunzipped) content, of exactly size bytes, no more than max. Errors carry p.
func withFile(fsys fs.FS, p string, max int64, read func(r io.Reader, size int64) error) error {
	size, err := measure(fsys, p, max)
	if err != nil {
		return err
	}
	return withMeasured(fsys, p, size, read)
}

// withMeasured opens p, whose content was measured as size bytes, and calls read on it.
func withMeasured(fsys fs.FS, p string, size int64, read func(r io.Reader, size int64) error) error {
	f, err := fsys.Open(p)
	if err != nil {
		return err // fs errors already name the path
	}
	defer f.Close()
	r, err := gunzipped(f)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	// The file may have changed since it was measured; never read past what was counted.
	if err := read(io.LimitReader(r, size), size); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}
