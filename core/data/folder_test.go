package data

import (
	"image"
	"image/color"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	red   = color.RGBA{R: 220, G: 20, B: 30, A: 255}
	green = color.RGBA{R: 10, G: 200, B: 40, A: 255}
	blue  = color.RGBA{R: 0, G: 30, B: 240, A: 255}
)

func TestLoadFolderLayouts(t *testing.T) {
	redPNG := pngBytes(t, solidRGBA(40, 30, red))
	greenJPEG := jpegBytes(t, solidRGBA(16, 16, green))
	bluePNG := pngBytes(t, solidRGBA(8, 12, blue))
	grayPNG := pngBytes(t, solidGray(20, 20, 90))
	grayJPEG := jpegBytes(t, solidGray(20, 20, 160))

	for _, tc := range []struct {
		name        string
		fsys        fstest.MapFS
		dir         string
		opt         FolderOptions
		wantN       int
		wantC       int
		wantLabels  []int32
		wantClasses []string
		wantTestN   int
		wantTestLbl []int32
		wantSkipped int
	}{
		{
			name: "labels from sub-folders",
			fsys: fstest.MapFS{
				"pets/dogs/d1.png":      {Data: bluePNG},
				"pets/cats/c1.png":      {Data: redPNG},
				"pets/cats/c2.jpg":      {Data: greenJPEG},
				"pets/cats/deep/c3.gif": {Data: gifBytes(t)},
				"pets/.DS_Store":        {Data: []byte("junk")},
			},
			dir: "pets", wantN: 4, wantC: 3,
			wantLabels: []int32{0, 0, 0, 1}, wantClasses: []string{"cats", "dogs"},
		},
		{
			name: "unlabeled root",
			fsys: fstest.MapFS{
				"a.png": {Data: redPNG},
				"b.jpg": {Data: greenJPEG},
			},
			dir: ".", wantN: 2, wantC: 3,
		},
		{
			name: "root images beside class folders get -1",
			fsys: fstest.MapFS{
				"x/loose.png":  {Data: redPNG},
				"x/cls/in.png": {Data: bluePNG},
			},
			dir: "x", wantN: 2, wantC: 3,
			wantLabels: []int32{0, -1}, wantClasses: []string{"cls"},
		},
		{
			name: "train and test share the class list",
			fsys: fstest.MapFS{
				"d/train/cats/a.png": {Data: redPNG},
				"d/train/dogs/b.png": {Data: bluePNG},
				"d/test/cats/c.png":  {Data: redPNG},
				"d/test/birds/d.jpg": {Data: greenJPEG},
				"d/test/birds/e.txt": {Data: []byte("notes")},
				"d/README.md":        {Data: []byte("ignored: outside train/ and test/")},
			},
			dir: "d", wantN: 2, wantC: 3,
			wantLabels: []int32{1, 2}, wantClasses: []string{"birds", "cats", "dogs"},
			wantTestN: 2, wantTestLbl: []int32{0, 1}, wantSkipped: 1,
		},
		{
			name: "all gray gives one channel",
			fsys: fstest.MapFS{
				"g/a.png": {Data: grayPNG},
				"g/b.jpg": {Data: grayJPEG},
				"g/c.png": {Data: pngBytes(t, solidRGBA(5, 5, color.RGBA{R: 7, G: 7, B: 7, A: 255}))},
			},
			dir: "g", wantN: 3, wantC: 1,
		},
		{
			name: "gray forced to RGB",
			fsys: fstest.MapFS{"g/a.png": {Data: grayPNG}},
			dir:  "g", opt: FolderOptions{Channels: 3}, wantN: 1, wantC: 3,
		},
		{
			name: "colour forced to gray",
			fsys: fstest.MapFS{"c/a.png": {Data: redPNG}},
			dir:  "c", opt: FolderOptions{Channels: 1, Size: 8}, wantN: 1, wantC: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, skipped, err := LoadFolder(tc.fsys, tc.dir, tc.opt)
			require.NoError(t, err)
			assert.Len(t, skipped, tc.wantSkipped)
			size := tc.opt.Size
			if size == 0 {
				size = 32
			}
			d := s.Train
			require.NoError(t, d.Validate())
			assert.Equal(t, []int{tc.wantN, size, size, tc.wantC}, []int{d.N, d.H, d.W, d.C})
			assert.Equal(t, tc.wantLabels, d.Labels)
			assert.Equal(t, tc.wantClasses, d.Classes)
			if tc.wantTestN == 0 {
				assert.Nil(t, s.Test)
				return
			}
			require.NotNil(t, s.Test)
			require.NoError(t, s.Test.Validate())
			assert.Equal(t, tc.wantTestN, s.Test.N)
			assert.Equal(t, tc.wantTestLbl, s.Test.Labels)
			assert.Equal(t, tc.wantClasses, s.Test.Classes)
			assert.Equal(t, tc.wantC, s.Test.C)
		})
	}
}

func TestLoadFolderPixels(t *testing.T) {
	fsys := fstest.MapFS{
		"p/a.png": {Data: pngBytes(t, solidRGBA(40, 30, red))},
		"p/b.jpg": {Data: jpegBytes(t, solidRGBA(16, 16, green))},
		"q/g.png": {Data: pngBytes(t, solidGray(20, 20, 90))},
		"r/a.png": {Data: pngBytes(t, solidRGBA(40, 30, red))},
	}
	s, _, err := LoadFolder(fsys, "p", FolderOptions{Size: 4})
	require.NoError(t, err)
	for p := range 16 {
		assert.Equal(t, []uint8{red.R, red.G, red.B}, s.Train.Image(0)[3*p:3*p+3], "PNG pixel %d", p)
		assert.InDeltaSlice(t, []float64{float64(green.R), float64(green.G), float64(green.B)},
			toFloats(s.Train.Image(1)[3*p:3*p+3]), 6, "JPEG pixel %d", p)
	}

	s, _, err = LoadFolder(fsys, "q", FolderOptions{Size: 3, Channels: 3})
	require.NoError(t, err)
	assert.Equal(t, []uint8{90, 90, 90}, s.Train.Image(0)[:3])

	s, _, err = LoadFolder(fsys, "r", FolderOptions{Size: 2, Channels: 1})
	require.NoError(t, err)
	luma := color.GrayModel.Convert(red).(color.Gray).Y
	assert.Equal(t, []uint8{luma, luma, luma, luma}, s.Train.Image(0))
}

func toFloats(b []uint8) []float64 {
	f := make([]float64, len(b))
	for i, v := range b {
		f[i] = float64(v)
	}
	return f
}

// grayImage builds a gray image from rows of values.
func grayImage(rows [][]uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, len(rows[0]), len(rows)))
	for y, row := range rows {
		copy(img.Pix[y*img.Stride:], row)
	}
	return img
}

// grayOf returns the red channel of RGB bytes as rows, for gray test images.
func grayOf(rgb []uint8, size int) [][]uint8 {
	rows := make([][]uint8, size)
	for y := range rows {
		rows[y] = make([]uint8, size)
		for x := range rows[y] {
			rows[y][x] = rgb[(y*size+x)*3]
		}
	}
	return rows
}

func TestSquareRGBResize(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  image.Image
		size int
		want [][]uint8
	}{
		{
			name: "box 4 to 2 averages 2x2 blocks",
			img:  grayImage([][]uint8{{0, 10, 20, 30}, {40, 50, 60, 70}, {80, 90, 100, 110}, {120, 130, 140, 150}}),
			size: 2,
			want: [][]uint8{{25, 45}, {105, 125}},
		},
		{
			name: "box 3 to 2 weights partial pixels",
			img:  grayImage([][]uint8{{0, 90, 180}, {0, 90, 180}, {0, 90, 180}}),
			size: 2,
			want: [][]uint8{{30, 150}, {30, 150}},
		},
		{
			name: "center crop keeps the middle square",
			img:  grayImage([][]uint8{{255, 1, 2, 3, 4, 255}, {255, 5, 6, 7, 8, 255}, {255, 9, 10, 11, 12, 255}, {255, 13, 14, 15, 16, 255}}),
			size: 4,
			want: [][]uint8{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}},
		},
		{
			name: "center crop of a tall image",
			img:  grayImage([][]uint8{{9, 9}, {1, 2}, {3, 4}, {9, 9}}),
			size: 2,
			want: [][]uint8{{1, 2}, {3, 4}},
		},
		{
			name: "bilinear 2 to 4",
			img:  grayImage([][]uint8{{0, 100}, {0, 100}}),
			size: 4,
			want: [][]uint8{{0, 25, 75, 100}, {0, 25, 75, 100}, {0, 25, 75, 100}, {0, 25, 75, 100}},
		},
		{
			name: "bilinear 1 to 3",
			img:  grayImage([][]uint8{{77}}),
			size: 3,
			want: [][]uint8{{77, 77, 77}, {77, 77, 77}, {77, 77, 77}},
		},
		{
			name: "sub-image with offset bounds",
			img:  grayImage([][]uint8{{0, 0, 0}, {0, 5, 6}, {0, 7, 8}}).SubImage(image.Rect(1, 1, 3, 3)),
			size: 2,
			want: [][]uint8{{5, 6}, {7, 8}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, grayOf(squareRGB(tc.img, tc.size), tc.size))
		})
	}
}

func TestSquareRGBImageTypes(t *testing.T) {
	c := color.NRGBA{R: 200, G: 100, B: 50, A: 255}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	rgba64 := image.NewRGBA64(image.Rect(0, 0, 2, 2))
	pal := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{c})
	ycc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio444)
	yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
	for i := range 4 {
		nrgba.Pix[4*i], nrgba.Pix[4*i+1], nrgba.Pix[4*i+2], nrgba.Pix[4*i+3] = c.R, c.G, c.B, c.A
		rgba64.Set(i%2, i/2, c)
		ycc.Y[i], ycc.Cb[i], ycc.Cr[i] = yy, cb, cr
	}
	for _, tc := range []struct {
		name  string
		img   image.Image
		delta float64
	}{
		{"NRGBA", nrgba, 0},
		{"RGBA64 (generic path)", rgba64, 0},
		{"Paletted", pal, 0},
		{"YCbCr", ycc, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := squareRGB(tc.img, 1)
			assert.InDeltaSlice(t, []float64{200, 100, 50}, toFloats(got), tc.delta)
		})
	}
}
