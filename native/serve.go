package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/emc2ml/emc2/web"
)

func runServe(ctx context.Context, args []string) error {
	return serve(ctx, args, os.Stdout)
}

// serve runs `emc2 serve` until ctx is cancelled, writing the one line a user (or a test) needs,
// the URL, to stdout.
func serve(ctx context.Context, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fset.String("addr", "127.0.0.1:8080", "listen address; the host must be a loopback address or localhost")
	dir := fset.String("dir", "", "serve this folder instead of the embedded app (for developing web/app)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", fset.Args())
	}
	root, err := serveRoot(*dir)
	if err != nil {
		return err
	}
	ln, err := web.Listen(*addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := web.NewServer(root, *addr, ln)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "serving emc2 on http://%s/ (Ctrl-C stops)\n", ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Ctrl-C is the normal way to stop, so a clean shutdown is no error.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// serveRoot is the embedded app, or dir from disk when given, which must hold an index.html, with
// the built-in data beside it either way (web.DefaultDataDir). The folder is opened as an os.Root,
// so that no name, symbolic links included, reaches a file outside it (os.DirFS would follow a link
// to /etc/passwd).
func serveRoot(dir string) (fs.FS, error) {
	if dir == "" {
		return web.App()
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("serve --dir %s: %w", dir, err)
	}
	// The Root stays open for as long as the process serves from it.
	root := r.FS()
	if _, err := fs.Stat(root, "index.html"); err != nil {
		return nil, fmt.Errorf("serve --dir %s: no index.html there: %w", dir, err)
	}
	return web.WithDefaultData(root)
}
