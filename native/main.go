// Command emc2 trains, evaluates and benchmarks contrastive image encoders (EMC², SogCLR, SimCLR).
//
//	emc2 train [flags]        train on a dataset, with progress, metrics, plots and a checkpoint
//	emc2 eval  -ckpt FILE     evaluate a saved checkpoint against its floors
//	emc2 compare [flags]      compare methods × batch sizes × seeds on your data: accuracy, time, memory
//	emc2 bench                time training steps per backend, method and batch size
//	emc2 serve                serve the browser trainer on this machine
//
// Run `emc2 <command> -h` for the flags of a command.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "train":
		err = runTrain(ctx, args)
	case "eval":
		err = runEval(ctx, args)
	case "compare":
		err = runCompare(ctx, args)
	case "bench":
		err = runBench(ctx, args)
	case "experiment":
		err = runExperiment(ctx, args)
	case "serve":
		err = runServe(ctx, args)
	case "help", "-h", "--help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "emc2: unknown command %q\n\n", cmd)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "emc2:", err)
		if ctx.Err() != nil {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `emc2 — contrastive learning with MCMC negative sampling

usage:
  emc2 train [flags]       train an encoder (EMC², SogCLR or SimCLR) and evaluate it against its floors
  emc2 eval -ckpt FILE     evaluate a saved checkpoint
  emc2 compare [flags]     compare methods × batch sizes × seeds on your data (report.md, CSV, figures)
  emc2 bench               time training steps per backend, method and batch size
  emc2 experiment NAME     gradnorm | batch-sweep | mixing (docs/RESULTS.md)
  emc2 serve               serve the browser trainer on this machine

Run "emc2 train -h" for the training flags.
`)
}
