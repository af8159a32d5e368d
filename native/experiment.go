package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// experiments maps `emc2 experiment NAME` to its runner.
var experiments = map[string]func(ctx context.Context, args []string) error{}

func runExperiment(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("experiment: name one of: gradnorm, batch-sweep, mixing")
	}
	run, ok := experiments[args[0]]
	if !ok {
		return fmt.Errorf("experiment %q: want gradnorm, batch-sweep or mixing", args[0])
	}
	return run(ctx, args[1:])
}

// experimentDir returns (and creates) an experiment's output folder: out, or
// runs/experiments/<name>-<time> when out is empty.
func experimentDir(out, name string) (string, error) {
	if out == "" {
		out = filepath.Join("runs", "experiments", name+"-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("experiment %s: %w", name, err)
	}
	return out, nil
}
