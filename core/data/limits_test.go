package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sparseFile creates p holding head and then zeros up to size bytes, without writing (or
// allocating) the zeros: the file system stores a hole.
func sparseFile(t *testing.T, p string, head []byte, size int64) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, head, 0o644))
	require.NoError(t, os.Truncate(p, size))
}

// allocatedBy returns the bytes fn allocated on the heap, live or not.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// outcome runs Open on dir and describes the result as one string: the error, or the images loaded
// and every skipped file with its reason.
func outcome(dir string, opt Options) string {
	s, skipped, err := Open(dir, opt)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "loaded %d images", s.Train.N)
	for _, sk := range skipped {
		fmt.Fprintf(&b, "; skipped %s: %s", filepath.Base(sk.Path), sk.Reason)
	}
	return b.String()
}

// png16Header returns the start of a 16-bit RGBA PNG that claims w x h pixels: a valid signature
// and IHDR chunk, nothing after.
func png16Header(t *testing.T, w, h uint32) []byte {
	t.Helper()
	b := pngBytes(t, image.NewNRGBA64(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b[:33]
}

// TestResourceLimits reproduces the out-of-memory findings of issue 13 with sparse files and
// headers that lie: each must end in a clear error or a skipped file, allocating little.
func TestResourceLimits(t *testing.T) {
	okPNG := pngBytes(t, solidGray(4, 4, 9))
	const (
		GiB = int64(1) << 30
		MiB = int64(1) << 20
	)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		opt   Options
		want  []string
	}{
		{
			name: "CIFAR-10 batch that is a 64 GiB sparse file",
			setup: func(t *testing.T, dir string) {
				sparseFile(t, filepath.Join(dir, "data_batch_1.bin"), nil, 64*GiB)
			},
			want: []string{"error:", "data_batch_1.bin is 64.0 GiB, more than the 4.0 GiB left under the data limit", "data.Limits.MaxBytes"},
		},
		{
			name: "CIFAR-10 second batch sparse after a good first one",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"data_batch_1.bin": cifarBatch(1, 2)})
				sparseFile(t, filepath.Join(dir, "data_batch_2.bin"), nil, 64*GiB)
			},
			want: []string{"error:", "data_batch_2.bin is 64.0 GiB"},
		},
		{
			name: "STL-10 train_X.bin that is a 64 GiB sparse file",
			setup: func(t *testing.T, dir string) {
				sparseFile(t, filepath.Join(dir, "train_X.bin"), nil, 64*GiB)
				writeFiles(t, dir, map[string][]byte{"train_y.bin": {1}})
			},
			want: []string{"error:", "stl-10", "train_X.bin is 64.0 GiB, more than the 4.0 GiB left under the data limit"},
		},
		{
			name: "STL-10 test_X.bin over what is left of the budget",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"train_X.bin": stlImages(2), "train_y.bin": {1, 2}})
				sparseFile(t, filepath.Join(dir, "test_X.bin"), nil, 100*stlRecord)
			},
			opt:  Options{Limits: Limits{MaxBytes: 10 * stlRecord}},
			want: []string{"error:", "test_X.bin is 2.6 MiB, more than the 1.2 MiB left under the data limit"},
		},
		{
			name: "2 GiB non-image file in an image folder is skipped unread",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"a.png": okPNG})
				sparseFile(t, filepath.Join(dir, "big.bin"), []byte("not an image"), 2*GiB)
			},
			want: []string{"loaded 1 images", "skipped big.bin: file of 2.0 GiB, larger than the 512.0 MiB limit for one image"},
		},
		{
			name: "300 MiB non-image file below the image limit is sniffed, not read",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"a.png": okPNG})
				sparseFile(t, filepath.Join(dir, "notes.txt"), []byte("hello"), 300*MiB)
			},
			want: []string{"loaded 1 images", `skipped notes.txt: not a decodable image (want PNG, JPEG or GIF): it starts with "hello\x00`},
		},
		{
			name: "64 GiB sparse a.png",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"b.png": okPNG})
				sparseFile(t, filepath.Join(dir, "a.png"), okPNG[:16], 64*GiB)
			},
			want: []string{"loaded 1 images", "skipped a.png: file of 64.0 GiB, larger than the 512.0 MiB limit"},
		},
		{
			name: "16-bit 8192x8192 PNG is sized from its header and skipped",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"b.png": okPNG, "big.png": png16Header(t, 8192, 8192)})
			},
			want: []string{"loaded 1 images", "skipped big.png: png image too large to decode (8192x8192 at 8 bytes per pixel",
				"limit 512.0 MiB per image: downscale it or raise data.Limits.MaxImageBytes"},
		},
		{
			name: "raw image header announcing 8000x8000 pixels with none after it",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"b.png": okPNG, "big.raw": EncodeRaw(8000, 8000, nil)})
			},
			want: []string{"loaded 1 images", "skipped big.raw: corrupt emc2rgba image: raw image: 8000x8000 pixels: truncated: want 256000000 bytes, got 0"},
		},
		{
			name: "IDX .gz announcing 32768 images of 256x256 with 1 MiB of pixels",
			setup: func(t *testing.T, dir string) {
				body := append(idxHeader(idxImagesMagic, 32768, 256, 256), make([]byte, MiB)...)
				writeFiles(t, dir, map[string][]byte{
					"train-images-idx3-ubyte.gz": gz(t, body),
					"train-labels-idx1-ubyte.gz": gz(t, idxLabels(t, make([]int32, 10))),
				})
			},
			want: []string{"error:", "train-images-idx3-ubyte.gz", "pixels of 32768 images of 256x256: truncated: want 2147483648 bytes, got 1048576"},
		},
		{
			name: "IDX .gz that decompresses past the limit",
			setup: func(t *testing.T, dir string) {
				body := append(idxHeader(idxImagesMagic, 64, 256, 256), make([]byte, 4*MiB)...)
				writeFiles(t, dir, map[string][]byte{
					"train-images-idx3-ubyte.gz": gz(t, body),
					"train-labels-idx1-ubyte.gz": gz(t, idxLabels(t, make([]int32, 64))),
				})
			},
			opt:  Options{Limits: Limits{MaxBytes: MiB}},
			want: []string{"error:", "train-images-idx3-ubyte.gz decompresses to more than the 2.0 MiB left under the data limit"},
		},
		{
			name: "IDX header within the file but past the limit",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{
					"train-images-idx3-ubyte": idxImages(t, 4, 16, 16, make([]uint8, 4*256)),
					"train-labels-idx1-ubyte": idxLabels(t, make([]int32, 4)),
				})
			},
			opt:  Options{Limits: Limits{MaxBytes: 1000}},
			want: []string{"error:", "absurd IDX header: 4 images of 16x16", "limit 1000"},
		},
		{
			name: "image folder past the data limit",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"a.png": okPNG, "b.png": okPNG, "c.png": okPNG})
			},
			opt:  Options{Limits: Limits{MaxBytes: 2 * 32 * 32 * 3}},
			want: []string{"error:", "image 3", "c.png", "beyond the data limit of 6.0 KiB"},
		},
		{
			name: "image folder with more files than MaxFiles",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"a.png": okPNG, "b.png": okPNG, "c/d.png": okPNG})
			},
			opt:  Options{Limits: Limits{MaxFiles: 3}},
			want: []string{"error:", "more than 3 files and folders below it", "data.Limits.MaxFiles"},
		},
		{
			name: "image above a lowered per-image limit",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"a.png": okPNG, "big.png": pngBytes(t, solidGray(200, 200, 1))})
			},
			opt:  Options{Limits: Limits{MaxImageBytes: 64 << 10}},
			want: []string{"loaded 1 images", "skipped big.png: png image too large to decode (200x200 at 1 bytes per pixel"},
		},
		{
			name: "huge class-names file",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string][]byte{"data_batch_1.bin": cifarBatch(1)})
				sparseFile(t, filepath.Join(dir, "batches.meta.txt"), []byte("cat dog"), 64*GiB)
			},
			want: []string{"error:", "batches.meta.txt: more than 1.0 MiB, too large for a list of class names"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "set")
			require.NoError(t, os.Mkdir(dir, 0o755))
			tc.setup(t, dir)
			var got string
			alloc := allocatedBy(func() { got = outcome(dir, tc.opt) })
			t.Log(got)
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			assert.Less(t, alloc, uint64(64<<20), "allocated %s", fmtBytes(int64(alloc)))
		})
	}
}

// TestSystemFoldersRefused: a checkpoint whose data path is /proc (or a link to it) must not walk it.
func TestSystemFoldersRefused(t *testing.T) {
	link := filepath.Join(t.TempDir(), "data")
	linked := os.Symlink("/proc", link) == nil
	for _, p := range []string{"/proc", "/proc/self", "/sys", "/dev", link} {
		t.Run(p, func(t *testing.T) {
			if _, err := os.Stat(p); err != nil || (p == link && !linked) {
				t.Skipf("%s is not here on this system", p)
			}
			_, _, err := Open(p, Options{})
			require.Error(t, err)
			t.Log(err)
			assert.Contains(t, err.Error(), "which holds the kernel's pseudo-files, not a dataset")
		})
	}
	assert.Equal(t, "", systemFolder("/processes/x"), "only the folder itself and what is inside it")
	assert.Equal(t, "/dev", systemFolder("/dev/shm/x"))
}

// TestOpenFSOddNames: an fs.FS whose listings hold names no valid path can have (fstest.MapFS lists
// keys like "./R" and "d/train//1.png" so) used to recurse in fs.WalkDir until the stack overflowed.
func TestOpenFSOddNames(t *testing.T) {
	okPNG := pngBytes(t, solidGray(4, 4, 9))
	for _, tc := range []struct {
		name   string
		fsys   fs.FS
		dir    string
		images int
		want   string
	}{
		{"dot element", fstest.MapFS{"./R": {Data: okPNG}, "a.png": {Data: okPNG}}, ".", 1, `invalid name "."`},
		{"empty element", fstest.MapFS{"d/train//1.png": {Data: okPNG}, "d/train/a/2.png": {Data: okPNG},
			"d/test/a/3.png": {Data: okPNG}}, "d", 1, `invalid name "." in the listing of d/train`},
		{"dot-dot element", fstest.MapFS{"x/../y.png": {Data: okPNG}, "z.png": {Data: okPNG}}, ".", 1, `invalid name ".."`},
		{"only odd names", fstest.MapFS{"./R": {Data: okPNG}}, ".", 0, `no images found (1 files skipped: first .: invalid name "."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, skipped, err := OpenFS(tc.fsys, tc.dir, Options{})
			if tc.images == 0 {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.images, s.Train.N)
			var reasons []string
			for _, sk := range skipped {
				reasons = append(reasons, sk.Reason)
				t.Log(sk.Path, ": ", sk.Reason)
			}
			assert.Contains(t, strings.Join(reasons, "\n"), tc.want)
		})
	}
}

// TestFolderDepthLimit: folders nested deeper than maxDepth are skipped, not recursed into.
func TestFolderDepthLimit(t *testing.T) {
	okPNG := pngBytes(t, solidGray(4, 4, 9))
	deep := strings.Repeat("d/", maxDepth+1) + "x.png"
	s, skipped, err := OpenFS(fstest.MapFS{"a.png": {Data: okPNG}, deep: {Data: okPNG}}, ".", Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, s.Train.N)
	require.Len(t, skipped, 1)
	assert.Contains(t, skipped[0].Reason, fmt.Sprintf("folder nested more than %d deep", maxDepth))
}

// TestRawHeaderAloneAllocatesLittle: a raw image header announcing 16384x16384 pixels (1 GiB) with
// no pixels after it fails as truncated, without allocating for the pixels.
func TestRawHeaderAloneAllocatesLittle(t *testing.T) {
	hdr := EncodeRaw(maxRawSide, maxRawSide, make([]byte, 100))
	var err error
	alloc := allocatedBy(func() { _, _, err = image.Decode(bytes.NewReader(hdr)) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "raw image: 16384x16384 pixels: truncated: want 1073741824 bytes, got 100")
	assert.Less(t, alloc, uint64(8<<20))
}

// TestReadExactlyNeverPastN: growing toward n never allocates a buffer larger than n, and a known
// size allocates exactly once.
func TestReadExactlyNeverPastN(t *testing.T) {
	const n = 5<<20 + 3
	src := bytes.Repeat([]byte{7}, n)
	for _, known := range []bool{false, true} {
		var buf []byte
		var err error
		alloc := allocatedBy(func() { buf, err = readExactly(bytes.NewReader(src), n, n, known, "x") })
		require.NoError(t, err)
		assert.Equal(t, n, len(buf))
		assert.Equal(t, n, cap(buf))
		// Large allocations are rounded up to whole pages; doubling toward n costs less than 3n in all.
		if known {
			assert.Less(t, alloc, uint64(n+64<<10))
		} else {
			assert.Less(t, alloc, uint64(3*n))
		}
	}
	_, err := readExactly(bytes.NewReader(src), n, n-1, false, "x")
	assert.ErrorContains(t, err, "out of range (limit")
}
