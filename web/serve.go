// Package web serves the browser trainer (web/app, with its built files in web/app/dist) from this
// machine: the files embedded in the emc2 binary, or a folder on disk, through one handler that
// sets a strict Content-Security-Policy and listens on loopback addresses only.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path"
	"strings"
)

// appFiles holds web/app, dist/ included when `make web` built it before `go build`. "all:" keeps
// files whose names start with "." or "_", which bundlers sometimes emit.
//
//go:embed all:app
var appFiles embed.FS

// wasmPath is the file the page cannot run without; its absence means the binary was built with
// plain `go build`, before `make web` produced dist/.
const wasmPath = "dist/emc2.wasm"

// App returns the embedded web app, rooted at web/app, or an error when this binary was built
// without its built files.
func App() (fs.FS, error) {
	sub, err := fs.Sub(appFiles, "app")
	if err != nil {
		return nil, fmt.Errorf("embedded web app: %w", err)
	}
	return appFrom(sub)
}

// appFrom checks that root holds a built app, so the check is testable without the embedded tree.
func appFrom(root fs.FS) (fs.FS, error) {
	if _, err := fs.Stat(root, wasmPath); err != nil {
		return nil, errors.New("this emc2 binary was built without the web app (web/app/" + wasmPath +
			"); build it with `make build` (which runs `make web` first)")
	}
	return root, nil
}

// CSP is the Content-Security-Policy of every response. The page makes no request outside its own
// origin and has no inline script or style; 'wasm-unsafe-eval' is what WebAssembly compilation
// needs, and blob:/data: images are the charts and downloads the page renders itself.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// securityHeaders go on every response, errors included.
var securityHeaders = [][2]string{
	{"Content-Security-Policy", CSP},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	// Revalidate every time: a rebuilt app must never run against a cached older wasm or worker.
	{"Cache-Control", "no-cache"},
}

// contentTypes are set explicitly rather than from the system's MIME table, which varies by
// machine: instantiateStreaming insists on application/wasm, and module scripts and workers on a
// JavaScript type (with nosniff, a wrong type is fatal).
var contentTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
}

// Handler serves the files of root for GET and HEAD: "/" is index.html, and directories are not
// listed (404). fs.FS names cannot leave root, so no request can reach a file outside it.
func Handler(root fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = &headerWriter{ResponseWriter: w}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := "index.html"
		if r.URL.Path != "/" {
			if strings.HasSuffix(r.URL.Path, "/") {
				http.NotFound(w, r) // no directory listings
				return
			}
			name = strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		}
		if !fs.ValidPath(name) {
			http.NotFound(w, r)
			return
		}
		serveFile(w, r, root, name)
	})
}

// serveFile serves one regular file with http.ServeContent (ranges, HEAD, If-Modified-Since), and
// 404 for anything else, without http.FileServer's redirects.
func serveFile(w http.ResponseWriter, r *http.Request, root fs.FS, name string) {
	f, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		// Some fs.FS files cannot seek; ServeContent needs to, for ranges and sniffing.
		b, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, "cannot read "+name, http.StatusInternalServerError)
			return
		}
		content = bytes.NewReader(b)
	}
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, name, st.ModTime(), content)
}

// headerWriter sets the security headers just before the status line goes out, so that they are on
// every response, even those whose writers delete headers first (ServeContent drops Cache-Control
// on its error responses).
type headerWriter struct {
	http.ResponseWriter
	wrote bool
}

func (h *headerWriter) WriteHeader(code int) {
	if !h.wrote {
		h.wrote = true
		for _, kv := range securityHeaders {
			h.Header().Set(kv[0], kv[1])
		}
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerWriter) Write(b []byte) (int, error) {
	if !h.wrote {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *headerWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// Listen listens on addr, whose host must be a loopback IP or "localhost". WebGPU needs a secure
// context, which a plain-http page only is on loopback, and the trainer is for this machine: it
// has no authentication, so it must not be reachable from the network.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("refusing to listen on %q: the host must be a loopback address (127.0.0.1, ::1 or localhost), "+
			"because WebGPU needs a secure context, which plain http only is on loopback, and the page is for this machine only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	// "localhost" resolves through the system; make sure it did land on loopback.
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("refusing to listen on %q: it resolved to %s, which is not a loopback address", addr, ln.Addr())
	}
	return ln, nil
}
