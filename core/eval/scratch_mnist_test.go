package eval

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"testing"
	"time"
)

func readIdx(t *testing.T, path string, skip int) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b[skip:]
}

func TestScratchMNIST(t *testing.T) {
	img := readIdx(t, "/root/go/pkg/mod/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data/train-images-idx3-ubyte.gz", 16)
	lab := readIdx(t, "/root/go/pkg/mod/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data/train-labels-idx1-ubyte.gz", 8)
	timg := readIdx(t, "/root/go/pkg/mod/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data/t10k-images-idx3-ubyte.gz", 16)
	tlab := readIdx(t, "/root/go/pkg/mod/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data/t10k-labels-idx1-ubyte.gz", 8)
	n, m, d := 6000, 2000, 784
	x := make([]float32, n*d)
	y := make([]int32, n)
	for i := range x {
		x[i] = float32(img[i]) / 255
	}
	for i := range y {
		y[i] = int32(lab[i])
	}
	tx := make([]float32, m*d)
	ty := make([]int32, m)
	for i := range tx {
		tx[i] = float32(timg[i]) / 255
	}
	for i := range ty {
		ty[i] = int32(tlab[i])
	}
	start := time.Now()
	res, err := LinearProbe(context.Background(), x, y, tx, ty, d, 10, ProbeOptions{})
	t.Logf("probe %+v err=%v in %v", res, err, time.Since(start))
}
