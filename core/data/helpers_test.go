package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// idxImages returns an uncompressed IDX image file.
func idxImages(t *testing.T, n, h, w int, pix []uint8) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteIDXImages(&b, n, h, w, pix))
	return b.Bytes()
}

// idxLabels returns an uncompressed IDX label file.
func idxLabels(t *testing.T, labels []int32) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteIDXLabels(&b, labels))
	return b.Bytes()
}

// idxHeader returns a bare IDX header: the magic and the sizes, big-endian.
func idxHeader(magic uint32, sizes ...uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, s := range sizes {
		b = binary.BigEndian.AppendUint32(b, s)
	}
	return b
}

// gz compresses b.
func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return out.Bytes()
}

// ramp returns n bytes with a pattern that differs between neighbours.
func ramp(n int) []uint8 {
	p := make([]uint8, n)
	for i := range p {
		p[i] = uint8(i*7 + i/13)
	}
	return p
}

// solidRGBA returns a w x h image of one colour.
func solidRGBA(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// solidGray returns a w x h gray image of one value.
func solidGray(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// pngBytes encodes img as PNG.
func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// jpegBytes encodes img as JPEG at high quality.
func jpegBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}))
	return b.Bytes()
}

// writeFiles writes name → content files below dir, creating folders as needed.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, content, 0o644))
	}
}

// gifBytes encodes a small two-colour GIF.
func gifBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 6, 6), color.Palette{color.Black, color.White})
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 2)
	}
	var b bytes.Buffer
	require.NoError(t, gif.Encode(&b, img, nil))
	return b.Bytes()
}
