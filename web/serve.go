// Package web serves the browser trainer (web/app, with its built files in web/app/dist) from this
// machine: the files embedded in the emc2 binary, or a folder on disk, through one handler that
// sets a strict Content-Security-Policy and listens on loopback addresses only.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// appFiles holds web/app, dist/ included when `make web` built it before `go build`. "all:" keeps
// files whose names start with "." or "_", which bundlers sometimes emit.
//
//go:embed all:app
var appFiles embed.FS

// wasmPath is the file the page cannot run without; its absence means the binary was built with
// plain `go build`, before `make web` produced dist/.
const wasmPath = "dist/emc2.wasm"

// App returns the embedded web app, rooted at web/app, with the built-in dataset under
// DefaultDataDir, or an error when this binary was built without the app's built files.
func App() (fs.FS, error) {
	sub, err := fs.Sub(appFiles, "app")
	if err != nil {
		return nil, fmt.Errorf("embedded web app: %w", err)
	}
	root, err := appFrom(sub)
	if err != nil {
		return nil, err
	}
	return WithDefaultData(root)
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
	".gz":   "application/gzip", // served as is: never Content-Encoding, which the browser would undo
}

// Handler serves the files of root for GET and HEAD: "/" is index.html, and directories are not
// listed (404). fs.FS names cannot leave root, so no request can reach a file outside it (give an
// os.Root's FS, not os.DirFS, for a folder that may hold symbolic links). Requests whose Host is
// not a loopback name are refused (see HandlerFor); compressible files go out gzipped to clients
// that accept it.
func Handler(root fs.FS) http.Handler { return HandlerFor(root) }

// HandlerFor is Handler answering, besides "localhost" and loopback IP addresses, to the given host
// names (the host of the address it listens on). Any other Host header gets 421 Misdirected
// Request: a page on another site that points its own name at 127.0.0.1 (DNS rebinding) would
// otherwise read this server as same-origin.
func HandlerFor(root fs.FS, hosts ...string) http.Handler {
	allowed := map[string]bool{"localhost": true}
	for _, h := range hosts {
		allowed[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	return &handler{root: root, allowed: allowed, gz: &fileMemo[[]byte]{}, tags: &fileMemo[string]{}}
}

type handler struct {
	root    fs.FS
	allowed map[string]bool
	gz      *fileMemo[[]byte] // gzipped content of compressible files
	tags    *fileMemo[string] // ETags
}

// warm hashes and compresses name into the caches ahead of its first request, so the page's first
// load does not wait for the wasm to be compressed (about a second for 6 MB). A build-made .br copy
// makes the gzip wait for a client without br: browsers that accept br never need it, and on two
// cores the compression would compete with the page's own start.
func (h *handler) warm(name string) {
	st, err := fs.Stat(h.root, name)
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	f, err := h.root.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		h.etag(name, f, st)
		if br, _ := precompressed(h.root, name+".br", st); br != nil {
			br.Close()
		} else if compressible[path.Ext(name)] {
			h.gz.get(name, st, func() []byte { return gzipped(f, st) })
		}
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	root, allowed := h.root, h.allowed
	w = &headerWriter{ResponseWriter: w}
	if !hostAllowed(r.Host, allowed) {
		http.Error(w, fmt.Sprintf("emc2 serve answers only to localhost and loopback addresses, not to Host %q "+
			"(a page on another site may be trying to reach it through DNS rebinding)", r.Host), http.StatusMisdirectedRequest)
		return
	}
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
	h.serveFile(w, r, root, name)
}

// hostAllowed reports whether the Host header names this machine: "localhost", a loopback IP
// literal, or one of the allowed names, with or without a port.
func hostAllowed(hostport string, allowed map[string]bool) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || allowed[ip.String()]
	}
	return allowed[host]
}

// serveFile serves one regular file with http.ServeContent (ranges, HEAD, If-None-Match against its
// ETag, If-Modified-Since), and 404 for anything else, without http.FileServer's redirects.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, root fs.FS, name string) {
	// Stat before Open: opening a named pipe would block until something writes to it.
	st, err := fs.Stat(root, name)
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	f, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err = f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	ct, typed := contentTypes[path.Ext(name)]
	if typed {
		w.Header().Set("Content-Type", ct)
	}
	tag := h.etag(name, f, st)
	if tag != "" {
		w.Header().Set("ETag", `"`+tag+`"`)
	}
	if compressible[path.Ext(name)] {
		// The response differs by Accept-Encoding whichever form this client gets, so caches must
		// key on it for both.
		w.Header().Set("Vary", "Accept-Encoding")
		if accepts(r.Header, "br") {
			if br, brSt := precompressed(root, name+".br", st); br != nil {
				defer br.Close()
				w.Header().Set("Content-Encoding", "br")
				if tag != "" {
					w.Header().Set("ETag", `"`+tag+`-br"`)
				}
				http.ServeContent(w, r, name, brSt.ModTime(), br)
				return
			}
		}
		if accepts(r.Header, "gzip") {
			if zb := h.gz.get(name, st, func() []byte { return gzipped(f, st) }); zb != nil {
				w.Header().Set("Content-Encoding", "gzip")
				if tag != "" {
					w.Header().Set("ETag", `"`+tag+`-gzip"`) // a strong ETag names one representation
				}
				http.ServeContent(w, r, name, st.ModTime(), bytes.NewReader(zb))
				return
			}
			// get may have read f and found gzip not worth it: start again.
			if sk, ok := f.(io.Seeker); ok {
				if _, err := sk.Seek(0, io.SeekStart); err != nil {
					http.Error(w, "cannot read "+name, http.StatusInternalServerError)
					return
				}
			}
		}
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		// Some fs.FS files cannot seek; ServeContent needs to, for ranges and sniffing.
		b, err := io.ReadAll(io.LimitReader(f, maxBuffered+1))
		if err != nil || len(b) > maxBuffered {
			http.Error(w, "cannot read "+name, http.StatusInternalServerError)
			return
		}
		content = bytes.NewReader(b)
	}
	http.ServeContent(w, r, name, st.ModTime(), content)
}

// compressible are the file types worth gzipping: text and WebAssembly (the 6.3 MB wasm shrinks to
// 1.75 MB). Images and .gz files (the built-in data) are compressed already.
var compressible = map[string]bool{".wasm": true, ".js": true, ".mjs": true, ".css": true, ".html": true,
	".json": true, ".svg": true, ".txt": true, ".md": true, ".map": true}

// maxBuffered caps a file read whole into memory: one that cannot seek, or one being gzipped.
const maxBuffered = 64 << 20

// accepts reports whether an Accept-Encoding header accepts the content coding ("gzip" or "br"):
// it is listed with a quality above 0 ("x-gzip" counts as "gzip"), or else "*" is.
func accepts(h http.Header, coding string) bool {
	named, star := -1.0, -1.0
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			fields := strings.Split(part, ";")
			q := 1.0
			for _, p := range fields[1:] {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0 // a quality we cannot read accepts nothing
					}
					q = f
				}
			}
			c := strings.ToLower(strings.TrimSpace(fields[0]))
			switch {
			case c == coding || coding == "gzip" && c == "x-gzip":
				named = max(named, q)
			case c == "*":
				star = max(star, q)
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// precompressed opens the build's compressed copy of a file (name, e.g. "dist/emc2.wasm.br", beside
// the file of info st), or returns nil when there is none or it is older than the file: under
// --dir, a file rebuilt or edited since it was compressed must not be served as its old self.
// Brotli at its best level makes the engine a quarter smaller than gzip does (docs/BENCHMARKS.md),
// but takes 20 s, so `make web` does it once per build rather than the server per start.
func precompressed(root fs.FS, name string, st fs.FileInfo) (io.ReadSeekCloser, fs.FileInfo) {
	if zst, err := fs.Stat(root, name); err != nil || !zst.Mode().IsRegular() {
		return nil, nil // and never open a named pipe, which would block
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, nil
	}
	zst, err := f.Stat()
	rs, ok := f.(io.ReadSeekCloser)
	if err != nil || !ok || !zst.Mode().IsRegular() || zst.ModTime().Before(st.ModTime()) || zst.Size() == 0 {
		f.Close()
		return nil, nil
	}
	return rs, zst
}

// gzipped returns the gzipped content of f (of info st), or nil to serve it as is (small, not worth
// it, or unreadable). Compressing when first asked (see fileMemo), rather than at build time or at
// start-up, keeps the binary and start-up as they were and serves `--dir` (whose files change while a
// page is developed) the same way as the embedded app.
func gzipped(f fs.File, st fs.FileInfo) []byte {
	if st.Size() > maxBuffered || st.Size() < 256 {
		return nil
	}
	if _, ok := f.(io.Seeker); !ok {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxBuffered+1))
	if err != nil || int64(len(raw)) != st.Size() {
		return nil
	}
	var b bytes.Buffer
	// The best level: each file is compressed once (the engine at start-up, by warm) and then
	// served from the cache, so its extra time buys every download's bytes. On the 6.3 MB engine:
	// 1.62 MB in 0.6 s against 1.64 MB in 0.2 s at the default level.
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(raw); err != nil || zw.Close() != nil {
		return nil
	}
	if b.Len() < len(raw)*9/10 {
		return b.Bytes()
	}
	return nil
}

// NewServer returns the http.Server for Handler(root) on ln, with the host of ln's address and of
// addr (as given on the command line, e.g. "localhost:8080") allowed as Host, and timeouts that
// let no client hold a connection for ever: headers within 10 s, a whole request within 30 s, a
// response written within 2 minutes (the 6 MB wasm takes well under a second on loopback), idle
// keep-alive connections closed after 2 minutes.
func NewServer(root fs.FS, addr string, ln net.Listener) *http.Server {
	var hosts []string
	for _, a := range []string{addr, ln.Addr().String()} {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" {
			hosts = append(hosts, h)
		}
	}
	h := HandlerFor(root, hosts...).(*handler)
	go h.warm(wasmPath)
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
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
