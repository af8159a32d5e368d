package main

import (
	"context"
	"fmt"
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
