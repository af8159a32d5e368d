package web

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/emc2ml/emc2/core/data"
)

// DefaultDataDir is where the app finds the built-in dataset's files (core/data's DefaultFiles),
// beside index.html: the browser engine is built without them (tag fetchdata) and its worker fetches
// them from here, so the wasm stays small and the browser caches the data on its own.
const DefaultDataDir = "data/default"

// WithDefaultData returns root with the built-in dataset's files added under DefaultDataDir.
func WithDefaultData(root fs.FS) (fs.FS, error) {
	files, err := data.DefaultFiles()
	if err != nil {
		return nil, fmt.Errorf("the built-in data for the web app: %w", err)
	}
	return overlayFS{root: root, dir: DefaultDataDir + "/", files: files}, nil
}

// overlayFS serves names under dir from files, and every other name from root.
type overlayFS struct {
	root  fs.FS
	dir   string // with a trailing slash
	files fs.FS
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if rest, ok := strings.CutPrefix(name, o.dir); ok {
		f, err := o.files.Open(rest)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return f, nil
	}
	return o.root.Open(name)
}
