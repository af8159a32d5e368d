package data

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
)

// RawMagic starts an image that was already decoded elsewhere: the browser decodes photos with its
// own (faster, more capable) decoders and downscales them before handing them to the Go core, as
// RawMagic, uint32 width, uint32 height (little-endian), then width·height non-premultiplied RGBA
// bytes. Registering it as an image format lets LoadFolder read such files like any PNG or JPEG, so
// folder structure, labels and skipped-file reporting stay in one place.
const RawMagic = "EMC2RGBA"

// maxRawSide bounds a raw image's sides, so a bad header cannot ask for a huge allocation.
const maxRawSide = 1 << 14

func init() {
	image.RegisterFormat("emc2rgba", RawMagic, decodeRaw, decodeRawConfig)
}

// EncodeRaw wraps decoded RGBA pixels (w·h·4 bytes) as a raw image file.
func EncodeRaw(w, h int, rgba []uint8) []byte {
	out := make([]byte, 0, len(RawMagic)+8+len(rgba))
	out = append(out, RawMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(w))
	out = binary.LittleEndian.AppendUint32(out, uint32(h))
	return append(out, rgba...)
}

func decodeRawConfig(r io.Reader) (image.Config, error) {
	var hdr [len(RawMagic) + 8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return image.Config{}, fmt.Errorf("raw image header: %w", err)
	}
	if !bytes.Equal(hdr[:len(RawMagic)], []byte(RawMagic)) {
		return image.Config{}, errors.New("raw image: bad magic")
	}
	w := binary.LittleEndian.Uint32(hdr[len(RawMagic):])
	h := binary.LittleEndian.Uint32(hdr[len(RawMagic)+4:])
	if w == 0 || h == 0 || w > maxRawSide || h > maxRawSide {
		return image.Config{}, fmt.Errorf("raw image: size %dx%d out of range 1..%d", w, h, maxRawSide)
	}
	return image.Config{ColorModel: color.NRGBAModel, Width: int(w), Height: int(h)}, nil
}

func decodeRaw(r io.Reader) (image.Image, error) {
	br := bufio.NewReader(r)
	hdr, err := br.Peek(len(RawMagic) + 8)
	if err != nil {
		return nil, fmt.Errorf("raw image header: %w", err)
	}
	cfg, err := decodeRawConfig(bytes.NewReader(hdr))
	if err != nil {
		return nil, err
	}
	_, _ = br.Discard(len(hdr))
	// Memory grows with the bytes actually there, so a header alone cannot claim the 1 GiB its
	// largest sides would need.
	n := int64(cfg.Width) * int64(cfg.Height) * 4
	what := fmt.Sprintf("raw image: %dx%d pixels", cfg.Width, cfg.Height)
	pix, err := readExactly(br, n, n, false, what)
	if err != nil {
		return nil, err
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * cfg.Width, Rect: image.Rect(0, 0, cfg.Width, cfg.Height)}, nil
}
