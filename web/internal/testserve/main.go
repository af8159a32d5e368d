// Command testserve is the static file server of the in-browser tests (web/test/gpu_test.mjs). It
// listens on the loopback interface only (127.0.0.1 is a secure context, which WebGPU requires),
// serves one directory with caching off and .wasm as application/wasm (which
// WebAssembly.instantiateStreaming insists on), and prints the address it got on its first line of
// standard output, so a caller can ask for port 0 and read the port back.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address; the host must be a loopback address")
	dir := flag.String("dir", "web", "directory to serve")
	flag.Parse()
	if err := run(*addr, *dir); err != nil {
		log.Fatalf("testserve: %v", err)
	}
}

func run(addr, dir string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to listen on %q: loopback addresses only", addr)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s/\n", ln.Addr())
	return http.Serve(ln, handler(http.Dir(dir)))
}

func handler(root http.FileSystem) http.Handler {
	files := http.FileServer(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		switch path.Ext(r.URL.Path) {
		case ".wasm":
			w.Header().Set("Content-Type", "application/wasm")
		case ".mjs", ".js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		files.ServeHTTP(w, r)
	})
}
