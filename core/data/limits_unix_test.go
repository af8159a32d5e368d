//go:build unix

package data

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpecialFilesSkipped: pipes, symlink loops, broken links and links to folders in an image folder
// are left out with a reason, never opened (a FIFO would block the reader for ever).
func TestSpecialFilesSkipped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pics")
	writeFiles(t, dir, map[string][]byte{"a/ok.png": pngBytes(t, solidGray(3, 3, 5)), "b/ok.png": pngBytes(t, solidGray(3, 3, 5))})
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "a", "fifo.png"), 0o644))
	require.NoError(t, os.Symlink("loop2.png", filepath.Join(dir, "a", "loop1.png")))
	require.NoError(t, os.Symlink("loop1.png", filepath.Join(dir, "a", "loop2.png")))
	require.NoError(t, os.Symlink("nowhere.png", filepath.Join(dir, "a", "broken.png")))
	require.NoError(t, os.Symlink("../b", filepath.Join(dir, "a", "tob")))
	require.NoError(t, os.Symlink("../a/fifo.png", filepath.Join(dir, "b", "tofifo.png")))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "b", "zero.png")))

	s, skipped, err := Open(dir, Options{})
	require.NoError(t, err)
	assert.Equal(t, 2, s.Train.N)
	reasons := map[string]string{}
	for _, sk := range skipped {
		reasons[filepath.Base(sk.Path)] = sk.Reason
		t.Log(filepath.Base(sk.Path), ": ", sk.Reason)
	}
	for name, want := range map[string]string{
		"fifo.png":   "not a regular file: a named pipe (FIFO)",
		"loop1.png":  "symbolic link that cannot be followed (broken or in a loop)",
		"loop2.png":  "symbolic link that cannot be followed (broken or in a loop)",
		"broken.png": "symbolic link that cannot be followed (broken or in a loop)",
		"tob":        "symbolic link to a folder (not followed",
		"tofifo.png": "not a regular file: a named pipe (FIFO)",
		"zero.png":   "not a regular file: a character device",
	} {
		assert.Contains(t, reasons[name], want, name)
	}
	assert.Len(t, reasons, 7)
}

// TestSpecialDataFilesRefused: a CIFAR-10 batch that is a FIFO is not a data file, and is never opened.
func TestSpecialDataFilesRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	writeFiles(t, dir, map[string][]byte{"data_batch_1.bin": cifarBatch(1)})
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "data_batch_2.bin"), 0o644))
	s, _, err := Open(dir, Options{})
	require.NoError(t, err, "a FIFO is not a regular file, so it is not one of the batches")
	assert.Equal(t, 1, s.Train.N)
	_, err = measure(os.DirFS(dir), "data_batch_2.bin", 1<<20)
	assert.ErrorContains(t, err, "data_batch_2.bin is a named pipe (FIFO), not a data file")
}
