package data

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// defaultNames are the files the server publishes and the browser's worker installs.
var defaultNames = []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "LICENSE"}

// installDefault installs fsys for one test.
func installDefault(t *testing.T, fsys fs.FS) {
	t.Helper()
	SetDefaultFiles(fsys)
	t.Cleanup(func() { SetDefaultFiles(nil) })
}

// memDefault is the files of default/ on disk as a MemFS, as the browser's worker hands them over.
func memDefault(t *testing.T, names ...string) *MemFS {
	t.Helper()
	files := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile("default/" + n)
		require.NoError(t, err)
		files[n] = b
	}
	m, err := NewMemFS(files)
	require.NoError(t, err)
	return m
}

// TestInflatedDefaultFiles: the worker inflates the .gz files as they arrive and hands them over by
// their plain names; the dataset is the same as from the .gz files.
func TestInflatedDefaultFiles(t *testing.T) {
	installDefault(t, memDefault(t, defaultNames...))
	want, err := Default()
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, n := range defaultNames {
		b, err := os.ReadFile("default/" + n)
		require.NoError(t, err)
		if name, ok := strings.CutSuffix(n, ".gz"); ok {
			r, err := gzip.NewReader(bytes.NewReader(b))
			require.NoError(t, err)
			b, err = io.ReadAll(r)
			require.NoError(t, err)
			n = name
		}
		files[n] = b
	}
	m, err := NewMemFS(files)
	require.NoError(t, err)
	installDefault(t, m)
	got, err := Default()
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestSetDefaultFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   []string
		wantErr string
	}{
		{"all", defaultNames, ""},
		{"no test labels", defaultNames[:3], "found t10k-images-idx3-ubyte.gz but no t10k-labels-idx1-ubyte"},
		{"no test part", defaultNames[:2], "test part missing"},
		{"empty", nil, "no train-images-idx3-ubyte or train-images-idx3-ubyte.gz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			installDefault(t, memDefault(t, tc.files...))
			s, err := Default()
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "default dataset: ")
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 6000, s.Train.N)
			assert.Equal(t, 2000, s.Test.N)
			assert.Equal(t, []int32{9, 2, 1, 1}, s.Test.Labels[:4])
			assert.Contains(t, DefaultLicense(), "Copyright (c) 2017 Zalando SE")
		})
	}
}
