//go:build fetchdata

package data

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without the embedded files, Default says why until the worker installs them.
func TestDefaultNotFetched(t *testing.T) {
	_, err := DefaultFiles()
	require.ErrorIs(t, err, errNotFetched)
	_, err = Default()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the built-in data has not been fetched")
	assert.Contains(t, DefaultLicense(), "Zalando SE", "a fallback names the licence")

	installDefault(t, os.DirFS("default"))
	s, err := Default()
	require.NoError(t, err)
	assert.Equal(t, 6000, s.Train.N)
}
