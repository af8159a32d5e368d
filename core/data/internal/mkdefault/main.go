// Command mkdefault makes the embedded default dataset of package data: a class-balanced subset of
// Fashion-MNIST taken from the Debian package dataset-fashion-mnist. It keeps, in their original
// order, the first -train images of each class of the training set and the first -test images of
// each class of the test set, and writes them as gzip-compressed IDX files.
//
// Usage, from core/data: go run ./internal/mkdefault [-src DIR] [-out DIR]
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/emc2ml/emc2/core/data"
)

func main() {
	src := flag.String("src", "/usr/share/datasets/fashion-mnist", "folder with the Fashion-MNIST IDX .gz files")
	out := flag.String("out", "default", "folder to write the subset to")
	perTrain := flag.Int("train", 600, "training images per class")
	perTest := flag.Int("test", 200, "test images per class")
	flag.Parse()
	log.SetFlags(0)

	parts := []struct {
		prefix   string
		perClass int
	}{{"train", *perTrain}, {"t10k", *perTest}}
	for _, p := range parts {
		if err := subset(*src, *out, p.prefix, p.perClass); err != nil {
			log.Fatalf("mkdefault: %v", err)
		}
	}
}

// subset writes the first perClass images of each class of one part (train or t10k).
func subset(src, out, prefix string, perClass int) error {
	imgName := prefix + "-images-idx3-ubyte.gz"
	lblName := prefix + "-labels-idx1-ubyte.gz"
	n, h, w, pix, err := readImages(filepath.Join(src, imgName))
	if err != nil {
		return err
	}
	labels, err := readLabels(filepath.Join(src, lblName))
	if err != nil {
		return err
	}
	if len(labels) != n {
		return fmt.Errorf("%s: %d images but %d labels", prefix, n, len(labels))
	}

	size := h * w
	count := make(map[int32]int)
	var keepPix []uint8
	var keepLabels []int32
	for i, l := range labels {
		if count[l] >= perClass {
			continue
		}
		count[l]++
		keepPix = append(keepPix, pix[i*size:(i+1)*size]...)
		keepLabels = append(keepLabels, l)
	}
	for l, c := range count {
		if c < perClass {
			return fmt.Errorf("%s: class %d has only %d images, want %d", prefix, l, c, perClass)
		}
	}

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	err = writeGz(filepath.Join(out, imgName), func(wr io.Writer) error {
		return data.WriteIDXImages(wr, len(keepLabels), h, w, keepPix)
	})
	if err != nil {
		return err
	}
	err = writeGz(filepath.Join(out, lblName), func(wr io.Writer) error {
		return data.WriteIDXLabels(wr, keepLabels)
	})
	if err != nil {
		return err
	}
	log.Printf("%s: kept %d of %d images (%d classes x %d)", prefix, len(keepLabels), n, len(count), perClass)
	return nil
}

func readImages(p string) (n, h, w int, pix []uint8, err error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer f.Close()
	n, h, w, pix, err = data.ReadIDXImages(f)
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("%s: %w", p, err)
	}
	return n, h, w, pix, nil
}

func readLabels(p string) ([]int32, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	labels, err := data.ReadIDXLabels(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return labels, nil
}

// writeGz writes a file through a best-compression gzip stream with an empty header (no name, no
// time), so that reruns give identical bytes.
func writeGz(p string, write func(io.Writer) error) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return err
	}
	if err := write(zw); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", p, err)
	}
	return f.Close()
}
