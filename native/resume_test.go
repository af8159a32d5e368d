package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/train"
)

// TestKillAndResume kills a real `emc2 train` process with SIGKILL in the middle of its run (leaving
// a half-written temporary checkpoint beside the real one, as a kill during a write would), resumes
// it with --resume, and checks that the final state equals an uninterrupted run's, bit for bit
// (CPU backend).
func TestKillAndResume(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "emc2")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	args := append([]string{"--backend", "cpu", "--checkpoint-every", "4"}, tiny...)
	args = append(args, "--epochs", "4")

	whole := t.TempDir()
	require.NoError(t, runTrain(context.Background(), append([]string{"--out", whole}, args...)))
	ref := lastCheckpoint(t, whole)

	out := t.TempDir()
	cmd := exec.Command(bin, append(append([]string{"train"}, args...), "--out", out)...)
	require.NoError(t, cmd.Start())
	dir, step := "", 0
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		runs, _ := filepath.Glob(filepath.Join(out, "*"))
		if len(runs) == 1 {
			dir = runs[0]
			if ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoint.ckpt")); err == nil && ck.Step >= 12 {
				step = ck.Step
				break
			}
		}
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.NotZero(t, step, "the run checkpointed before it was killed")
	require.Less(t, step, ref.Step, "killed before the end")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "checkpoint.ckpt.tmp-123"), []byte("half a checkpoint"), 0o644))

	require.NoError(t, runTrain(context.Background(), []string{"--resume", dir, "--backend", "cpu"}))
	got, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoint.ckpt"))
	require.NoError(t, err)
	assert.Equal(t, ref.Step, got.Step)
	assert.Equal(t, ref.F32, got.F32, "the same final weights and optimizer state, bit for bit")
	assert.Equal(t, ref.U32, got.U32, "the same chains")
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	assert.Empty(t, left, "stale temporary files are cleaned up")
	for _, f := range []string{"summary.json", "loss.png"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, f)
	}
	err = runTrain(context.Background(), []string{"--resume", dir, "--backend", "cpu"})
	assert.ErrorContains(t, err, "the run has ended")
	err = runTrain(context.Background(), []string{"--resume", dir, "--batch", "8"})
	assert.ErrorContains(t, err, "only --lr and --backend")
}

func lastCheckpoint(t *testing.T, out string) *train.Checkpoint {
	t.Helper()
	runs, _ := filepath.Glob(filepath.Join(out, "*"))
	require.Len(t, runs, 1)
	ck, err := train.LoadCheckpoint(filepath.Join(runs[0], "checkpoint.ckpt"))
	require.NoError(t, err)
	return ck
}

// TestDivergedRunSaysHowToGoOn: a diverging run stops with a message naming the way out.
func TestDivergedRunSaysHowToGoOn(t *testing.T) {
	out := t.TempDir()
	err := runTrain(context.Background(), append(append([]string{"--out", out, "--backend", "cpu"}, tiny...), "--lr", "1e6", "--optimizer", "sgd", "--warmup", "0"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "diverged")
	assert.Contains(t, err.Error(), "--lr 100000")
}

// TestRunFoldersNeverShared: two runs started in the same second get folders of their own.
func TestRunFoldersNeverShared(t *testing.T) {
	root := t.TempDir()
	cfg := train.DefaultConfig()
	seen := map[string]bool{}
	for range 5 {
		d, err := newRunDir(root, cfg)
		require.NoError(t, err)
		assert.False(t, seen[d], d)
		seen[d] = true
	}
}
