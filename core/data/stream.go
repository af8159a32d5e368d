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

// maxBytes caps the size of any single array read from a header-described file (2 GiB). It keeps a
// corrupt header from asking for an absurd allocation.
const maxBytes int64 = 1 << 31

// readChunk is the largest amount read (and allocated) in one step when a header announces a size.
const readChunk = 1 << 20

// gunzipped returns a reader that yields the decompressed bytes when r starts with the gzip magic
// 0x1f 0x8b, and the bytes of r unchanged otherwise.
func gunzipped(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

// readExactly reads exactly n bytes of the named part of a file. Memory grows with the bytes actually
// read, so a header that announces far more than the stream holds fails with a "truncated" error
// before any large allocation.
func readExactly(r io.Reader, n int64, what string) ([]byte, error) {
	if n < 0 || n > maxBytes {
		return nil, fmt.Errorf("%s: size %d bytes out of range (limit %d)", what, n, maxBytes)
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
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: truncated: want %d bytes, got %d", what, n, len(buf))
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	return buf, nil
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

// sizeHint returns the size of f when its Stat knows it, for pre-allocating; 0 otherwise.
func sizeHint(f fs.File) int64 {
	st, err := f.Stat()
	if err != nil || st.Size() < 0 || st.Size() > 4*maxBytes {
		return 0
	}
	return st.Size()
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

// withFile opens p in fsys, calls read on its (possibly gunzipped) content and closes it. Errors carry p.
func withFile(fsys fs.FS, p string, read func(r io.Reader, hint int64) error) error {
	f, err := fsys.Open(p)
	if err != nil {
		return err // fs errors already name the path
	}
	defer f.Close()
	hint := sizeHint(f)
	r, err := gunzipped(f)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := read(r, hint); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}
