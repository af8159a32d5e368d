package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/web"
)

// TestServeDir runs `emc2 serve --dir` on a free port, fetches the page and stops it.
func TestServeDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<title>emc2</title>"), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"--addr", "127.0.0.1:0", "--dir", dir}, pw)
		pw.Close()
	}()

	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	m := regexp.MustCompile(`^serving emc2 on (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)\n$`).FindStringSubmatch(line)
	require.NotNil(t, m, line)

	resp, err := http.Get(m[1])
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, web.CSP, resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "<title>emc2</title>", string(body))

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	_, err = http.Get(m[1])
	assert.Error(t, err, "still serving after it returned")
}

func TestServeRejects(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("x"), 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "0.0.0.0:0", "--dir", dir}, "loopback"},
		{[]string{"--addr", "192.168.1.2:8080", "--dir", dir}, "loopback"},
		{[]string{"--addr", "127.0.0.1:0", "--dir", t.TempDir()}, "index.html"},
		{[]string{"--dir", dir, "extra"}, "unexpected arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := serve(context.Background(), tc.args, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
