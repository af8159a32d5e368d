package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/session"
	"github.com/emc2ml/emc2/core/train"
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
	assert.Contains(t, runs[0].Name(), "emc2-cached-b16")
	for _, f := range []string{"config.json", "metrics.jsonl", "summary.json", "checkpoint.ckpt", "encoder.safetensors", "loss.png", "mcmc.png"} {
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
	assert.Equal(t, 5, kinds["step"], "16 steps reported after step 1 and every 4")
	assert.Equal(t, 1, kinds["summary"])

	var s run.Summary
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
		{[]string{"--method", "byol"}, "-method: unknown method"},
		{[]string{"--tau", "-1"}, "--tau"},
		{[]string{"--channels", "8,x"}, "--channels"},
		{[]string{"--crop-scale", "0.9,0.2"}, "lo ≤ hi"},
		{[]string{"--data", "/nonexistent/folder"}, "/nonexistent/folder"},
		{[]string{"--backend", "tpu"}, "--backend"},
		{[]string{"--batch", "5000"}, "larger than"},
		{[]string{"--batch", "100000"}, "--batch"},
		{[]string{"--tau", "0"}, "--tau"},
		{[]string{"--tau", "0.1", "--beta", "5"}, ""}, // τ wins; checked below by not failing on it
		{[]string{"--flip", "2"}, "--flip 2: want a probability"},
		{[]string{"--crop-scale", "0,5"}, "--crop-scale"},
		{[]string{"--blur-sigma", "-5,-1"}, "--blur-sigma"},
		{[]string{"--brightness", "1e30"}, "--brightness"},
		{[]string{"--lr", "NaN"}, "--lr NaN"},
		{[]string{"--momentum", "NaN"}, "--momentum"},
		{[]string{"--warmup", "NaN"}, "--warmup"},
		{[]string{"--sogclr-gamma", "NaN"}, "--sogclr-gamma"},
		{[]string{"--mcmc-burn-in", "NaN"}, "--mcmc-burn-in"},
		{[]string{"--noise", "NaN"}, "--noise"},
		{[]string{"--epochs", "4611686018427387904"}, "--epochs"},
		{[]string{"--hidden", "2000000000"}, "--hidden"},
		{[]string{"--channels", "100000"}, "--channels"},
		{[]string{"--emc2-variant", "exact"}, "-emc2-variant: unknown sampler variant"},
		{[]string{"--optimizer", "rmsprop"}, "-optimizer: unknown optimizer"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if tc.want == "" {
				return
			}
			out := t.TempDir()
			err := runTrain(context.Background(), append(append([]string{"--out", out}, tiny...), tc.args...))
			require.Error(t, err)
			left, _ := os.ReadDir(out)
			assert.Empty(t, left, "a refused run leaves no run folder")
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

// TestCLIAndPageTrainTheSameImages loads a folder of class sub-folders without a test split (so a
// test set is held out) through the CLI's path and through the page's engine, and checks that for
// every subset size both train, and are evaluated, on the same images.
func TestCLIAndPageTrainTheSameImages(t *testing.T) {
	dir := pngFolder(t, 3, 41, 8)
	for _, subset := range []int{0, 12, 50, 100, 110} {
		t.Run(fmt.Sprint(subset), func(t *testing.T) {
			cfg := train.DefaultConfig()
			cfg.Data, cfg.TrainSubset, cfg.Batch, cfg.Channels, cfg.Hidden, cfg.Proj = dir, subset, 4, []int{2}, 4, 4

			split, err := loadData(cfg, 8)
			require.NoError(t, err)
			cli, err := run.New(cpu.New(), cfg, split, run.Options{})
			require.NoError(t, err)

			var started session.RunInfo
			var s *session.Session
			s = session.New(func(e session.Event) {
				if e.Type == session.EvStarted {
					started = e.Data.(session.RunInfo)
					s.Pause()
				}
			}, func() (backend.Backend, error) { return cpu.New(), nil }, session.Options{})
			require.NoError(t, s.Load(session.Source{FS: os.DirFS(dir), Dir: ".", ImageSize: 8}))
			require.NoError(t, s.Start(context.Background(), cfg))
			page := s.TrainingData()
			require.NotNil(t, page)

			assert.Equal(t, sourceOf(cli.Data.Train), sourceOf(page.Train), "training images")
			assert.Equal(t, sourceOf(cli.Data.Test), sourceOf(page.Test), "held-out images")
			assert.Equal(t, cli.Data.Train.Pix, page.Train.Pix)
			assert.Equal(t, cli.Info().TrainImages, started.TrainImages)
		})
	}
}

func sourceOf(d *data.Dataset) []int {
	out := make([]int, d.N)
	for i := range out {
		out[i] = d.SourceIndex(i)
	}
	return out
}

// pngFolder writes classes sub-folders of n grayscale side×side PNGs each: class c is a stripe
// pattern of its own period (with a per-image phase and brightness), so the classes are far apart.
func pngFolder(t *testing.T, classes, n, side int) string {
	dir := t.TempDir()
	for c := range classes {
		sub := filepath.Join(dir, fmt.Sprintf("class%d", c))
		require.NoError(t, os.MkdirAll(sub, 0o755))
		for i := range n {
			img := image.NewGray(image.Rect(0, 0, side, side))
			for p := range img.Pix {
				x, y := p%side, p/side
				v := 40 + i%7*10
				if ((x+y*c+i)/(c+1))%2 == 0 {
					v += 150
				}
				img.Pix[p] = uint8(v)
			}
			f, err := os.Create(filepath.Join(sub, fmt.Sprintf("%03d.png", i)))
			require.NoError(t, err)
			require.NoError(t, png.Encode(f, img))
			require.NoError(t, f.Close())
		}
	}
	return dir
}
