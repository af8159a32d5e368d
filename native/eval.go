package main

import (
	"context"
	"flag"
	"fmt"
	"os"

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
	t, err := train.NewTrainer(be, cfg, split.Train)
	if err != nil {
		return err
	}
	if err := t.Restore(ck); err != nil {
		return err
	}
	ev, err := train.NewEvaluator(cfg, split)
	if err != nil {
		return err
	}
	raw, err := ev.RawPixelFloor(ctx)
	if err != nil {
		return err
	}
	r, err := ev.Evaluate(ctx, t)
	if err != nil {
		return err
	}
	s := &Summary{Config: cfg, Floors: []train.Floor{raw}, Final: r, History: []train.EvalReport{r}}
	fmt.Fprintf(os.Stdout, "checkpoint %s: %s at step %d\n", *ckpt, cfg.Method, ck.Step)
	printSummary(os.Stdout, s)
	return nil
}
