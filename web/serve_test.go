package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var site = fstest.MapFS{
	"index.html":          {Data: []byte("<!doctype html><title>emc2</title>")},
	"app.js":              {Data: []byte("console.log(1)")},
	"views/run.js":        {Data: []byte("export const x = 1")},
	"worker.mjs":          {Data: []byte("export {}")},
	"style.css":           {Data: []byte("body{}")},
	"dist/emc2.wasm":      {Data: []byte("\x00asm\x01\x00\x00\x00")},
	"dist/chart.umd.js":   {Data: []byte("var Chart")},
	"dist/sub/index.html": {Data: []byte("<p>nested")},
	"notes.txt":           {Data: []byte("plain")},
}

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1:8080"
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerResponses(t *testing.T) {
	h := Handler(site)
	for _, tc := range []struct {
		name, method, target string
		hdr                  []string
		code                 int
		ctype, body          string
	}{
		{"root is index.html", "GET", "/", nil, 200, "text/html; charset=utf-8", "<!doctype html><title>emc2</title>"},
		{"index.html itself", "GET", "/index.html", nil, 200, "text/html; charset=utf-8", "<!doctype html><title>emc2</title>"},
		{"js", "GET", "/app.js", nil, 200, "text/javascript; charset=utf-8", "console.log(1)"},
		{"mjs", "GET", "/worker.mjs", nil, 200, "text/javascript; charset=utf-8", "export {}"},
		{"module in a folder", "GET", "/views/run.js", nil, 200, "text/javascript; charset=utf-8", "export const x = 1"},
		{"css", "GET", "/style.css", nil, 200, "text/css; charset=utf-8", "body{}"},
		{"wasm", "GET", "/dist/emc2.wasm", nil, 200, "application/wasm", "\x00asm\x01\x00\x00\x00"},
		{"nested js", "GET", "/dist/chart.umd.js", nil, 200, "text/javascript; charset=utf-8", "var Chart"},
		{"head", "HEAD", "/app.js", nil, 200, "text/javascript; charset=utf-8", ""},
		{"range", "GET", "/app.js", []string{"Range", "bytes=0-6"}, 206, "text/javascript; charset=utf-8", "console"},
		{"bad range", "GET", "/app.js", []string{"Range", "bytes=100-200"}, 416, "", ""},
		{"post", "POST", "/", nil, 405, "", ""},
		{"put", "PUT", "/app.js", nil, 405, "", ""},
		{"delete", "DELETE", "/app.js", nil, 405, "", ""},
		{"missing", "GET", "/nope.js", nil, 404, "", ""},
		{"directory with slash", "GET", "/dist/", nil, 404, "", ""},
		{"directory with index", "GET", "/dist/sub/", nil, 404, "", ""},
		{"directory without slash", "GET", "/dist", nil, 404, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, h, tc.method, tc.target, tc.hdr...)
			defer resp.Body.Close()
			assert.Equal(t, tc.code, resp.StatusCode)
			for _, kv := range securityHeaders {
				assert.Equal(t, kv[1], resp.Header.Get(kv[0]), kv[0])
			}
			if tc.code == http.StatusMethodNotAllowed {
				assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
			}
			if tc.ctype != "" {
				assert.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
			}
			if tc.code < 300 {
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.body, string(b))
			}
		})
	}
}

// TestHandlerStaysInRoot serves a folder next to a secret file and tries to climb out of it.
func TestHandlerStaysInRoot(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("SECRET"), 0o600))
	root := filepath.Join(dir, "site")
	require.NoError(t, os.Mkdir(root, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "index.html"), []byte("ok"), 0o600))
	h := Handler(os.DirFS(root))

	for _, target := range []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/..%2fsecret.txt",
		"/a/../../secret.txt",
		"/..\\secret.txt",
		"/" + filepath.Join(dir, "secret.txt"),
	} {
		t.Run(target, func(t *testing.T) {
			resp := get(t, h, "GET", target)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound}, resp.StatusCode)
			assert.NotContains(t, string(b), "SECRET")
		})
	}

	// The same over a real connection, where the client sends the path as written.
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := http.DefaultTransport.(*http.Transport).Clone().DialContext(t.Context(), "tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /../secret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	b, err := io.ReadAll(conn)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "SECRET")
	assert.True(t, strings.HasPrefix(string(b), "HTTP/1.1 400") || strings.HasPrefix(string(b), "HTTP/1.1 404"), string(b))
}

func TestListen(t *testing.T) {
	for _, tc := range []struct {
		addr, wantErr string
	}{
		{"127.0.0.1:0", ""},
		{"localhost:0", ""},
		{"0.0.0.0:0", "loopback"},
		{":0", "loopback"},
		{"192.168.1.2:0", "secure context"},
		{"example.com:0", "loopback"},
		{"127.0.0.1", "listen address"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			ln, err := Listen(tc.addr)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			defer ln.Close()
			assert.Contains(t, ln.Addr().String(), ":")
		})
	}
}

func TestAppNeedsTheBuiltWasm(t *testing.T) {
	_, err := appFrom(fstest.MapFS{"index.html": {Data: []byte("x")}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make build")
	assert.Contains(t, err.Error(), "web/app/dist/emc2.wasm")

	got, err := appFrom(site)
	require.NoError(t, err)
	_, err = fs.Stat(got, "index.html")
	assert.NoError(t, err)
}

// TestAppEmbedded checks the embedded tree whichever way this binary was built.
func TestAppEmbedded(t *testing.T) {
	_, err := fs.Stat(appFiles, "app/index.html")
	require.NoError(t, err, "web/app/index.html must be embedded")
	app, err := App()
	if _, statErr := fs.Stat(appFiles, "app/"+wasmPath); statErr != nil {
		assert.Error(t, err, "no dist/emc2.wasm embedded")
		return
	}
	require.NoError(t, err)
	_, err = fs.Stat(app, "index.html")
	assert.NoError(t, err)
}

// TestPageMetaCSPMatchesHeader keeps the page's own <meta> policy (for when it is served by another
// server) equal to the header's; frame-ancestors is the one directive a <meta> cannot carry.
func TestPageMetaCSPMatchesHeader(t *testing.T) {
	page, err := os.ReadFile("app/index.html")
	require.NoError(t, err)
	m := regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]+)"`).FindSubmatch(page)
	require.NotNil(t, m, "index.html declares its CSP")
	assert.Equal(t, strings.TrimSuffix(CSP, "; frame-ancestors 'none'"), string(m[1]))
}

// TestAppModulesEmbedded follows the page's module graph through the embedded tree: index.html's
// module script, then every relative import of every module, must be embedded and served as
// JavaScript (a module served with another type does not run, and takes the page down with it).
func TestAppModulesEmbedded(t *testing.T) {
	root, err := fs.Sub(appFiles, "app")
	require.NoError(t, err)
	page, err := fs.ReadFile(root, "index.html")
	require.NoError(t, err)
	entries := regexp.MustCompile(`<script type="module" src="([^"]+)"`).FindAllSubmatch(page, -1)
	require.NotEmpty(t, entries, "index.html loads its code as a module")
	h := Handler(root)
	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}/[^']+)'|^\s*import\s+'(\.{1,2}/[^']+)'`)
	seen := map[string]bool{}
	var queue []string
	for _, m := range entries {
		queue = append(queue, path.Clean(string(m[1])))
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		src, err := fs.ReadFile(root, name)
		if !assert.NoError(t, err, "%s is imported but not embedded", name) {
			continue
		}
		resp := get(t, h, "GET", "/"+name)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"), name)
		for _, m := range imports.FindAllSubmatch(src, -1) {
			dep := string(m[1]) + string(m[2])
			queue = append(queue, path.Join(path.Dir(name), dep))
		}
	}
	assert.Greater(t, len(seen), 1, "the entry module imports the others: %v", seen)
}
