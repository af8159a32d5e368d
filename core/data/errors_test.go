package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInput checks that every kind of broken input fails with an error naming the file and the problem.
func TestBadInput(t *testing.T) {
	trainLabels := idxLabels(t, make([]int32, 10))
	idxDir := func(images, labels []byte) func() error {
		return func() error {
			_, err := LoadIDXDir(fstest.MapFS{
				"mn/train-images-idx3-ubyte": {Data: images},
				"mn/train-labels-idx1-ubyte": {Data: labels},
			}, "mn", "mn")
			return err
		}
	}
	folder := func(fsys fstest.MapFS, dir string) func() error {
		return func() error {
			_, _, err := LoadFolder(fsys, dir, FolderOptions{})
			return err
		}
	}
	stlDir := func(files fstest.MapFS) func() error {
		return func() error {
			_, err := LoadSTL10Dir(files, ".", STL10Options{})
			return err
		}
	}

	for _, tc := range []struct {
		name string
		run  func() error
		want []string
	}{
		{
			name: "truncated IDX header",
			run:  idxDir(idxHeader(idxImagesMagic, 10)[:7], trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "truncated IDX header", "want 16 bytes, got 7"},
		},
		{
			name: "truncated IDX body",
			run:  idxDir(append(idxHeader(idxImagesMagic, 10, 28, 28), make([]byte, 100)...), trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "truncated", "want 7840 bytes, got 100"},
		},
		{
			name: "truncated gzip IDX body",
			run: idxDir(gz(t, append(idxHeader(idxImagesMagic, 10, 28, 28), make([]byte, 100)...)),
				trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "truncated", "want 7840 bytes, got 100"},
		},
		{
			name: "truncated label body",
			run:  idxDir(idxImages(t, 10, 2, 2, make([]uint8, 40)), idxHeader(idxLabelsMagic, 10)),
			want: []string{"mn/train-labels-idx1-ubyte", "truncated", "want 10 bytes, got 0"},
		},
		{
			name: "wrong magic: labels where images belong",
			run:  idxDir(trainLabels, trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "bad IDX magic 0x00000801", "want 0x00000803", "label file"},
		},
		{
			name: "wrong magic: garbage",
			run:  idxDir(idxImages(t, 10, 2, 2, make([]uint8, 40)), []byte("GIF89a-not-idx")),
			want: []string{"mn/train-labels-idx1-ubyte", "bad IDX magic 0x47494638", "want 0x00000801"},
		},
		{
			name: "label and image counts differ",
			run:  idxDir(idxImages(t, 10, 2, 2, make([]uint8, 40)), idxLabels(t, make([]int32, 9))),
			want: []string{"count mismatch", "mn/train-images-idx3-ubyte has 10 images", "mn/train-labels-idx1-ubyte has 9 labels"},
		},
		{
			name: "huge n in header",
			run:  idxDir(idxHeader(idxImagesMagic, 1<<30, 28, 28), trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "absurd IDX header", "1073741824 images of 28x28"},
		},
		{
			name: "huge rows and cols in header",
			run:  idxDir(idxHeader(idxImagesMagic, 1, 1<<20, 1<<20), trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "absurd IDX header"},
		},
		{
			name: "zero rows in header",
			run:  idxDir(idxHeader(idxImagesMagic, 1, 0, 28), trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "bad IDX image size 0x28"},
		},
		{
			name: "more images than the header says",
			run:  idxDir(append(idxImages(t, 10, 2, 2, make([]uint8, 40)), 1, 2, 3, 4), trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "unexpected data after the pixels of 10 images of 2x2"},
		},
		{
			name: "gzip checksum",
			run:  idxDir(badChecksum(gz(t, idxImages(t, 10, 2, 2, make([]uint8, 40)))), trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "gzip: invalid checksum"},
		},
		{
			name: "broken gzip",
			run:  idxDir([]byte{0x1f, 0x8b, 0, 0, 1, 2, 3}, trainLabels),
			want: []string{"mn/train-images-idx3-ubyte", "gzip"},
		},
		{
			name: "IDX labels without images",
			run: func() error {
				_, err := LoadIDXDir(fstest.MapFS{"train-labels-idx1-ubyte.gz": {Data: gz(t, trainLabels)}}, ".", "x")
				return err
			},
			want: []string{"train-labels-idx1-ubyte.gz", "no train-images-idx3-ubyte"},
		},
		{
			name: "CIFAR length not a multiple of 3073",
			run: func() error {
				_, err := LoadCIFAR10Dir(fstest.MapFS{"data_batch_1.bin": {Data: append(cifarBatch(1, 2), 7, 7, 7, 7, 7)}}, ".")
				return err
			},
			want: []string{"data_batch_1.bin", "length 6151 is not a multiple of the 3073-byte record size", "5 trailing bytes after 2 records"},
		},
		{
			name: "CIFAR label above 9",
			run: func() error {
				_, err := LoadCIFAR10Dir(fstest.MapFS{"test_batch.bin": {Data: cifarBatch(1)}, "data_batch_2.bin": {Data: cifarBatch(0, 12)}}, ".")
				return err
			},
			want: []string{"data_batch_2.bin", "record 1: label 12 out of range 0..9"},
		},
		{
			name: "CIFAR folder without training batches",
			run: func() error {
				_, err := LoadCIFAR10Dir(fstest.MapFS{"test_batch.bin": {Data: cifarBatch(1)}}, ".")
				return err
			},
			want: []string{"cifar-10", "no data_batch_1.bin"},
		},
		{
			name: "CIFAR meta with wrong class count",
			run: func() error {
				_, err := LoadCIFAR10Dir(fstest.MapFS{"data_batch_1.bin": {Data: cifarBatch(1)}, "batches.meta.txt": {Data: []byte("cat\ndog\n")}}, ".")
				return err
			},
			want: []string{"batches.meta.txt", "2 class names, want 10"},
		},
		{
			name: "STL images of the wrong size",
			run:  stlDir(fstest.MapFS{"train_X.bin": {Data: make([]byte, stlRecord+10)}, "train_y.bin": {Data: []byte{1}}}),
			want: []string{"train_X.bin", "not a multiple of the 27648-byte record size", "10 trailing bytes after 1 records"},
		},
		{
			name: "STL label count mismatch",
			run:  stlDir(fstest.MapFS{"train_X.bin": {Data: stlImages(2)}, "train_y.bin": {Data: []byte{1, 2, 3}}}),
			want: []string{"train_y.bin", "2 images", "3 labels"},
		},
		{
			name: "STL label out of range",
			run:  stlDir(fstest.MapFS{"train_X.bin": {Data: stlImages(2)}, "train_y.bin": {Data: []byte{1, 0}}}),
			want: []string{"train_y.bin", "label 0 at index 1 out of range 1..10"},
		},
		{
			name: "STL missing labels",
			run:  stlDir(fstest.MapFS{"train_X.bin": {Data: stlImages(1)}}),
			want: []string{"train_y.bin", "no label file"},
		},
		{
			name: "STL unlabeled file but option off",
			run:  stlDir(fstest.MapFS{"unlabeled_X.bin": {Data: stlImages(1)}}),
			want: []string{"no train_X.bin", "unlabeled_X.bin"},
		},
		{
			name: "folder with only a non-image",
			run:  folder(fstest.MapFS{"pics/notes.txt": {Data: []byte("hello")}}, "pics"),
			want: []string{"folder pics: no images found (1 files skipped: first pics/notes.txt: not a decodable image"},
		},
		{
			name: "folder with only a zero-size file",
			run:  folder(fstest.MapFS{"pics/a/x.png": {Data: nil}}, "pics"),
			want: []string{"folder pics: no images found", "pics/a/x.png: empty file"},
		},
		{
			name: "empty folder",
			run:  folder(fstest.MapFS{"empty": {Mode: fs.ModeDir}}, "empty"),
			want: []string{"folder empty: no images found (empty folder)"},
		},
		{
			name: "empty test part",
			run: folder(fstest.MapFS{
				"d/train/a/x.png": {Data: pngBytes(t, solidGray(2, 2, 1))},
				"d/test/a":        {Mode: fs.ModeDir},
			}, "d"),
			want: []string{"folder d/test: no images found (empty folder)"},
		},
		{
			name: "bad folder size option",
			run: func() error {
				_, _, err := LoadFolder(fstest.MapFS{}, "x", FolderOptions{Size: -3})
				return err
			},
			want: []string{"folder x", "image size -3 out of range"},
		},
		{
			name: "bad folder channels option",
			run: func() error {
				_, _, err := LoadFolder(fstest.MapFS{}, "x", FolderOptions{Channels: 2})
				return err
			},
			want: []string{"folder x", "2 channels, want 1 or 3"},
		},
		{
			name: "nonexistent path",
			run: func() error {
				_, _, err := Open(filepath.Join(t.TempDir(), "no-such-dir"), Options{})
				return err
			},
			want: []string{"no-such-dir", "no such file or directory"},
		},
		{
			name: "path that is a file",
			run: func() error {
				dir := t.TempDir()
				writeFiles(t, dir, map[string][]byte{"f.bin": {1}})
				_, _, err := Open(filepath.Join(dir, "f.bin"), Options{})
				return err
			},
			want: []string{"f.bin", "is not a directory"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			t.Log(err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestBadStreams checks the io.Reader entry points directly.
func TestBadStreams(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"empty IDX images", func() error {
			_, _, _, _, err := ReadIDXImages(bytes.NewReader(nil))
			return err
		}, "truncated IDX header: want 16 bytes, got 0"},
		{"IDX images given to label reader", func() error {
			_, err := ReadIDXLabels(bytes.NewReader(idxImages(t, 1, 1, 1, []uint8{1})))
			return err
		}, "bad IDX magic 0x00000803, want 0x00000801 for labels (this is an IDX image file)"},
		{"empty CIFAR", func() error {
			_, err := ReadCIFAR10(bytes.NewReader(nil))
			return err
		}, "no CIFAR-10 records"},
		{"empty STL", func() error {
			_, err := ReadSTL10Images(bytes.NewReader(nil))
			return err
		}, "no STL-10 images"},
		{"short STL", func() error {
			_, err := ReadSTL10Images(bytes.NewReader(make([]byte, 100)))
			return err
		}, "length 100 is not a multiple of the 27648-byte record size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, tc.run(), tc.want)
		})
	}
}

func TestLoadFolderReportsSkippedFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"pics/a/ok.png":     {Data: pngBytes(t, solidGray(3, 3, 5))},
		"pics/a/broken.png": {Data: pngBytes(t, solidGray(3, 3, 5))[:20]},
		"pics/b/readme.txt": {Data: []byte("text")},
		"pics/b/zero.jpg":   {Data: []byte{}},
		"pics/b/.thumbs.db": {Data: []byte("hidden, ignored")},
		"pics/.git/config":  {Data: []byte("hidden folder, ignored")},
		"pics/b/ok.gif":     {Data: gifBytes(t)},
		"pics/b/fake.jpg":   {Data: []byte("\xff\xd8\xff\xe0 not really a jpeg")},
		"pics/a/huge.png":   {Data: hugePNGHeader(t)},
	}
	s, skipped, err := LoadFolder(fsys, "pics", FolderOptions{Size: 4})
	require.NoError(t, err)
	assert.Equal(t, 2, s.Train.N)
	assert.Equal(t, []int32{0, 1}, s.Train.Labels)
	reasons := map[string]string{}
	for _, sk := range skipped {
		reasons[sk.Path] = sk.Reason
	}
	assert.Len(t, reasons, 5)
	assert.Contains(t, reasons["pics/a/broken.png"], "png")
	assert.Contains(t, reasons["pics/a/huge.png"], "too large")
	assert.Contains(t, reasons["pics/b/readme.txt"], "not a decodable image")
	assert.Equal(t, "empty file", reasons["pics/b/zero.jpg"])
	assert.Contains(t, reasons["pics/b/fake.jpg"], "jpeg")
}

// hugePNGHeader returns the start of a PNG that claims to be 100000x100000 pixels.
func hugePNGHeader(t *testing.T) []byte {
	t.Helper()
	b := pngBytes(t, solidGray(1, 1, 0))
	// The IHDR chunk starts at byte 8: length (4), "IHDR" (4), width (4), height (4).
	for _, off := range []int{16, 20} {
		binary.BigEndian.PutUint32(b[off:], 100000)
	}
	// The chunk's CRC covers its type and data (bytes 12..28) and follows them.
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// badChecksum flips a bit of the CRC-32 in the trailer of a gzip stream.
func badChecksum(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-8] ^= 1
	return b
}
