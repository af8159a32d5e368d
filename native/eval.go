package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

func runEval(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	ckpt := fs.String("ckpt", "", "checkpoint file written by emc2 train")
	dataSpec := fs.String("data", "", "evaluate on this data instead of the checkpoint's")
	imageSize := fs.Int("image-size", 32, "side length image folders are resized to")
	backendName := fs.String("backend", "auto", "auto | gpu | cpu")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" {
		return fmt.Errorf("eval: -ckpt FILE is required")
	}
	ck, err := train.LoadCheckpoint(*ckpt)
	if err != nil {
		return err
	}
	cfg := ck.Config
	if *dataSpec != "" {
		cfg.Data = *dataSpec
	}
	split, err := loadData(cfg, *imageSize)
	if err != nil {
		return err
	}
	be, err := openBackend(*backendName, os.Stderr)
	if err != nil {
		return err
	}
	defer be.Close()
	job, err := run.New(be, cfg, split, run.Options{})
	if err != nil {
		return flagError(err)
	}
	if err := job.Restore(ck); err != nil {
		return err
	}
	// A checkpoint of a finished run carries its final evaluation; evaluate again only when the data
	// or the weights differ from what it recorded.
	if n := len(job.History.Evals); *dataSpec != "" || n == 0 || job.History.Evals[n-1].Step != ck.Step {
		job.History = run.History{TrainSecs: job.History.TrainSecs}
		if err := job.Stop(ctx, nil); err != nil {
			return err
		}
	}
	s := job.Summary()
	fmt.Fprintf(os.Stdout, "checkpoint %s: %s at step %d\n", *ckpt, methodTitle(cfg), ck.Step)
	printSummary(os.Stdout, &s)
	return nil
}
