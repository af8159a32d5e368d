//go:build unix

package web

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestFIFONotOpened: a named pipe in the served folder is a 404, answered at once (opening it would
// block the request until something wrote to the pipe).
func TestFIFONotOpened(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.js"), 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	done := make(chan int, 1)
	go func() {
		resp := get(t, Handler(os.DirFS(dir)), "GET", "/pipe.js", "Accept-Encoding", "gzip")
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case code := <-done:
		assert.Equal(t, http.StatusNotFound, code)
	case <-time.After(5 * time.Second):
		t.Fatal("the request blocked on a named pipe")
	}
}
