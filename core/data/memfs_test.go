package data

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemFSIsAFileSystem(t *testing.T) {
	m, err := NewMemFS(map[string][]byte{"d/train/0/a.png": []byte("x"), "d/train/1/b.png": []byte("yy"), "d/README": nil})
	require.NoError(t, err)
	require.NoError(t, fstest.TestFS(m, "d/train/0/a.png", "d/train/1/b.png", "d/README"))
	b, err := fs.ReadFile(m, "d/train/1/b.png")
	require.NoError(t, err)
	assert.Equal(t, "yy", string(b))
}

func TestMemFSRefusesBadNames(t *testing.T) {
	for _, name := range []string{"/abs", "./R", "d/train//1.png", "a/../b", "", ".", "a/"} {
		_, err := NewMemFS(map[string][]byte{name: nil})
		assert.Error(t, err, name)
	}
	_, err := NewMemFS(map[string][]byte{"a": nil, "a/b": nil})
	assert.ErrorContains(t, err, "is a file, not a folder")
}

func TestTopDir(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{nil, "."}, {[]string{"a.png"}, "."}, {[]string{"d/a.png", "d/b/c.png"}, "d"}, {[]string{"d/a", "e/b"}, "."},
	} {
		assert.Equal(t, c.want, TopDir(c.names), c.names)
	}
}
