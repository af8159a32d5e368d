// Command mkencoder makes the teaching page's encoder asset (web/app/teach/encoder.safetensors) from
// a checkpoint written by `emc2 train`: the encoder weights exported as safetensors (the same
// export as the trainer's "Export weights"), then converted to F16 to halve the size. The Makefile
// target `teach-encoder` runs the training command and this, and documents both.
//
// Usage: go run ./core/teach/internal/mkencoder -ckpt RUN/checkpoint.ckpt -out web/app/teach/encoder.safetensors
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/teach"
	"github.com/emc2ml/emc2/core/train"
)

func main() {
	ckpt := flag.String("ckpt", "", "checkpoint written by emc2 train (on the default data)")
	out := flag.String("out", "web/app/teach/encoder.safetensors", "output file")
	flag.Parse()
	if err := run(*ckpt, *out); err != nil {
		log.Fatalf("mkencoder: %v", err)
	}
}

func run(ckptPath, out string) error {
	ck, err := train.LoadCheckpoint(ckptPath)
	if err != nil {
		return err
	}
	if ck.Config.Data != "default" {
		return fmt.Errorf("%s was trained on %q; the teaching page needs the default data", ckptPath, ck.Config.Data)
	}
	split, err := data.Default()
	if err != nil {
		return err
	}
	d := split.Train
	arch := model.Arch{InH: d.H, InW: d.W, InC: d.C, Channels: ck.Config.Channels, Hidden: ck.Config.Hidden, Proj: ck.Config.Proj}
	var f32 bytes.Buffer
	if err := ck.WriteSafetensors(&f32, arch); err != nil {
		return err
	}
	f16, err := teach.ToF16(f32.Bytes())
	if err != nil {
		return err
	}
	if _, err := teach.ReadEncoder(f16); err != nil {
		return fmt.Errorf("the converted file does not read back: %w", err)
	}
	if err := os.WriteFile(out, f16, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Printf("%s: %d bytes (F32 export %d bytes), step %d, β = %v\n", out, len(f16), f32.Len(), ck.Step, ck.Config.Beta)
	return nil
}
