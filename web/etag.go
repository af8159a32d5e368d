package web

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"sync"
	"time"
)

// etagCache hashes each file once, on its first request, and keeps the hash for as long as the
// file's size and modification time stay the same. The embedded files have no modification time,
// so without an ETag every revalidation (Cache-Control: no-cache) would download them again: with
// one, http.ServeContent answers a matching If-None-Match with 304 Not Modified.
type etagCache struct {
	mu      sync.Mutex
	entries map[string]*etagEntry
}

type etagEntry struct {
	once    sync.Once
	size    int64
	modTime time.Time
	tag     string // "": unreadable
}

// get returns the ETag of f (the file name, of info st), without quotes, or "" when f cannot be
// hashed and read again (it does not seek, or is larger than maxBuffered). f is left at its start.
func (c *etagCache) get(name string, f fs.File, st fs.FileInfo) string {
	sk, ok := f.(io.Seeker)
	if !ok || st.Size() > maxBuffered {
		return ""
	}
	c.mu.Lock()
	e := c.entries[name]
	if e == nil || e.size != st.Size() || !e.modTime.Equal(st.ModTime()) {
		e = &etagEntry{size: st.Size(), modTime: st.ModTime()}
		c.entries[name] = e
	}
	c.mu.Unlock()
	read := false
	e.once.Do(func() {
		read = true
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(f, maxBuffered+1))
		if err != nil || n != st.Size() {
			return
		}
		e.tag = base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
	})
	if read {
		if _, err := sk.Seek(0, io.SeekStart); err != nil {
			return ""
		}
	}
	return e.tag
}
