package web

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"sync"
	"time"
)

// fileMemo keeps one value per file name (its ETag, its gzipped form), computed on the file's first
// request and kept for as long as its size and modification time stay the same.
type fileMemo[T any] struct {
	mu      sync.Mutex
	entries map[string]*memoEntry[T]
}

type memoEntry[T any] struct {
	once    sync.Once
	size    int64
	modTime time.Time
	v       T
}

// get returns name's value, computing it once while the file (of info st) is unchanged.
func (c *fileMemo[T]) get(name string, st fs.FileInfo, compute func() T) T {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*memoEntry[T]{}
	}
	e := c.entries[name]
	if e == nil || e.size != st.Size() || !e.modTime.Equal(st.ModTime()) {
		e = &memoEntry[T]{size: st.Size(), modTime: st.ModTime()}
		c.entries[name] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.v = compute() })
	return e.v
}

// etag returns the ETag of f (the file name, of info st), without quotes, or "" when f cannot be
// hashed and read again (it does not seek, or is larger than maxBuffered); f is left at its start.
// The embedded files have no modification time, so without an ETag every revalidation
// (Cache-Control: no-cache) would download them again: with one, http.ServeContent answers a
// matching If-None-Match with 304 Not Modified.
func (h *handler) etag(name string, f fs.File, st fs.FileInfo) string {
	sk, ok := f.(io.Seeker)
	if !ok || st.Size() > maxBuffered {
		return ""
	}
	read := false
	tag := h.tags.get(name, st, func() string {
		read = true
		hash := sha256.New()
		n, err := io.Copy(hash, io.LimitReader(f, maxBuffered+1))
		if err != nil || n != st.Size() {
			return ""
		}
		return base64.RawURLEncoding.EncodeToString(hash.Sum(nil)[:18])
	})
	if read {
		if _, err := sk.Seek(0, io.SeekStart); err != nil {
			return ""
		}
	}
	return tag
}
