package web

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultDataServed: the built-in dataset's files are served under data/default/ as they are in
// core/data/default (already gzipped: never compressed again), beside the app's own files.
func TestDefaultDataServed(t *testing.T) {
	root, err := WithDefaultData(site)
	require.NoError(t, err)
	h := Handler(root)
	for _, tc := range []struct {
		name, ctype string
	}{
		{"train-images-idx3-ubyte.gz", "application/gzip"},
		{"train-labels-idx1-ubyte.gz", "application/gzip"},
		{"t10k-images-idx3-ubyte.gz", "application/gzip"},
		{"t10k-labels-idx1-ubyte.gz", "application/gzip"},
		{"LICENSE", "text/plain; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("..", "core", "data", "default", tc.name))
			require.NoError(t, err)
			resp := get(t, h, "GET", "/"+DefaultDataDir+"/"+tc.name, "Accept-Encoding", "gzip")
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, want, body)
			assert.Empty(t, resp.Header.Get("Content-Encoding"), "not gzipped again")
			assert.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
			assert.NotEmpty(t, resp.Header.Get("ETag"))
			for _, kv := range securityHeaders {
				assert.Equal(t, kv[1], resp.Header.Get(kv[0]), kv[0])
			}
		})
	}
	// The app's own files are still there, and nothing else is under data/default/.
	for target, code := range map[string]int{
		"/index.html":                    200,
		"/dist/emc2.wasm":                200,
		"/data/default/nope.gz":          404,
		"/data/default/":                 404,
		"/data/default":                  404,
		"/data/default/../../index.html": 200, // cleaned to /index.html
		"/data/default/%2e%2e/app.js":    404, // cleaned to /data/app.js
	} {
		resp := get(t, h, "GET", target)
		resp.Body.Close()
		assert.Equal(t, code, resp.StatusCode, target)
	}
}

// TestETag: every file has an ETag, a matching If-None-Match gets 304 Not Modified (no body), and
// the gzipped and plain forms of a file have different tags.
func TestETag(t *testing.T) {
	root, err := WithDefaultData(gzipSite)
	require.NoError(t, err)
	h := Handler(root)
	tagOf := func(target, accept string) string {
		resp := get(t, h, "GET", target, "Accept-Encoding", accept)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, target)
		tag := resp.Header.Get("ETag")
		require.Regexp(t, `^"[A-Za-z0-9_-]+(-gzip)?"$`, tag, target)
		return tag
	}
	for _, tc := range []struct {
		name, target, accept string
		gzipped              bool
	}{
		{"wasm gzipped", "/dist/emc2.wasm", "gzip", true},
		{"wasm plain", "/dist/emc2.wasm", "", false},
		{"js", "/app.js", "gzip", true},
		{"index", "/", "gzip", true},
		{"data", "/data/default/train-labels-idx1-ubyte.gz", "gzip", false},
		{"licence", "/data/default/LICENSE", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := tagOf(tc.target, tc.accept)
			assert.Equal(t, tc.gzipped, strings.HasSuffix(tag, `-gzip"`), tag)
			assert.Equal(t, tag, tagOf(tc.target, tc.accept), "the same tag every time")
			for _, method := range []string{"GET", "HEAD"} {
				resp := get(t, h, method, tc.target, "Accept-Encoding", tc.accept, "If-None-Match", tag)
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				assert.Equal(t, http.StatusNotModified, resp.StatusCode, method)
				assert.Empty(t, body)
				assert.Equal(t, tag, resp.Header.Get("ETag"))
				assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
			}
			resp := get(t, h, "GET", tc.target, "Accept-Encoding", tc.accept, "If-None-Match", `"something-else"`)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
	assert.NotEqual(t, tagOf("/dist/emc2.wasm", "gzip"), tagOf("/dist/emc2.wasm", ""))
	assert.NotEqual(t, tagOf("/app.js", ""), tagOf("/index.html", ""))
}

// gzipSite has files large enough to be worth gzipping.
var gzipSite = fstest.MapFS{
	"index.html":     {Data: []byte("<!doctype html>" + strings.Repeat("<p>x</p>", 200))},
	"app.js":         {Data: []byte(strings.Repeat("console.log('emc2');\n", 400))},
	"dist/emc2.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00" + strings.Repeat("\x00\x01\x02\x03", 2000))},
}

// TestETagFollowsChanges: under --dir a file edited between requests gets a new tag, and the old
// tag no longer matches.
func TestETagFollowsChanges(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.js")
	require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("a", 1000)), 0o644))
	h := Handler(os.DirFS(dir))
	resp := get(t, h, "GET", "/app.js")
	resp.Body.Close()
	old := resp.Header.Get("ETag")
	require.NotEmpty(t, old)
	require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("b", 2000)), 0o644))
	resp = get(t, h, "GET", "/app.js", "If-None-Match", old)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, strings.Repeat("b", 2000), string(body))
	assert.NotEqual(t, old, resp.Header.Get("ETag"))
}
