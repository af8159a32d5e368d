package data

import (
	"bytes"
	"compress/gzip"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"testing/fstest"
)

// Fuzz targets for every parser of outside input in this package. Each runs over its seeds (f.Add
// and testdata/fuzz/<name>) as a plain test; `make fuzz-smoke` runs each for a few seconds, and
// `go test -run '^$' -fuzz '^FuzzX$' ./core/data` for as long as you like. The properties checked
// are those every input must have: no panic, no hang, memory bounded by the limits, and a result
// that is consistent with itself whenever there is no error.

// must returns v, panicking on err: seed construction cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func seedGz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	must(zw.Write(b))
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return out.Bytes()
}

func seedIDXImages(n, h, w int) []byte {
	var b bytes.Buffer
	if err := WriteIDXImages(&b, n, h, w, ramp(n*h*w)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func seedIDXLabels(labels ...int32) []byte {
	var b bytes.Buffer
	if err := WriteIDXLabels(&b, labels); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// seedImages are small files of every format a folder may hold, the browser's raw format included.
func seedImages() [][]byte {
	rgba := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 37)
	}
	var p8, p16, j, g bytes.Buffer
	must(0, png.Encode(&p8, rgba))
	must(0, png.Encode(&p16, image.NewNRGBA64(image.Rect(0, 0, 2, 2))))
	must(0, jpeg.Encode(&j, rgba, &jpeg.Options{Quality: 80}))
	pal := image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.Black, color.White})
	must(0, gif.Encode(&g, pal, nil))
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	var pg bytes.Buffer
	must(0, png.Encode(&pg, gray))
	return [][]byte{p8.Bytes(), p16.Bytes(), j.Bytes(), g.Bytes(), pg.Bytes(), EncodeRaw(2, 2, ramp(16)),
		EncodeRaw(1<<14, 1<<14, nil), []byte("\x89PNG\r\n\x1a\n"), []byte("\xff\xd8\xff"), []byte("GIF89a"), []byte("text")}
}

func FuzzReadIDXImages(f *testing.F) {
	for _, s := range [][]byte{seedIDXImages(3, 2, 2), seedIDXImages(1, 1, 1), seedIDXImages(0, 4, 4),
		seedGz(seedIDXImages(2, 3, 3)), idxHeader(idxImagesMagic, 32768, 256, 256), idxHeader(idxImagesMagic, 1, 0, 1),
		seedGz(append(idxHeader(idxImagesMagic, 32768, 256, 256), make([]byte, 4096)...)), {0x1f, 0x8b}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, h, w, pix, err := ReadIDXImages(bytes.NewReader(b))
		if err == nil && (n < 0 || h <= 0 || w <= 0 || len(pix) != n*h*w) {
			t.Fatalf("%d images of %dx%d with %d pixel bytes", n, h, w, len(pix))
		}
		// The measured path of a folder must agree with the stream reader.
		labels := seedIDXLabels(make([]int32, max(n, 0))...)
		s, err2 := LoadIDXDir(fstest.MapFS{"train-images-idx3-ubyte": {Data: b}, "train-labels-idx1-ubyte": {Data: labels}}, ".", "f")
		if (err == nil) != (err2 == nil) && !(err == nil && n == 0) {
			t.Fatalf("stream reader says %v, folder reader %v", err, err2)
		}
		if err2 == nil && (s.Train.N != n || !bytes.Equal(s.Train.Pix, pix)) {
			t.Fatalf("folder reader read %d images, stream reader %d", s.Train.N, n)
		}
	})
}

func FuzzReadIDXLabels(f *testing.F) {
	for _, s := range [][]byte{seedIDXLabels(1, 2, 3), seedIDXLabels(), seedGz(seedIDXLabels(9, 8)),
		idxHeader(idxLabelsMagic, 1<<31), seedIDXImages(1, 1, 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		labels, err := ReadIDXLabels(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i, l := range labels {
			if l < 0 || l > 255 {
				t.Fatalf("label %d = %d", i, l)
			}
		}
	})
}

func FuzzReadCIFAR10(f *testing.F) {
	for _, s := range [][]byte{cifarBatch(1, 9), cifarBatch(10), seedGz(cifarBatch(3)), cifarBatch(1)[:100], nil} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ReadCIFAR10(bytes.NewReader(b))
		if err == nil {
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		s, err2 := LoadCIFAR10Dir(fstest.MapFS{"data_batch_1.bin": {Data: b}}, ".")
		if (err == nil) != (err2 == nil) {
			t.Fatalf("stream reader says %v, folder reader %v", err, err2)
		}
		if err2 == nil && (s.Train.N != d.N || !bytes.Equal(s.Train.Pix, d.Pix)) {
			t.Fatalf("folder reader read %d records, stream reader %d", s.Train.N, d.N)
		}
	})
}

func FuzzReadSTL10(f *testing.F) {
	for _, s := range []struct{ x, y []byte }{{stlImages(1), []byte{1}}, {stlImages(2), []byte{1, 10}},
		{seedGz(stlImages(1)), seedGz([]byte{3})}, {stlImages(1)[:50], []byte{0}}, {nil, nil}} {
		f.Add(s.x, s.y)
	}
	f.Fuzz(func(t *testing.T, x, y []byte) {
		d, err := ReadSTL10Images(bytes.NewReader(x))
		if err == nil {
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		if labels, err := ReadSTL10Labels(bytes.NewReader(y)); err == nil {
			for _, l := range labels {
				if l < 0 || l > 9 {
					t.Fatalf("label %d", l)
				}
			}
		}
		s, err := LoadSTL10Dir(fstest.MapFS{"train_X.bin": {Data: x}, "train_y.bin": {Data: y}, "test_X.bin": {Data: x},
			"test_y.bin": {Data: y}}, ".", STL10Options{})
		if err == nil {
			for _, part := range []*Dataset{s.Train, s.Test} {
				if err := part.Validate(); err != nil || !part.Labeled() {
					t.Fatalf("%v (labeled %v)", err, part.Labeled())
				}
			}
		}
	})
}

// FuzzFolderImage decodes one file of an image folder (every format, the browser's raw one
// included), through the same sniffing and limits as LoadFolder.
func FuzzFolderImage(f *testing.F) {
	for _, s := range seedImages() {
		f.Add(s, uint8(8))
	}
	const maxImage = 8 << 20 // small, so that each run stays fast; the checks are the same
	f.Fuzz(func(t *testing.T, b []byte, size uint8) {
		side := int(size%64) + 1
		rgb, reason := decodeSquare(fstest.MapFS{"x": {Data: b}}, "x", side, maxImage)
		switch {
		case reason == "" && len(rgb) != side*side*3:
			t.Fatalf("%d bytes for a %dx%d RGB image", len(rgb), side, side)
		case reason != "" && rgb != nil:
			t.Fatalf("pixels and a reason (%s)", reason)
		}
	})
}

// FuzzRawImage checks the browser's raw format directly: DecodeConfig and Decode must agree.
func FuzzRawImage(f *testing.F) {
	for _, s := range [][]byte{EncodeRaw(2, 3, ramp(24)), EncodeRaw(1, 1, nil), EncodeRaw(0, 5, nil),
		EncodeRaw(1<<14, 1<<14, ramp(64)), EncodeRaw(1<<15, 1, nil), []byte(RawMagic)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = append([]byte(RawMagic), bytes.TrimPrefix(b, []byte(RawMagic))...)
		cfg, _, cerr := image.DecodeConfig(bytes.NewReader(b))
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		if cerr != nil {
			t.Fatalf("Decode works but DecodeConfig says %v", cerr)
		}
		m, ok := img.(*image.NRGBA)
		if !ok || m.Rect.Dx() != cfg.Width || m.Rect.Dy() != cfg.Height || len(m.Pix) != 4*cfg.Width*cfg.Height {
			t.Fatalf("image %v does not match its config %dx%d", img.Bounds(), cfg.Width, cfg.Height)
		}
	})
}

// FuzzOpenFSPaths builds a file system from arbitrary paths (one per line; fstest.MapFS keeps names
// that fs.ValidPath refuses) and opens it: it must return, never recurse for ever.
func FuzzOpenFSPaths(f *testing.F) {
	png := seedImages()[0]
	for _, s := range []string{"a.png", "./R", "d/train//1.png\nd/test/a/2.png", "x/../y.png", "/abs.png",
		"train/a/1.png\ntest/b/2.png", ".\n..\n", "a/b/c/d/e.png\na/b", "data_batch_1.bin\ntrain_X.bin"} {
		f.Add(s, ".")
	}
	f.Add("d//e.png", "d")
	f.Fuzz(func(t *testing.T, paths, dir string) {
		fsys := fstest.MapFS{}
		for i, p := range strings.Split(paths, "\n") {
			if i >= 32 {
				break
			}
			fsys[p] = &fstest.MapFile{Data: png}
		}
		s, _, err := OpenFS(fsys, dir, Options{})
		if err == nil {
			if err := s.Train.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
