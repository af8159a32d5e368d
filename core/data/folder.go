package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
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

// LoadFolder reads PNG, JPEG and GIF images (recognised by content, not by name) from dir in fsys;
// the browser build reads only the raw format its worker decodes images to (decoders_js.go).
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
	return loadFolder(fsys, dir, opt, Limits{})
}

func loadFolder(fsys fs.FS, dir string, opt FolderOptions, lim Limits) (*Split, []Skipped, error) {
	lim = lim.withDefaults()
	bud := newBudget(lim)
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
		set, sk, err := readImageTree(fsys, root, classes, size, lim, bud)
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
		if e.IsDir() && !hidden(e.Name()) && validName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// hidden reports whether a file or folder name is hidden by convention.
func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// validName reports whether a directory entry's name is one path element: not empty, ".", ".." or
// holding a slash. An fs.FS built from odd paths ("./R", "d//x.png") can list such names, and
// joining them to their folder would give the folder itself again.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.Contains(name, "/")
}

// readImageTree reads every image below root. Images in a first-level sub-folder get the index of its
// name in classes; images directly in root get -1, or no labels at all when classes is empty.
func readImageTree(fsys fs.FS, root string, classes []string, size int, lim Limits, bud *budget) (*rgbSet, []Skipped, error) {
	set := &rgbSet{gray: true}
	if len(classes) > 0 {
		set.labels = []int32{}
	}
	var skipped []Skipped
	err := walkFiles(fsys, root, lim.MaxFiles, func(p string, reason string) {
		skipped = append(skipped, Skipped{Path: p, Reason: reason})
	}, func(p string) error {
		rel := p
		if root != "." {
			rel = strings.TrimPrefix(p, root+"/")
		}
		label := classLabel(classes, rel)
		rgb, reason := decodeSquare(fsys, p, size, lim.MaxImageBytes)
		if reason != "" {
			skipped = append(skipped, Skipped{Path: p, Reason: reason})
			return nil
		}
		if err := bud.take(int64(len(rgb)), fmt.Sprintf("folder %s: image %d (%s)", root, set.n+1, p)); err != nil {
			return err
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
		return nil, skipped, err
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

// walkFiles calls file for every regular file below root, in lexical order, and skip for every
// entry it leaves out with a reason: special files (pipes, devices, sockets), symbolic links that
// lead nowhere, in a loop or to a folder (folders are not followed through links), names that are
// not one path element, folders nested deeper than maxDepth. Hidden names (".git", ".DS_Store")
// are passed over without a word. It keeps its own stack rather than recursing, visits at most
// maxFiles entries and stops at the first error file returns.
func walkFiles(fsys fs.FS, root string, maxFiles int, skip func(p, reason string), file func(p string) error) error {
	type frame struct {
		path    string
		entries []fs.DirEntry
	}
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return fmt.Errorf("folder %s: %w", root, err)
	}
	stack := []*frame{{root, entries}}
	visited := 0
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		if len(d.entries) == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		e := d.entries[0]
		d.entries = d.entries[1:]
		name := e.Name()
		if !validName(name) {
			skip(d.path, fmt.Sprintf("invalid name %q in the listing of %s (not one path element)", name, d.path))
			continue
		}
		if hidden(name) {
			continue
		}
		if visited++; visited > maxFiles {
			return fmt.Errorf("folder %s: more than %d files and folders below it; is this the folder of your images? "+
				"(raise data.Limits.MaxFiles for a larger one)", root, maxFiles)
		}
		p := path.Join(d.path, name)
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			st, err := fs.Stat(fsys, p)
			switch {
			case err != nil:
				skip(p, "symbolic link that cannot be followed (broken or in a loop): "+err.Error())
				continue
			case st.IsDir():
				skip(p, "symbolic link to a folder (not followed; link the files instead)")
				continue
			}
			mode = st.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if len(stack) > maxDepth {
				skip(p, fmt.Sprintf("folder nested more than %d deep (not read)", maxDepth))
				continue
			}
			sub, err := fs.ReadDir(fsys, p)
			if err != nil {
				// fs.ReadDir may return the entries it read before the error; go on with those.
				skip(p, "cannot read: "+err.Error())
			}
			stack = append(stack, &frame{p, sub})
		case mode.IsRegular():
			if err := file(p); err != nil {
				return err
			}
		default:
			skip(p, "not a regular file: "+fileKind(mode))
		}
	}
	return nil
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
// the reason instead. Nothing is read whole before it is known to be an image that fits in
// maxImage bytes: the file's size from Stat, then its first bytes (the format's signature), then
// its declared width and height times the decoder's bytes per pixel.
func decodeSquare(fsys fs.FS, p string, size int, maxImage int64) ([]uint8, string) {
	// Stat before Open: opening a named pipe blocks until someone writes to it.
	if st, err := fs.Stat(fsys, p); err != nil {
		return nil, "cannot read: " + err.Error()
	} else if !st.Mode().IsRegular() {
		return nil, "not a regular file: " + fileKind(st.Mode())
	}
	f, err := fsys.Open(p)
	if err != nil {
		return nil, "cannot read: " + err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "cannot read: " + err.Error()
	}
	if !st.Mode().IsRegular() {
		return nil, "not a regular file: " + fileKind(st.Mode())
	}
	if st.Size() > maxImage {
		return nil, fmt.Sprintf("file of %s, larger than the %s limit for one image (data.Limits.MaxImageBytes)",
			fmtBytes(st.Size()), fmtBytes(maxImage))
	}
	var head [16]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, "cannot read: " + err.Error()
	}
	if n == 0 {
		return nil, "empty file"
	}
	if sniffFormat(head[:n]) == "" {
		return nil, fmt.Sprintf("not a decodable image (want PNG, JPEG or GIF): it starts with %q", head[:n])
	}
	// Stat sizes can be 0 for files that hold data (/proc); read no more than the limit either way.
	rest, err := io.ReadAll(io.LimitReader(f, maxImage-int64(n)+1))
	if err != nil {
		return nil, "cannot read: " + err.Error()
	}
	if int64(n+len(rest)) > maxImage {
		return nil, fmt.Sprintf("file larger than the %s limit for one image (data.Limits.MaxImageBytes)", fmtBytes(maxImage))
	}
	return decodeImageBytes(append(head[:n:n], rest...), size, maxImage)
}

// decodeImageBytes decodes an image file's bytes to size x size RGB, or returns why it cannot.
func decodeImageBytes(raw []byte, size int, maxImage int64) ([]uint8, string) {
	if len(raw) == 0 {
		return nil, "empty file"
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		f := sniffFormat(raw)
		switch {
		case f != "" && !imageDecoders && errors.Is(err, image.ErrFormat):
			return nil, fmt.Sprintf("corrupt %s image (the browser could not decode it)", f)
		case f != "":
			return nil, fmt.Sprintf("corrupt %s image: %v", f, err)
		}
		return nil, "not a decodable image (want PNG, JPEG or GIF): " + err.Error()
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Sprintf("%s image has no pixels (%dx%d)", format, cfg.Width, cfg.Height)
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if pixels > maxSourcePixels {
		return nil, fmt.Sprintf("%s image too large (%dx%d, limit %d pixels)", format, cfg.Width, cfg.Height, maxSourcePixels)
	}
	// The file, the decoder's image, the square cropped from it as RGB, and the resampler's rows.
	side := int64(min(cfg.Width, cfg.Height))
	need := int64(len(raw)) + pixels*bytesPerPixel(cfg.ColorModel) + 3*side*side + 12*side*int64(size)
	if need > maxImage {
		return nil, fmt.Sprintf("%s image too large to decode (%dx%d at %d bytes per pixel needs %s, limit %s per image: "+
			"downscale it or raise data.Limits.MaxImageBytes)", format, cfg.Width, cfg.Height,
			bytesPerPixel(cfg.ColorModel), fmtBytes(need), fmtBytes(maxImage))
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Sprintf("corrupt %s image: %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Sprintf("corrupt %s image: %dx%d pixels, its header said %dx%d", format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return squareRGB(img, size), ""
}

// bytesPerPixel is what the standard decoders allocate per pixel for a colour model: 8 for the
// 16-bit-per-channel models, and 4 (RGBA) for any model it does not know.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel, color.NYCbCrAModel:
		return 4 // 4:4:4 with alpha at worst
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
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
	case bytes.HasPrefix(raw, []byte(RawMagic)):
		return "emc2rgba"
	}
	return ""
}
