// Command photos writes a folder of synthetic camera-sized JPEG photos in class sub-folders, for the
// browser trainer's scale check (web/test/scale_test.mjs): the page must decode and downscale a few
// thousand of them without exhausting the tab.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
)

func main() {
	dir := flag.String("dir", "photos", "output folder")
	n := flag.Int("n", 3000, "photos")
	classes := flag.Int("classes", 10, "class sub-folders")
	w := flag.Int("w", 800, "width")
	h := flag.Int("h", 600, "height")
	flag.Parse()
	var wg sync.WaitGroup
	errs := make(chan error, *n)
	sem := make(chan struct{}, 4)
	for i := range *n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs <- write(filepath.Join(*dir, fmt.Sprintf("class%02d", i%*classes)), i, i%*classes, *w, *h)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			log.Fatal(err)
		}
	}
}

// write draws a photo of class c: a gradient background in the class's hue and a few discs.
func write(dir string, i, c, w, h int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(i), 7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	base := [3]float64{float64(c*25%256) / 255, float64(c*70%256) / 255, float64(c*140%256) / 255}
	type disc struct{ x, y, r float64 }
	discs := make([]disc, 3+r.IntN(4))
	for k := range discs {
		discs[k] = disc{r.Float64() * float64(w), r.Float64() * float64(h), 20 + r.Float64()*float64(h)/4}
	}
	for y := range h {
		for x := range w {
			t := float64(x+y) / float64(w+h)
			v := [3]float64{base[0] * (0.5 + t), base[1] * (1.2 - t), base[2]*0.8 + 0.1*t}
			for _, d := range discs {
				if dx, dy := float64(x)-d.x, float64(y)-d.y; dx*dx+dy*dy < d.r*d.r {
					v = [3]float64{1 - v[0], 1 - v[1], 1 - v[2]}
				}
			}
			img.Set(x, y, color.RGBA{u8(v[0]), u8(v[1]), u8(v[2]), 255})
		}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("photo%05d.jpg", i)))
	if err != nil {
		return err
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 85}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func u8(v float64) uint8 { return uint8(min(255, max(0, v*255))) }
