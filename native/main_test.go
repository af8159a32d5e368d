package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tiny keeps a whole CLI run to a few seconds.
var tiny = []string{"--train-subset", "256", "--batch", "16", "--epochs", "1", "--channels", "8", "--hidden", "16",
	"--proj", "8", "--global-size", "32", "--log-every", "4"}

// TestTrainWritesARunFolder runs `emc2 train` end to end and checks every promised output, then
// evaluates the checkpoint with `emc2 eval`.
func TestTrainWritesARunFolder(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, runTrain(context.Background(), append([]string{"--out", out}, tiny...)))
	runs, err := os.ReadDir(out)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	dir := filepath.Join(out, runs[0].Name())
	assert.Contains(t, runs[0].Name(), "emc2-fresh-b16")
	for _, f := range []string{"config.json", "metrics.jsonl", "summary.json", "checkpoint.ckpt", "loss.png", "mcmc.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	kinds := map[string]int{}
	mf, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	defer mf.Close()
	sc := bufio.NewScanner(mf)
	for sc.Scan() {
		var rec struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), sc.Text())
		kinds[rec.Type]++
	}
	assert.Equal(t, 1, kinds["start"])
	assert.Equal(t, 2, kinds["floor"])
	assert.Equal(t, 2, kinds["eval"], "random init + final")
	assert.Equal(t, 4, kinds["step"], "16 steps reported every 4")
	assert.Equal(t, 1, kinds["summary"])

	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &s))
	assert.Len(t, s.Floors, 2)
	assert.Greater(t, s.Final.ProbeTest, 0.2)
	assert.Greater(t, s.MeanAccept, 0.0)

	require.NoError(t, runEval(context.Background(), []string{"-ckpt", filepath.Join(dir, "checkpoint.ckpt")}))
}

func TestTrainRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--method", "byol"}, "--method"},
		{[]string{"--tau", "-1"}, "--tau"},
		{[]string{"--channels", "8,x"}, "--channels"},
		{[]string{"--crop-scale", "0.9,0.2"}, "lo ≤ hi"},
		{[]string{"--data", "/nonexistent/folder"}, "/nonexistent/folder"},
		{[]string{"--backend", "tpu"}, "--backend"},
		{[]string{"--batch", "100000"}, "larger than"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := runTrain(context.Background(), append(append([]string{"--out", t.TempDir()}, tiny...), tc.args...))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEvalRejectsBadCheckpoint(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.ckpt")
	require.NoError(t, os.WriteFile(p, []byte("not a checkpoint"), 0o644))
	err := runEval(context.Background(), []string{"-ckpt", p})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x.ckpt")
	assert.Error(t, runEval(context.Background(), nil))
}
