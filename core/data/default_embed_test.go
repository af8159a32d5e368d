//go:build !fetchdata

package data

import (
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded files are default/'s, under their own names.
func TestDefaultFilesEmbedded(t *testing.T) {
	fsys, err := DefaultFiles()
	require.NoError(t, err)
	for _, n := range defaultNames {
		got, err := fs.ReadFile(fsys, n)
		require.NoError(t, err, n)
		want, err := os.ReadFile("default/" + n)
		require.NoError(t, err)
		assert.Equal(t, want, got, n)
	}
}
