// Command teachref writes, as JSON on standard output, what the teaching page must show for a
// setting, computed natively by core/teach (and so core/mcmc and core/train on the CPU backend):
//
//   - part 2 (default): the toy chain's first steps, decision by decision, and its TV distance to
//     the target after each of several chain lengths;
//   - part 3 (-live): the live training run's first steps, every chain's every decision, with the
//     per-step statistics and the stored and fresh scores.
//
// The browser test (web/test/teach_test.mjs) compares the page, which runs the same code as
// WebAssembly, with it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/teach"
	"github.com/emc2ml/emc2/core/train"
)

// Reference is the output.
type Reference struct {
	Config  teach.ToyConfig `json:"config"`
	Target  []float64       `json:"target"`
	Steps   []teach.ToyStep `json:"steps"`
	Lengths []int           `json:"lengths"`
	TV      []float64       `json:"tv"`
	Accept  []float64       `json:"accept_rate"` // after each length
}

func main() {
	var c teach.ToyConfig
	flag.IntVar(&c.Points, "points", 40, "points on the circle")
	flag.Float64Var(&c.Beta, "beta", 2, "inverse temperature β")
	flag.IntVar(&c.BurnIn, "burnin", 100, "burn-in steps")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed")
	steps := flag.Int("steps", 100, "steps to record decision by decision")
	lengths := flag.String("lengths", "1000,10000", "chain lengths at which to report TV, comma-separated, ascending")
	liveRun := flag.Bool("live", false, "part 3: the live training run instead of the toy chain")
	var lc teach.LiveConfig
	flag.IntVar(&lc.Images, "images", 256, "-live: training images")
	flag.IntVar(&lc.Batch, "batch", 8, "-live: batch size B")
	flag.IntVar(&lc.Epochs, "epochs", 10, "-live: epochs")
	variant := flag.String("variant", "fresh", "-live: sampler variant (paper | fresh)")
	flag.Parse()
	if *liveRun {
		lc.Seed = c.Seed
		if err := runLive(lc, *variant, *steps); err != nil {
			log.Fatalf("teachref: %v", err)
		}
		return
	}
	if err := run(c, *steps, *lengths); err != nil {
		log.Fatalf("teachref: %v", err)
	}
}

func run(c teach.ToyConfig, steps int, lengths string) error {
	var ls []int
	for _, f := range strings.Split(lengths, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("--lengths %q: %w", lengths, err)
		}
		ls = append(ls, n)
	}
	toy, err := teach.NewToy(c)
	if err != nil {
		return err
	}
	ref := Reference{Config: c, Target: toy.Target, Lengths: ls}
	for i := 0; i < steps; i++ {
		ref.Steps = append(ref.Steps, toy.Step())
	}
	// a fresh chain for the curve, as the page's Reset makes
	if toy, err = teach.NewToy(c); err != nil {
		return err
	}
	for _, L := range ls {
		if L < toy.Steps() {
			return fmt.Errorf("--lengths must ascend")
		}
		for toy.Steps() < L {
			toy.Step()
		}
		ref.TV = append(ref.TV, toy.TV())
		ref.Accept = append(ref.Accept, toy.AcceptRate())
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(ref)
}

// LiveReference is part 3's output: each step's trace and chain summaries, and the run's history.
type LiveReference struct {
	Config  teach.LiveConfig    `json:"config"`
	Traces  []*train.StepTrace  `json:"traces"`
	Batches [][]teach.LiveChain `json:"batches"`
	History []teach.LiveStat    `json:"history"`
}

func runLive(c teach.LiveConfig, variant string, steps int) error {
	v, err := mcmc.ParseVariant(variant)
	if err != nil {
		return err
	}
	c.Variant = v
	split, err := data.Default()
	if err != nil {
		return err
	}
	l, err := teach.NewLive(cpu.New(), split.Train, c)
	if err != nil {
		return err
	}
	ref := LiveReference{Config: c}
	for i := 0; i < steps && !l.Done(); i++ {
		if err := l.Step(); err != nil {
			return err
		}
		ref.Traces = append(ref.Traces, l.LastTrace())
		ref.Batches = append(ref.Batches, append([]teach.LiveChain(nil), l.Batch...))
	}
	ref.History = l.History
	return json.NewEncoder(os.Stdout).Encode(ref)
}
