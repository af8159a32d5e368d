package main

import (
	"bufio"
	"compress/gzip"
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

	// The built-in data beside it, as core/data/default holds it.
	resp, err = http.Get(m[1] + web.DefaultDataDir + "/train-labels-idx1-ubyte.gz")
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	want, err := os.ReadFile(filepath.Join("..", "core", "data", "default", "train-labels-idx1-ubyte.gz"))
	require.NoError(t, err)
	assert.Equal(t, want, body)

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

// TestServeDirHardened runs `emc2 serve --dir` over a real connection with the attacks of issue 13:
// a symbolic link out of the folder, a foreign Host header (DNS rebinding), and checks that the
// page's files go out gzipped to a client that accepts it.
func TestServeDirHardened(t *testing.T) {
	dir := t.TempDir()
	page := "<title>emc2</title>" + strings.Repeat("<p>emc2</p>", 100)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o600))
	secret := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte("SECRET"), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "p.txt")))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "passwd.txt")))

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
	base := regexp.MustCompile(`http://[^/]+/`).FindString(line)
	require.NotEmpty(t, base, line)

	// A transport that neither adds nor undoes gzip, so the test sees what the server sent.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	fetch := func(path string, hdr ...string) (*http.Response, string) {
		req, err := http.NewRequest("GET", base+path, nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(hdr); i += 2 {
			if hdr[i] == "Host" {
				req.Host = hdr[i+1]
			} else {
				req.Header.Set(hdr[i], hdr[i+1])
			}
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}

	for _, p := range []string{"p.txt", "passwd.txt"} {
		resp, body := fetch(p)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, p)
		assert.NotContains(t, body, "SECRET")
		assert.NotContains(t, body, "root:")
	}
	resp, body := fetch("", "Host", "evil.example")
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
	assert.NotContains(t, body, "<title>emc2")
	resp, _ = fetch("", "Host", "localhost")
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body = fetch("", "Accept-Encoding", "gzip")
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
	assert.Equal(t, web.CSP, resp.Header.Get("Content-Security-Policy"))
	zr, err := gzip.NewReader(strings.NewReader(body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, page, string(plain))

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
}
