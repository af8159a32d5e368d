// Package augment makes the random views of contrastive learning: random resized crop, horizontal
// flip, brightness/contrast (and, for RGB, saturation/hue) jitter, random grayscale, Gaussian blur and
// Gaussian noise. Every random choice comes from the shared counter-based generator (core/rng), keyed
// by (step, row), so the WGSL twin (shaders/augment.wgsl) makes the same views for the same seed.
//
// Drawing the parameters (Draw) is separate from applying them (Apply): a reader can check the
// parameters of any view, and tests can apply hand-picked ones.
package augment

import (
	"math"

	"github.com/emc2ml/emc2/core/rng"
)

// Config sets the strength of each augmentation. The zero Config is the identity (used for
// evaluation): the whole image, no flip, no jitter, no blur, no noise.
type Config struct {
	CropScale  [2]float32 `json:"crop_scale"` // area fraction range of the random resized crop; {0,0} = whole image
	CropRatio  [2]float32 `json:"crop_ratio"` // aspect ratio range; {0,0} = {3/4, 4/3}
	FlipP      float32    `json:"flip_p"`     // probability of a horizontal flip
	JitterP    float32    `json:"jitter_p"`   // probability of applying the colour/intensity jitter
	Brightness float32    `json:"brightness"` // brightness factor in 1 ± Brightness
	Contrast   float32    `json:"contrast"`   // contrast factor in 1 ± Contrast (around the view's mean)
	Saturation float32    `json:"saturation"` // RGB only: saturation factor in 1 ± Saturation
	Hue        float32    `json:"hue"`        // RGB only: hue rotation in ±Hue turns
	GrayP      float32    `json:"gray_p"`     // RGB only: probability of converting to grayscale
	BlurP      float32    `json:"blur_p"`     // probability of a Gaussian blur
	BlurSigma  [2]float32 `json:"blur_sigma"` // blur σ range in pixels of the output
	NoiseStd   float32    `json:"noise_std"`  // std of additive Gaussian noise, in [0,1] intensity units
}

// Params are the drawn parameters of one view.
type Params struct {
	X0, Y0, CW, CH float32 // crop box in source pixels
	Flip           bool
	Jitter         bool
	Bright, Contr  float32
	Sat, Hue       float32 // hue in turns
	Gray           bool
	Blur           bool
	Sigma          float32
}

// Batch describes one Augment call: Rows views, each from an image of InH×InW×C to OutH×OutW×C.
// View r uses the random counters (StreamAugment/StreamNoise, Step, Base+r), so a long list of views
// can be made in chunks and still come out the same.
type Batch struct {
	Base        uint32
	Rows        int
	InH, InW, C int
	OutH, OutW  int
	Cfg         Config
	Key         rng.Key
	Step        uint32
}

// Draw returns the parameters of view `row` at `step`, from the uniforms of up to four Philox calls.
func Draw(c Config, key rng.Key, step, row uint32, inH, inW int) Params {
	a := key.Uniform4(rng.StreamAugment, step, row, 0)
	b := key.Uniform4(rng.StreamAugment, step, row, 1)
	d := key.Uniform4(rng.StreamAugment, step, row, 2)
	p := Params{CW: float32(inW), CH: float32(inH), Bright: 1, Contr: 1, Sat: 1}
	if c.CropScale[1] > 0 {
		rlo, rhi := c.CropRatio[0], c.CropRatio[1]
		if rhi <= 0 {
			rlo, rhi = 3.0/4, 4.0/3
		}
		area := float32(inH * inW)
		s := c.CropScale[0] + a[0]*(c.CropScale[1]-c.CropScale[0])
		lr := logf(rlo) + a[1]*(logf(rhi)-logf(rlo))
		r := expf(lr)
		p.CW = clampf(sqrtf(s*area*r), 1, float32(inW))
		p.CH = clampf(sqrtf(s*area/r), 1, float32(inH))
		p.X0 = a[2] * (float32(inW) - p.CW)
		p.Y0 = a[3] * (float32(inH) - p.CH)
	}
	p.Flip = b[0] < c.FlipP
	if b[1] < c.JitterP {
		p.Jitter = true
		p.Bright = 1 + c.Brightness*(2*b[2]-1)
		p.Contr = 1 + c.Contrast*(2*b[3]-1)
		p.Sat = 1 + c.Saturation*(2*d[0]-1)
		p.Hue = c.Hue * (2*d[1] - 1)
	}
	p.Gray = d[2] < c.GrayP
	if d[3] < c.BlurP {
		p.Blur = true
		e := key.Uniform4(rng.StreamAugment, step, row, 3)
		p.Sigma = c.BlurSigma[0] + e[0]*(c.BlurSigma[1]-c.BlurSigma[0])
	}
	return p
}

// Apply writes the view of src (inH×inW×c uint8) described by p into dst (outH×outW×c float32 in
// [0, 1]); noiseStd > 0 adds per-pixel noise from the counters (StreamNoise, step, row, pixel).
func Apply(dst []float32, src []uint8, inH, inW, c, outH, outW int, p Params, noiseStd float32, key rng.Key, step, row uint32) {
	// 1. crop + resize (bilinear, clamp to edge) + flip
	sy, sx := p.CH/float32(outH), p.CW/float32(outW)
	for oy := 0; oy < outH; oy++ {
		fy := p.Y0 + (float32(oy)+0.5)*sy - 0.5
		y0, wy := floorSplit(fy, inH)
		y1 := min(y0+1, inH-1)
		for ox := 0; ox < outW; ox++ {
			tx := ox
			if p.Flip {
				tx = outW - 1 - ox
			}
			fx := p.X0 + (float32(tx)+0.5)*sx - 0.5
			x0, wx := floorSplit(fx, inW)
			x1 := min(x0+1, inW-1)
			for ch := 0; ch < c; ch++ {
				v00 := float32(src[(y0*inW+x0)*c+ch])
				v01 := float32(src[(y0*inW+x1)*c+ch])
				v10 := float32(src[(y1*inW+x0)*c+ch])
				v11 := float32(src[(y1*inW+x1)*c+ch])
				top := v00 + wx*(v01-v00)
				bot := v10 + wx*(v11-v10)
				dst[(oy*outW+ox)*c+ch] = (top + wy*(bot-top)) * (1.0 / 255)
			}
		}
	}
	n := outH * outW
	// 2. colour / intensity jitter, in the fixed order brightness, contrast, saturation, hue
	if p.Jitter {
		for i := range dst[:n*c] {
			dst[i] = clampf(dst[i]*p.Bright, 0, 1)
		}
		var mean float32
		if c == 3 {
			var s float64
			for i := 0; i < n; i++ {
				s += float64(luma(dst[i*3:]))
			}
			mean = float32(s / float64(n))
		} else {
			var s float64
			for _, v := range dst[:n] {
				s += float64(v)
			}
			mean = float32(s / float64(n))
		}
		for i := range dst[:n*c] {
			dst[i] = clampf((dst[i]-mean)*p.Contr+mean, 0, 1)
		}
		if c == 3 {
			cosh, sinh := float32(math.Cos(2*math.Pi*float64(p.Hue))), float32(math.Sin(2*math.Pi*float64(p.Hue)))
			for i := 0; i < n; i++ {
				px := dst[i*3 : i*3+3]
				g := luma(px)
				for k := range px {
					px[k] = clampf((px[k]-g)*p.Sat+g, 0, 1)
				}
				if p.Hue != 0 {
					hueRotate(px, cosh, sinh)
				}
			}
		}
	}
	// 3. random grayscale (RGB only)
	if c == 3 && p.Gray {
		for i := 0; i < n; i++ {
			g := luma(dst[i*3:])
			dst[i*3], dst[i*3+1], dst[i*3+2] = g, g, g
		}
	}
	// 4. Gaussian blur, separable, clamp to edge
	if p.Blur && p.Sigma > 0 {
		blur(dst, outH, outW, c, p.Sigma)
	}
	// 5. additive Gaussian noise
	if noiseStd > 0 {
		for i := range dst[:n*c] {
			z := rng.Normal4(key.Bits(rng.StreamNoise, step, row, uint32(i)))
			dst[i] = clampf(dst[i]+noiseStd*z, 0, 1)
		}
	}
}

// MaxBlurRadius caps the blur kernel at 2·4+1 taps.
const MaxBlurRadius = 4

// BlurKernel returns the normalised 1-D Gaussian taps for σ (radius ⌈2σ⌉, at most MaxBlurRadius).
func BlurKernel(sigma float32) []float32 {
	r := min(MaxBlurRadius, int(math.Ceil(float64(2*sigma))))
	k := make([]float32, 2*r+1)
	var s float32
	for i := -r; i <= r; i++ {
		v := expf(-float32(i*i) / (2 * sigma * sigma))
		k[i+r] = v
		s += v
	}
	for i := range k {
		k[i] /= s
	}
	return k
}

func blur(img []float32, h, w, c int, sigma float32) {
	k := BlurKernel(sigma)
	r := len(k) / 2
	tmp := make([]float32, h*w*c)
	for y := 0; y < h; y++ { // horizontal
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				var s float32
				for i := -r; i <= r; i++ {
					xx := min(max(x+i, 0), w-1)
					s += k[i+r] * img[(y*w+xx)*c+ch]
				}
				tmp[(y*w+x)*c+ch] = s
			}
		}
	}
	for y := 0; y < h; y++ { // vertical
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				var s float32
				for i := -r; i <= r; i++ {
					yy := min(max(y+i, 0), h-1)
					s += k[i+r] * tmp[(yy*w+x)*c+ch]
				}
				img[(y*w+x)*c+ch] = s
			}
		}
	}
}

// luma is the ITU-R 601 grayscale value of an RGB pixel (as torchvision's rgb_to_grayscale).
func luma(px []float32) float32 { return 0.299*px[0] + 0.587*px[1] + 0.114*px[2] }

// hueRotate rotates the chroma of an RGB pixel in YIQ space by the angle with the given cos/sin.
func hueRotate(px []float32, cs, sn float32) {
	y := 0.299*px[0] + 0.587*px[1] + 0.114*px[2]
	i := 0.596*px[0] - 0.274*px[1] - 0.322*px[2]
	q := 0.211*px[0] - 0.523*px[1] + 0.312*px[2]
	i, q = i*cs-q*sn, i*sn+q*cs
	px[0] = clampf(y+0.956*i+0.621*q, 0, 1)
	px[1] = clampf(y-0.272*i-0.647*q, 0, 1)
	px[2] = clampf(y-1.106*i+1.703*q, 0, 1)
}

// floorSplit returns the clamped integer part of f and the fractional weight toward the next pixel.
func floorSplit(f float32, n int) (int, float32) {
	if f <= 0 {
		return 0, 0
	}
	i := int(f)
	if i >= n-1 {
		return n - 1, 0
	}
	return i, f - float32(i)
}

func clampf(v, lo, hi float32) float32 { return min(max(v, lo), hi) }
func sqrtf(v float32) float32          { return float32(math.Sqrt(float64(v))) }
func expf(v float32) float32           { return float32(math.Exp(float64(v))) }
func logf(v float32) float32           { return float32(math.Log(float64(v))) }
