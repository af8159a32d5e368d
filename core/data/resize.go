package data

import (
	"image"
	"image/color"
)

// squareRGB center-crops img to a square and resamples it to size x size, returning 3 bytes (R, G, B)
// per pixel, row-major. Downscaling averages over the exact area each output pixel covers (box
// filter); upscaling interpolates bilinearly between pixel centers. Transparent pixels come out
// composited over black.
func squareRGB(img image.Image, size int) []uint8 {
	b := img.Bounds()
	s := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-s)/2
	y0 := b.Min.Y + (b.Dy()-s)/2
	src := cropRGB(img, x0, y0, s)
	taps := resampleTaps(s, size)

	// Horizontal pass: s rows of size pixels.
	tmp := make([]float32, s*size*3)
	for y := range s {
		row := src[y*s*3 : (y+1)*s*3]
		for ox, t := range taps {
			var r, g, bl float32
			for k, w := range t.w {
				p := row[(t.first+k)*3:]
				r += w * float32(p[0])
				g += w * float32(p[1])
				bl += w * float32(p[2])
			}
			o := tmp[(y*size+ox)*3:]
			o[0], o[1], o[2] = r, g, bl
		}
	}
	// Vertical pass: size rows of size pixels.
	out := make([]uint8, size*size*3)
	for oy, t := range taps {
		for i := range size * 3 {
			var v float32
			for k, w := range t.w {
				v += w * tmp[(t.first+k)*size*3+i]
			}
			out[oy*size*3+i] = toByte(v)
		}
	}
	return out
}

// toByte rounds v to the nearest byte value, clamping to 0..255.
func toByte(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// tap lists the weights of consecutive source pixels, starting at first, that make one output pixel.
// The weights sum to 1.
type tap struct {
	first int
	w     []float32
}

// resampleTaps returns one tap per output pixel for resampling a line of src pixels to dst pixels:
// the exact area average when shrinking (or keeping the size), bilinear when growing.
func resampleTaps(src, dst int) []tap {
	taps := make([]tap, dst)
	if src >= dst {
		// Output pixel o covers source interval [o*src, (o+1)*src) in units of 1/dst pixel; source
		// pixel i covers [i*dst, (i+1)*dst).
		for o := range taps {
			a, b := o*src, (o+1)*src
			first, last := a/dst, (b-1)/dst
			t := tap{first: first, w: make([]float32, last-first+1)}
			for i := first; i <= last; i++ {
				overlap := min(b, (i+1)*dst) - max(a, i*dst)
				t.w[i-first] = float32(overlap) / float32(src)
			}
			taps[o] = t
		}
		return taps
	}
	for o := range taps {
		pos := (float64(o)+0.5)*float64(src)/float64(dst) - 0.5
		pos = max(pos, 0)
		i := int(pos)
		if i >= src-1 {
			taps[o] = tap{first: src - 1, w: []float32{1}}
			continue
		}
		f := float32(pos - float64(i))
		taps[o] = tap{first: i, w: []float32{1 - f, f}}
	}
	return taps
}

// cropRGB copies the s x s square of img whose top-left corner is (x0, y0) as RGB bytes, with fast
// paths for the image types the standard decoders return.
func cropRGB(img image.Image, x0, y0, s int) []uint8 {
	out := make([]uint8, s*s*3)
	set := func(x, y int, r, g, b uint8) {
		o := out[((y-y0)*s+(x-x0))*3:]
		o[0], o[1], o[2] = r, g, b
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				v := m.Pix[m.PixOffset(x, y)]
				set(x, y, v, v, v)
			}
		}
	case *image.YCbCr:
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				c := m.YCbCrAt(x, y)
				r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				set(x, y, r, g, b)
			}
		}
	case *image.RGBA:
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				p := m.Pix[m.PixOffset(x, y):]
				set(x, y, p[0], p[1], p[2])
			}
		}
	case *image.NRGBA:
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				p := m.Pix[m.PixOffset(x, y):]
				a := uint32(p[3])
				set(x, y, uint8((uint32(p[0])*a+127)/255), uint8((uint32(p[1])*a+127)/255), uint8((uint32(p[2])*a+127)/255))
			}
		}
	case *image.Paletted:
		pal := make([][3]uint8, len(m.Palette))
		for i, c := range m.Palette {
			r, g, b, _ := c.RGBA()
			pal[i] = [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
		}
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				var p [3]uint8
				if i := int(m.Pix[m.PixOffset(x, y)]); i < len(pal) {
					p = pal[i]
				}
				set(x, y, p[0], p[1], p[2])
			}
		}
	default:
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				set(x, y, uint8(r>>8), uint8(g>>8), uint8(b>>8))
			}
		}
	}
	return out
}

// isGrayRGB reports whether every pixel of RGB bytes has equal red, green and blue.
func isGrayRGB(rgb []uint8) bool {
	for i := 0; i+2 < len(rgb); i += 3 {
		if rgb[i] != rgb[i+1] || rgb[i] != rgb[i+2] {
			return false
		}
	}
	return true
}

// rgbToGray converts RGB bytes to luma bytes with the ITU-R BT.601 weights image/color uses.
func rgbToGray(rgb []uint8) []uint8 {
	out := make([]uint8, len(rgb)/3)
	for i := range out {
		r, g, b := uint32(rgb[3*i]), uint32(rgb[3*i+1]), uint32(rgb[3*i+2])
		out[i] = uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
	}
	return out
}
