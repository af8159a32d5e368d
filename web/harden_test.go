package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostAllowlist: only loopback names reach the files; anything else (a DNS-rebinding page sends
// its own name) gets 421 with the security headers still on.
func TestHostAllowlist(t *testing.T) {
	h := HandlerFor(site, "emc2.localhost")
	for _, tc := range []struct {
		host string
		code int
	}{
		{"127.0.0.1:8080", 200},
		{"127.0.0.1", 200},
		{"localhost:8080", 200},
		{"LOCALHOST:1", 200},
		{"[::1]:8080", 200},
		{"127.0.0.2:9", 200},
		{"emc2.localhost:8080", 200},
		{"evil.example", 421},
		{"evil.example:8080", 421},
		{"localhost.evil.example", 421},
		{"127.0.0.1.nip.io", 421},
		{"192.168.1.2:8080", 421},
		{"[::2]:8080", 421},
		{"", 421},
		{"localhost:8080:1", 421},
	} {
		t.Run(tc.host, func(t *testing.T) {
			resp := get(t, h, "GET", "/app.js", "Host", tc.host)
			defer resp.Body.Close()
			assert.Equal(t, tc.code, resp.StatusCode)
			for _, kv := range securityHeaders {
				assert.Equal(t, kv[1], resp.Header.Get(kv[0]), kv[0])
			}
			b, _ := io.ReadAll(resp.Body)
			if tc.code == 421 {
				assert.Contains(t, string(b), "answers only to localhost and loopback addresses")
				assert.NotContains(t, string(b), "console.log")
			}
		})
	}
}

// TestGzip: compressible files go out gzipped to clients that accept gzip, with Vary on both forms;
// the bytes decompress to the file; images and small files are left alone.
func TestGzip(t *testing.T) {
	big := strings.Repeat("console.log('emc2');\n", 400)
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{0, 1, 2, 3}, 2000)...)
	root := fstest.MapFS{
		"index.html":     {Data: []byte("<!doctype html>" + strings.Repeat("<p>x</p>", 200))},
		"app.js":         {Data: []byte(big)},
		"dist/emc2.wasm": {Data: wasm},
		"tiny.js":        {Data: []byte("1")},
		"pic.png":        {Data: bytes.Repeat([]byte{1}, 4000)},
	}
	h := Handler(root)
	for _, tc := range []struct {
		name, target, accept string
		gzipped, vary        bool
		ctype                string
		want                 []byte
	}{
		{"js, gzip accepted", "/app.js", "gzip, deflate, br", true, true, "text/javascript; charset=utf-8", []byte(big)},
		{"wasm, gzip accepted", "/dist/emc2.wasm", "gzip", true, true, "application/wasm", wasm},
		{"index, gzip accepted", "/", "br;q=1.0, gzip;q=0.8", true, true, "text/html; charset=utf-8", root["index.html"].Data},
		{"js, no Accept-Encoding", "/app.js", "", false, true, "text/javascript; charset=utf-8", []byte(big)},
		{"js, gzip refused by q=0", "/app.js", "gzip;q=0, identity", false, true, "text/javascript; charset=utf-8", []byte(big)},
		{"js, star with gzip refused", "/app.js", "*, gzip;q=0", false, true, "text/javascript; charset=utf-8", []byte(big)},
		{"js, star", "/app.js", "*", true, true, "text/javascript; charset=utf-8", []byte(big)},
		{"js, only br", "/app.js", "br", false, true, "text/javascript; charset=utf-8", []byte(big)},
		{"tiny js not worth it", "/tiny.js", "gzip", false, true, "text/javascript; charset=utf-8", []byte("1")},
		{"png never compressed", "/pic.png", "gzip", false, false, "image/png", root["pic.png"].Data},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second answer comes from the cache.
			for range 2 {
				resp := get(t, h, "GET", tc.target, "Accept-Encoding", tc.accept)
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
				assert.Equal(t, map[bool]string{true: "Accept-Encoding"}[tc.vary], resp.Header.Get("Vary"))
				for _, kv := range securityHeaders {
					assert.Equal(t, kv[1], resp.Header.Get(kv[0]), kv[0])
				}
				if !tc.gzipped {
					assert.Empty(t, resp.Header.Get("Content-Encoding"))
					assert.Equal(t, tc.want, body)
					continue
				}
				assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
				assert.Less(t, len(body), len(tc.want)/2)
				zr, err := gzip.NewReader(bytes.NewReader(body))
				require.NoError(t, err)
				plain, err := io.ReadAll(zr)
				require.NoError(t, err)
				assert.Equal(t, tc.want, plain)
			}
		})
	}
}

// TestGzipFollowsChanges: under --dir a file edited between requests is compressed afresh.
func TestGzipFollowsChanges(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.js")
	require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("a", 1000)), 0o644))
	h := Handler(os.DirFS(dir))
	read := func() string {
		resp := get(t, h, "GET", "/app.js", "Accept-Encoding", "gzip")
		defer resp.Body.Close()
		zr, err := gzip.NewReader(resp.Body)
		require.NoError(t, err)
		b, err := io.ReadAll(zr)
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, strings.Repeat("a", 1000), read())
	require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("b", 2000)), 0o644))
	assert.Equal(t, strings.Repeat("b", 2000), read())
}

// TestPrecompressedBrotli: a file with a build-made ".br" copy beside it goes out as that copy to
// clients that accept br (gzip to the others), with its own ETag; a copy older than the file (rebuilt
// or edited under --dir) is never served.
func TestPrecompressedBrotli(t *testing.T) {
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{0, 1, 2, 3}, 2000)...)
	br := []byte("brotli bytes, served as they are")
	built := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	fresh := fstest.MapFS{
		"dist/emc2.wasm":    {Data: wasm, ModTime: built},
		"dist/emc2.wasm.br": {Data: br, ModTime: built.Add(time.Second)},
	}
	stale := fstest.MapFS{
		"dist/emc2.wasm":    {Data: wasm, ModTime: built.Add(time.Minute)},
		"dist/emc2.wasm.br": {Data: br, ModTime: built},
	}
	for _, tc := range []struct {
		name     string
		root     fstest.MapFS
		accept   string
		encoding string
	}{
		{"br accepted", fresh, "gzip, deflate, br, zstd", "br"},
		{"br refused", fresh, "gzip, br;q=0", "gzip"},
		{"no br", fresh, "gzip", "gzip"},
		{"nothing accepted", fresh, "", ""},
		{"stale copy", stale, "gzip, br", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, Handler(tc.root), "GET", "/dist/emc2.wasm", "Accept-Encoding", tc.accept)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/wasm", resp.Header.Get("Content-Type"))
			assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
			assert.Equal(t, tc.encoding, resp.Header.Get("Content-Encoding"))
			switch tc.encoding {
			case "br":
				assert.Equal(t, br, body)
				assert.True(t, strings.HasSuffix(resp.Header.Get("ETag"), `-br"`), resp.Header.Get("ETag"))
			case "gzip":
				zr, err := gzip.NewReader(bytes.NewReader(body))
				require.NoError(t, err)
				plain, err := io.ReadAll(zr)
				require.NoError(t, err)
				assert.Equal(t, wasm, plain)
			default:
				assert.Equal(t, wasm, body)
			}
		})
	}
}

// TestWarmLeavesGzipToClientsWithoutBr: the server gzips the engine ahead of its first request only
// when there is no build-made .br copy, which the browsers that accept br get instead.
func TestWarmLeavesGzipToClientsWithoutBr(t *testing.T) {
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{0, 1, 2, 3}, 2000)...)
	for _, withBr := range []bool{false, true} {
		root := fstest.MapFS{wasmPath: {Data: wasm}}
		if withBr {
			root[wasmPath+".br"] = &fstest.MapFile{Data: []byte("brotli bytes")}
		}
		h := HandlerFor(root).(*handler)
		h.warm(wasmPath)
		_, gzipped := h.gz.entries[wasmPath]
		assert.Equal(t, !withBr, gzipped, "with a .br copy: %v", withBr)
		assert.Contains(t, h.tags.entries, wasmPath, "the ETag is computed either way")
	}
}

// TestRootFSStaysInside: served through an os.Root (as `emc2 serve --dir` does), symbolic links
// that leave the folder are not followed; links inside it are.
func TestRootFSStaysInside(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("SECRET"), 0o600))
	site := filepath.Join(dir, "site")
	require.NoError(t, os.MkdirAll(filepath.Join(site, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(site, "index.html"), []byte("ok"), 0o600))
	links := map[string]string{
		"p.txt":        filepath.Join(dir, "secret.txt"),
		"rel.txt":      "../secret.txt",
		"sub/deep.txt": "../../secret.txt",
		"up":           "..",
		"passwd.txt":   "/etc/passwd",
		"inside.html":  "index.html",
	}
	for name, target := range links {
		if os.Symlink(target, filepath.Join(site, name)) != nil {
			t.Skip("no symbolic links here")
		}
	}
	r, err := os.OpenRoot(site)
	require.NoError(t, err)
	defer r.Close()
	h := Handler(r.FS())
	for _, target := range []string{"/p.txt", "/rel.txt", "/sub/deep.txt", "/up/secret.txt", "/passwd.txt"} {
		t.Run(target, func(t *testing.T) {
			resp := get(t, h, "GET", target)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			assert.NotContains(t, string(b), "SECRET")
			assert.NotContains(t, string(b), "root:")
		})
	}
	resp := get(t, h, "GET", "/inside.html")
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "ok", string(b), "a link that stays inside is followed")
}

// TestNewServerTimeouts: every timeout is set, and the Host allowlist includes the listen address.
func TestNewServerTimeouts(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	srv := NewServer(site, "localhost:0", ln)
	assert.Equal(t, 10*time.Second, srv.ReadHeaderTimeout)
	assert.Equal(t, 30*time.Second, srv.ReadTimeout)
	assert.Equal(t, 2*time.Minute, srv.WriteTimeout)
	assert.Equal(t, 2*time.Minute, srv.IdleTimeout)
	assert.Equal(t, 64<<10, srv.MaxHeaderBytes)

	go srv.Serve(ln)
	defer srv.Close()
	// A client that sends half a header line is cut off rather than held for ever; shorten the
	// timeout to see it without waiting 10 s.
	srv.ReadHeaderTimeout = 200 * time.Millisecond
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHo")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.ReadAll(conn)
	assert.NoError(t, err, "the server closes the connection (EOF) before our 10 s deadline")
}

func TestAccepts(t *testing.T) {
	for _, tc := range []struct {
		header   string
		gzip, br bool
	}{
		{"", false, false},
		{"gzip", true, false},
		{"GZIP", true, false},
		{"x-gzip", true, false},
		{"deflate, gzip;q=0.5", true, false},
		{"gzip;q=0", false, false},
		{"gzip; q=0.000", false, false},
		{"gzip;q=0.001", true, false},
		{"gzip;q=abc", false, false},
		{"gzip;q=2", false, false},
		{"*", true, true},
		{"*;q=0", false, false},
		{"*;q=0, gzip", true, false},
		{"*, br;q=0", true, false},
		{"identity", false, false},
		{"br, zstd", false, true},
		{"gzip, deflate, br, zstd", true, true}, // what Chromium sends, to 127.0.0.1 too
		{"x-br", false, false},
		{",,;;==", false, false},
	} {
		t.Run(tc.header, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Accept-Encoding", tc.header)
			}
			assert.Equal(t, tc.gzip, accepts(h, "gzip"), "gzip")
			assert.Equal(t, tc.br, accepts(h, "br"), "br")
		})
	}
}
