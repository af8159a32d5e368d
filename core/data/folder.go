package data

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif"  // register the GIF decoder
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Limits on folder images: the output side, and the decoded size of one source image.
const (
	maxFolderSize   = 1024
	maxSourcePixels = 1 << 26
)

// FolderOptions control how a folder of images becomes a dataset.
type FolderOptions struct {
	// Size is the side, in pixels, of the square images produced (center crop, then resize).
	// 0 means 32.
	Size int
	// Channels is 1 for grayscale or 3 for RGB. 0 means 1 when every image is gray
	// (red = green = blue everywhere after resizing) and 3 otherwise.
	Channels int
}

// Skipped names a file that was left out of a dataset, and why.
type Skipped struct {
	Path   string // path in the file system the dataset was read from
	Reason string
}

// rgbSet holds images resized to RGB while a folder is read, before the channel count is settled.
type rgbSet struct {
	n      int
	pix    []uint8
	labels []int32
	gray   bool // every image so far is gray
}

// LoadFolder reads PNG, JPEG and GIF images (recognised by content, not by name) from dir in fsys.
//
// The first-level sub-folders of dir are the classes: their sorted names are Classes and each image
// below one gets its position as label. Images directly in dir are unlabeled: Labels is nil when
// there are no sub-folders, and such images get label -1 when there are. When dir holds both train/
// and test/ sub-folders, each is read this way as its own split, with the sorted union of their
// sub-folder names as the shared class list.
//
// Files whose name starts with "." are ignored; files that are empty or cannot be decoded are left
// out and listed in the returned []Skipped. It is an error when no image at all is left.
func LoadFolder(fsys fs.FS, dir string, opt FolderOptions) (*Split, []Skipped, error) {
	size, channels := opt.Size, opt.Channels
	if size == 0 {
		size = 32
	}
	if size < 1 || size > maxFolderSize {
		return nil, nil, fmt.Errorf("folder %s: image size %d out of range 1..%d", dir, size, maxFolderSize)
	}
	if channels != 0 && channels != 1 && channels != 3 {
		return nil, nil, fmt.Errorf("folder %s: %d channels, want 1 or 3 (or 0 to choose by content)", dir, channels)
	}
	name := path.Base(dir)
	if name == "." || name == "/" {
		name = "images"
	}

	roots := []string{dir}
	trainDir, testDir := path.Join(dir, "train"), path.Join(dir, "test")
	if isDir(fsys, trainDir) && isDir(fsys, testDir) {
		roots = []string{trainDir, testDir}
	}
	var classes []string
	for _, root := range roots {
		sub, err := subFolders(fsys, root)
		if err != nil {
			return nil, nil, fmt.Errorf("folder %s: %w", root, err)
		}
		classes = append(classes, sub...)
	}
	slices.Sort(classes)
	classes = slices.Compact(classes)

	var skipped []Skipped
	sets := make([]*rgbSet, len(roots))
	allGray := true
	for i, root := range roots {
		set, sk, err := readImageTree(fsys, root, classes, size)
		skipped = append(skipped, sk...)
		if err != nil {
			return nil, skipped, err
		}
		sets[i] = set
		allGray = allGray && set.gray
	}
	if channels == 0 {
		channels = 3
		if allGray {
			channels = 1
		}
	}

	ds := make([]*Dataset, len(sets))
	for i, set := range sets {
		d := &Dataset{Name: name, N: set.n, H: size, W: size, C: channels, Pix: set.pix, Labels: set.labels}
		if channels == 1 {
			d.Pix = rgbToGray(set.pix)
		}
		if d.Labels != nil {
			d.Classes = slices.Clone(classes)
		}
		ds[i] = d
	}
	split := &Split{Train: ds[0]}
	if len(ds) == 2 {
		split.Test = ds[1]
	}
	return split, skipped, nil
}

// subFolders returns the sorted names of the visible sub-folders of dir.
func subFolders(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !hidden(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// hidden reports whether a file or folder name is hidden by convention.
func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// readImageTree reads every image below root. Images in a first-level sub-folder get the index of its
// name in classes; images directly in root get -1, or no labels at all when classes is empty.
func readImageTree(fsys fs.FS, root string, classes []string, size int) (*rgbSet, []Skipped, error) {
	set := &rgbSet{gray: true}
	if len(classes) > 0 {
		set.labels = []int32{}
	}
	var skipped []Skipped
	err := fs.WalkDir(fsys, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			skipped = append(skipped, Skipped{Path: p, Reason: "cannot read: " + err.Error()})
			return nil
		}
		if p != root && hidden(e.Name()) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() || !isFile(fsys, p, e) {
			return nil
		}
		rel := p
		if root != "." {
			rel = strings.TrimPrefix(p, root+"/")
		}
		label := classLabel(classes, rel)
		rgb, reason := decodeSquare(fsys, p, size)
		if reason != "" {
			skipped = append(skipped, Skipped{Path: p, Reason: reason})
			return nil
		}
		set.n++
		set.pix = append(set.pix, rgb...)
		set.gray = set.gray && isGrayRGB(rgb)
		if set.labels != nil {
			set.labels = append(set.labels, label)
		}
		return nil
	})
	if err != nil {
		return nil, skipped, fmt.Errorf("folder %s: %w", root, err)
	}
	if set.n == 0 {
		if len(skipped) == 0 {
			return nil, skipped, fmt.Errorf("folder %s: no images found (empty folder)", root)
		}
		first := skipped[0]
		return nil, skipped, fmt.Errorf("folder %s: no images found (%d files skipped: first %s: %s)",
			root, len(skipped), first.Path, first.Reason)
	}
	return set, skipped, nil
}

// isFile reports whether the entry e at p is a regular file, following a symbolic link.
func isFile(fsys fs.FS, p string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink != 0 {
		st, err := fs.Stat(fsys, p)
		return err == nil && st.Mode().IsRegular()
	}
	return e.Type().IsRegular()
}

// classLabel returns the index in classes of the first element of the relative path rel, or -1 when
// rel is a file directly in the root.
func classLabel(classes []string, rel string) int32 {
	top, _, nested := strings.Cut(rel, "/")
	if !nested {
		return -1
	}
	if i, ok := slices.BinarySearch(classes, top); ok {
		return int32(i)
	}
	return -1
}

// decodeSquare decodes the image file p and converts it to size x size RGB; on failure it returns
// the reason instead.
func decodeSquare(fsys fs.FS, p string, size int) ([]uint8, string) {
	raw, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, "cannot read: " + err.Error()
	}
	if len(raw) == 0 {
		return nil, "empty file"
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		if f := sniffFormat(raw); f != "" {
			return nil, fmt.Sprintf("corrupt %s image: %v", f, err)
		}
		return nil, "not a decodable image (want PNG, JPEG or GIF): " + err.Error()
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Sprintf("%s image has no pixels (%dx%d)", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxSourcePixels {
		return nil, fmt.Sprintf("%s image too large (%dx%d, limit %d pixels)", format, cfg.Width, cfg.Height, maxSourcePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Sprintf("corrupt %s image: %v", format, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Sprintf("%s image has no pixels", format)
	}
	return squareRGB(img, size), ""
}

// sniffFormat names the image format whose signature raw starts with, or returns "".
func sniffFormat(raw []byte) string {
	switch {
	case bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(raw, []byte("\xff\xd8")):
		return "jpeg"
	case bytes.HasPrefix(raw, []byte("GIF8")):
		return "gif"
	}
	return ""
}
