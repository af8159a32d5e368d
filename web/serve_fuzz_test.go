package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzHandlerPath sends arbitrary request paths, methods and Host headers to a folder served next to
// a secret file: nothing may panic, no answer may carry the secret, and a 200 must be one of the
// folder's own files, asked for from a loopback name.
func FuzzHandlerPath(f *testing.F) {
	for _, s := range []struct{ method, path, host, accept string }{
		{"GET", "/", "127.0.0.1", ""}, {"GET", "/index.html", "localhost:1", "gzip"},
		{"GET", "/../secret.txt", "127.0.0.1", ""}, {"GET", "/%2e%2e/secret.txt", "127.0.0.1", ""},
		{"GET", "/sub/../../secret.txt", "[::1]", ""}, {"HEAD", "/app.js", "127.0.0.1", "*"},
		{"GET", "//secret.txt", "127.0.0.1", ""}, {"GET", "/app.js", "evil.example", "gzip"},
		{"POST", "/", "127.0.0.1", ""}, {"GET", "/sub/", "127.0.0.1", ""}, {"GET", "\\..\\secret.txt", "127.0.0.1", ""},
		{"GET", "/link.txt", "127.0.0.1", ""}, {"GET", "/app.js\x00", "127.0.0.1", ""},
	} {
		f.Add(s.method, s.path, s.host, s.accept)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("SECRET"), 0o600); err != nil {
		f.Fatal(err)
	}
	siteDir := filepath.Join(dir, "site")
	files := map[string]string{"index.html": "<title>x</title>", "app.js": strings.Repeat("var a=1;", 100), "sub/b.css": "b{}"}
	for name, body := range files {
		p := filepath.Join(siteDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	_ = os.Symlink("../secret.txt", filepath.Join(siteDir, "link.txt"))
	root, err := os.OpenRoot(siteDir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { root.Close() })
	h := Handler(root.FS())

	f.Fuzz(func(t *testing.T, method, p, host, accept string) {
		req := &http.Request{Method: method, URL: &url.URL{Path: p}, Host: host, Header: http.Header{},
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "127.0.0.1:1", Body: http.NoBody}
		req.Header.Set("Accept-Encoding", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Result().Body)
		if strings.Contains(string(body), "SECRET") {
			t.Fatalf("%s %q served the secret", method, p)
		}
		for _, kv := range securityHeaders {
			if rec.Header().Get(kv[0]) != kv[1] {
				t.Fatalf("%s %q: header %s = %q", method, p, kv[0], rec.Header().Get(kv[0]))
			}
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusPartialContent {
			return
		}
		if !hostAllowed(host, map[string]bool{"localhost": true}) {
			t.Fatalf("Host %q was answered %d", host, rec.Code)
		}
		if method != http.MethodGet && method != http.MethodHead {
			t.Fatalf("method %q was answered %d", method, rec.Code)
		}
		name := "index.html"
		if p != "/" {
			name = strings.TrimPrefix(p, "/")
		}
		if _, ok := files[strings.TrimPrefix(filepathClean(name), "/")]; !ok {
			t.Fatalf("%q answered %d but names no file of the site", p, rec.Code)
		}
	})
}

// filepathClean cleans a slash path the way the handler does.
func filepathClean(p string) string { return filepath.ToSlash(filepath.Clean("/" + p)) }
