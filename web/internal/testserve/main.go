// Command testserve is the static file server of the in-browser tests (web/test/gpu_test.mjs). It
// serves one directory through web.Handler, so the test pages run under the same
// Content-Security-Policy and headers as the trainer page, on a loopback address from web.Listen
// (127.0.0.1 is a secure context, which WebGPU requires), and prints the address it got on its
// first line of standard output, so a caller can ask for port 0 and read the port back.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/emc2ml/emc2/web"
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
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	ln, err := web.Listen(addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s/\n", ln.Addr())
	return http.Serve(ln, web.Handler(os.DirFS(dir)))
}
