package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExperimentsQuick runs each experiment command at its --quick size and checks its files.
func TestExperimentsQuick(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{"gradnorm", []string{"gradnorm.csv", "gradnorm.json", "grad_norm.png", "grad_err.png", "loss.png"}},
		{"batch-sweep", []string{"batch_sweep.csv", "batch_sweep.json", "batch_sweep.png"}},
		{"mixing", []string{"mixing.csv", "mixing.json", "acceptance.png"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, runExperiment(context.Background(), []string{tc.name, "--quick", "--backend", "cpu", "--out", dir}))
			for _, f := range tc.files {
				st, err := os.Stat(filepath.Join(dir, f))
				require.NoError(t, err, f)
				assert.Positive(t, st.Size(), f)
			}
		})
	}
	assert.ErrorContains(t, runExperiment(context.Background(), []string{"nope"}), "nope")
	assert.Error(t, runExperiment(context.Background(), nil))
}
