package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/compare"
	"github.com/emc2ml/emc2/core/train"
)

// runCompareIn runs emc2 compare with args and returns the report it wrote.
func runCompareIn(t *testing.T, ctx context.Context, args ...string) (compare.Report, string, error) {
	t.Helper()
	out := t.TempDir()
	err := runCompare(ctx, append([]string{"--out", out, "--backend", "cpu"}, args...))
	dirs, _ := filepath.Glob(filepath.Join(out, "compare-*"))
	require.Len(t, dirs, 1)
	return readReport(t, dirs[0]), dirs[0], err
}

func readReport(t *testing.T, dir string) compare.Report {
	t.Helper()
	var rep compare.Report
	b, err := os.ReadFile(filepath.Join(dir, "compare.json"))
	if err != nil {
		return rep
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	return rep
}

// finals maps each run to its final evaluation (what must not depend on timing).
func finals(rep compare.Report) map[compare.Key]train.EvalReport {
	m := map[compare.Key]train.EvalReport{}
	for _, r := range rep.Results {
		f := r.Summary.Final
		f.Seconds, f.TrainSecs = 0, 0
		m[r.Key] = f
	}
	return m
}

// TestCompareQuick: the quick plan on the built-in data writes every output, the table has its
// columns, the floors appear, seeds change results and the same seed repeats them.
func TestCompareQuick(t *testing.T) {
	rep, dir, err := runCompareIn(t, context.Background(), "--quick", "--methods", "simclr,emc2:fresh", "--batches", "16", "--seeds", "1,2")
	require.NoError(t, err)
	for _, f := range []string{"plan.json", "report.md", "compare.csv", "compare.json", "accuracy_vs_batch.png", "accuracy_vs_time.png", "memory.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	rows, err := csv.NewReader(strings.NewReader(string(must(os.ReadFile(filepath.Join(dir, "compare.csv")))))).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, compare.Columns, rows[0])
	require.Len(t, rows, 1+2+2, "header, two floors, two methods")
	assert.Equal(t, "floor: raw pixels", rows[1][0])
	assert.Equal(t, "floor: random init", rows[2][0])
	md := string(must(os.ReadFile(filepath.Join(dir, "report.md"))))
	for _, s := range []string{"## Reading", "floor: raw pixels", "floor: random init", "emc2-fresh", "step ÷ SimCLR", "state bytes/image"} {
		assert.Contains(t, md, s)
	}
	require.Len(t, rep.Rows, 2)
	for _, r := range rep.Rows {
		assert.Equal(t, 2, r.Probe.N)
		assert.Positive(t, r.StepMs.Mean)
		assert.Positive(t, r.DeviceMiB)
	}
	assert.Equal(t, 8.0, rep.Rows[1].StateBytes, "EMC² keeps 8 bytes per image")
	assert.Zero(t, rep.Rows[0].StateBytes)
	assert.Contains(t, rep.Reading, "At B = 16")

	f := finals(rep)
	k1, k2 := compare.Key{Method: "simclr", Batch: 16, Seed: 1}, compare.Key{Method: "simclr", Batch: 16, Seed: 2}
	assert.NotEqual(t, f[k1].GlobalLoss, f[k2].GlobalLoss, "another seed, another run")

	again, _, err := runCompareIn(t, context.Background(), "--quick", "--methods", "simclr", "--batches", "16", "--seeds", "1")
	require.NoError(t, err)
	assert.Equal(t, f[k1], finals(again)[k1], "the same seed, the same run")
}

// TestCompareResume interrupts a plan after its first run and resumes it: the plan completes with
// the numbers of an uninterrupted one.
func TestCompareResume(t *testing.T) {
	args := []string{"--quick", "--methods", "simclr,sogclr", "--batches", "16", "--seeds", "3"}
	whole, _, err := runCompareIn(t, context.Background(), args...)
	require.NoError(t, err)

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // Ctrl-C once the first run is kept
		for ctx.Err() == nil {
			if m, _ := filepath.Glob(filepath.Join(out, "compare-*", "runs", "*.json")); len(m) > 0 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	err = runCompare(ctx, append([]string{"--out", out, "--backend", "cpu"}, args...))
	require.ErrorIs(t, err, context.Canceled)
	dirs, _ := filepath.Glob(filepath.Join(out, "compare-*"))
	require.Len(t, dirs, 1)
	part := readReport(t, dirs[0])
	assert.Len(t, part.Results, 1, "the finished run is kept")
	assert.Len(t, part.Missing, 1)

	require.NoError(t, runCompare(context.Background(), []string{"--resume", dirs[0], "--backend", "cpu"}))
	resumed := readReport(t, dirs[0])
	assert.Empty(t, resumed.Missing)
	assert.Equal(t, finals(whole), finals(resumed))
}

// TestCompareOnAnImageFolder runs the quick plan on a folder of class sub-folders (labels from the
// folder names, a held-out tenth).
func TestCompareOnAnImageFolder(t *testing.T) {
	dir := pngFolder(t, 3, 60, 12)
	rep, _, err := runCompareIn(t, context.Background(), "--quick", "--data", dir, "--image-size", "12", "--methods", "simclr,emc2-paper", "--batches", "8", "--seeds", "1")
	require.NoError(t, err)
	require.Len(t, rep.Rows, 2)
	assert.True(t, rep.Rows[0].Labeled)
	require.Len(t, rep.Floors, 2)
	assert.Equal(t, "raw pixels", rep.Floors[0].Name)
	assert.Greater(t, rep.Rows[0].Probe.Mean, 0.6, "the folder's labels reach the evaluation: three distinct patterns")
}

func TestCompareRejectsBadPlans(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--methods", "simclr,moco"}, "unknown method"},
		{[]string{"--methods", "simclr,simclr"}, "twice"},
		{[]string{"--batches", "8,x"}, "--batches"},
		{[]string{"--seeds", "one"}, "--seeds"},
		{[]string{"--budget", "-5m"}, "budget"},
		{[]string{"--flip", "3"}, "--flip"},
		{[]string{"--resume", "/nonexistent/plan"}, "--resume"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out := t.TempDir()
			err := runCompare(context.Background(), append([]string{"--out", out, "--quick"}, tc.args...))
			require.ErrorContains(t, err, tc.want)
			left, _ := os.ReadDir(out)
			assert.Empty(t, left, "a refused plan leaves no folder")
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
