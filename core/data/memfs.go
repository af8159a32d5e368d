package data

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// MemFS is a read-only file system held in memory: the files a browser page hands over, opened by
// the same readers as a folder on disk (OpenFS).
type MemFS struct {
	files map[string][]byte
	dirs  map[string][]string // directory → sorted names of its entries ("." is the root)
}

// NewMemFS builds a MemFS from slash-separated paths. A path that fs.ValidPath refuses (a leading
// slash, an empty, "." or ".." element) is an error naming it, as is a path that is both a file
// and a folder.
func NewMemFS(files map[string][]byte) (*MemFS, error) {
	m := &MemFS{files: map[string][]byte{}, dirs: map[string][]string{".": nil}}
	for name, b := range files {
		if !fs.ValidPath(name) || name == "." {
			return nil, fmt.Errorf("file name %q: want a relative path without empty, \".\" or \"..\" parts", name)
		}
		m.files[name] = b
	}
	for name := range m.files {
		for p := name; p != "."; {
			dir := path.Dir(p)
			if _, isFile := m.files[dir]; isFile {
				return nil, fmt.Errorf("file name %q: %q is a file, not a folder", name, dir)
			}
			known := m.dirs[dir] != nil
			if !slices.Contains(m.dirs[dir], path.Base(p)) {
				m.dirs[dir] = append(m.dirs[dir], path.Base(p))
			}
			if known {
				break
			}
			p = dir
		}
	}
	for _, names := range m.dirs {
		slices.Sort(names)
	}
	return m, nil
}

// Open opens a file or a folder.
func (m *MemFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok := m.files[name]; ok {
		return &memFile{Reader: bytes.NewReader(b), info: memInfo{name: path.Base(name), size: int64(len(b))}}, nil
	}
	if _, ok := m.dirs[name]; ok {
		return &memDir{m: m, name: name}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadDir lists a folder, sorted by name.
func (m *MemFS) ReadDir(name string) ([]fs.DirEntry, error) {
	names, ok := m.dirs[name]
	if !ok || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, len(names))
	for i, n := range names {
		out[i] = m.entry(path.Join(name, n))
	}
	return out, nil
}

func (m *MemFS) entry(name string) memInfo {
	if b, ok := m.files[name]; ok {
		return memInfo{name: path.Base(name), size: int64(len(b))}
	}
	return memInfo{name: path.Base(name), dir: true}
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	m    *MemFS
	name string
	read int // entries returned by ReadDir so far
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.m.entry(d.name), nil }
func (d *memDir) Close() error               { return nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: fs.ErrInvalid}
}

func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	all, _ := d.m.ReadDir(d.name)
	rest := all[d.read:]
	if n > 0 {
		if len(rest) == 0 {
			return nil, io.EOF
		}
		rest = rest[:min(n, len(rest))]
	}
	d.read += len(rest)
	return rest, nil
}

// memInfo is both the fs.FileInfo and the fs.DirEntry of a MemFS entry.
type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i memInfo) ModTime() time.Time         { return time.Time{} }
func (i memInfo) IsDir() bool                { return i.dir }
func (i memInfo) Sys() any                   { return nil }
func (i memInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i memInfo) Info() (fs.FileInfo, error) { return i, nil }

// TopDir is the first path element that every name shares (the folder a user picked), or ".".
func TopDir(names []string) string {
	if len(names) == 0 {
		return "."
	}
	top, _, ok := strings.Cut(names[0], "/")
	if !ok {
		return "."
	}
	for _, p := range names[1:] {
		if t, _, ok := strings.Cut(p, "/"); !ok || t != top {
			return "."
		}
	}
	return top
}
