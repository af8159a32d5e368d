//go:build js

package main

// The teaching page's commands (web/app/teach.html), handled by core/teach. The page talks to the
// same worker as the trainer (web/app/worker.js), which hands every {cmd} it does not know itself to
// emc2Command; main's callback forwards the ones named "teach-…" here. They are pure CPU work that
// never waits on a promise, so they run at once, inside the callback, in the order they come:
//
//	teach-toy {config: ToyConfig, batches: [B…]}  new toy world and chain → event teach-toy
//	teach-step {n}                                 n steps of the chain → event teach-steps
//	teach-encoder + bytes (safetensors)            load part 1's encoder and embed its pool → teach-gallery
//	teach-negatives {anchor, k, seed, beta}        part 1's view of one anchor → teach-negatives
//	teach-live {live: LiveConfig, anchor}          part 3's training run (CPU backend) → teach-live
//	teach-live-step {n, anchor}                    n traced training steps → teach-live
//	teach-live-follow {anchor}                     the run as it is, following another chain → teach-live
//
// Part 3 trains on the CPU backend, not the page's GPU, so it works without WebGPU and its steps are
// the same, bit for bit, as a native run's (web/internal/teachref checks that).
//
// Failures come back as the trainer's do: an "error" event {cmd, message}.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/emc2ml/emc2/core/teach"
)

// teachCmd is one teaching command.
type teachCmd struct {
	Config  teach.ToyConfig  `json:"config"`
	Batches []int            `json:"batches"`
	N       int              `json:"n"`
	Anchor  int              `json:"anchor"`
	K       int              `json:"k"`
	Seed    uint64           `json:"seed"`
	Beta    float64          `json:"beta"`
	Live    teach.LiveConfig `json:"live"`
}

var (
	toy     *teach.Toy
	gallery *teach.Gallery
	live    *teach.Live
	split   *data.Split // the built-in data, read once
)

// Limits that keep one command short enough for the worker.
const (
	maxStepsPerCall = 200000
	fullStepRecords = 1000 // a call of up to this many steps returns every step; longer ones the last 50
	galleryPerClass = 30
	batchTrials     = 2000
	maxLiveSteps    = 128 // training steps per teach-live-step
)

// teachCommand runs one teaching command and sends its event (or an error).
func teachCommand(name, msg string, bytes []byte) {
	var c teachCmd
	err := json.Unmarshal([]byte(msg), &c)
	var ev string
	var out any
	if err == nil {
		ev, out, err = runTeach(name, c, bytes)
	}
	if err != nil {
		b, _ := json.Marshal(map[string]string{"cmd": name, "message": err.Error()})
		js.Global().Call("emc2Event", "error", string(b), js.Null())
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"cmd": name, "message": "encoding " + ev + ": " + err.Error()})
		ev = "error"
	}
	js.Global().Call("emc2Event", ev, string(b), js.Null())
}

func runTeach(name string, c teachCmd, bytes []byte) (string, any, error) {
	switch name {
	case "teach-toy":
		t, err := teach.NewToy(c.Config)
		if err != nil {
			return "", nil, err
		}
		world, err := toyWorld(t, c.Batches)
		if err != nil {
			return "", nil, err
		}
		toy = t
		return "teach-toy", world, nil
	case "teach-step":
		if toy == nil {
			return "", nil, errors.New("teach-step: no toy world yet (send teach-toy first)")
		}
		if c.N < 1 || c.N > maxStepsPerCall {
			return "", nil, fmt.Errorf("teach-step: %d steps: want 1 to %d", c.N, maxStepsPerCall)
		}
		return "teach-steps", toySteps(toy, c.N), nil
	case "teach-encoder":
		start := time.Now()
		enc, err := teach.ReadEncoder(bytes)
		if err != nil {
			return "", nil, err
		}
		split, err := builtIn()
		if err != nil {
			return "", nil, err
		}
		g, err := teach.NewGallery(enc, split.Test, galleryPerClass)
		if err != nil {
			return "", nil, err
		}
		gallery = g
		return "teach-gallery", map[string]any{"pool": g.Data.N, "classes": g.Classes, "beta": enc.Beta,
			"arch": enc.Arch, "ms": time.Since(start).Milliseconds()}, nil
	case "teach-negatives":
		if gallery == nil {
			return "", nil, errors.New("teach-negatives: the encoder is not loaded yet")
		}
		v, err := gallery.Negatives(c.Anchor, c.K, c.Seed, c.Beta, []int{2, 4, 8, 16, 32, 64, 128, 256}, batchTrials)
		if err != nil {
			return "", nil, err
		}
		return "teach-negatives", v, nil
	case "teach-live":
		split, err := builtIn()
		if err != nil {
			return "", nil, err
		}
		l, err := teach.NewLive(cpu.New(), split.Train, c.Live)
		if err != nil {
			return "", nil, err
		}
		live = l
		return liveReport(c.Anchor)
	case "teach-live-step":
		if live == nil {
			return "", nil, fmt.Errorf("teach-live-step: %w", teach.ErrNoLive)
		}
		if c.N < 1 || c.N > maxLiveSteps {
			return "", nil, fmt.Errorf("teach-live-step: %d steps: want 1 to %d", c.N, maxLiveSteps)
		}
		for i := 0; i < c.N && !live.Done(); i++ {
			if err := live.Step(); err != nil {
				return "", nil, err
			}
		}
		return liveReport(c.Anchor)
	case "teach-live-follow":
		if live == nil {
			return "", nil, fmt.Errorf("teach-live-follow: %w", teach.ErrNoLive)
		}
		return liveReport(c.Anchor)
	}
	return "", nil, fmt.Errorf("unknown teaching command %q", name)
}

func liveReport(anchor int) (string, any, error) {
	rep, err := live.Report(anchor)
	if err != nil {
		return "", nil, err
	}
	return "teach-live", rep, nil
}

// builtIn reads the built-in data once.
func builtIn() (*data.Split, error) {
	if split == nil {
		s, err := data.Default()
		if err != nil {
			return nil, err
		}
		split = s
	}
	return split, nil
}

// toyWorld describes a new toy world: the points, the target and SimCLR's in-batch weights.
func toyWorld(t *teach.Toy, batches []int) (map[string]any, error) {
	var in []teach.InBatchStats
	for _, b := range batches {
		if b > len(t.LogP) {
			continue
		}
		st, err := teach.InBatch(t.LogP, b, batchTrials, rng.NewKey(t.Config.Seed))
		if err != nil {
			return nil, err
		}
		in = append(in, st)
	}
	return map[string]any{"config": t.Config, "angles": t.Angles, "sims": t.Sims, "target": t.Target, "in_batch": in}, nil
}

// toySteps advances the chain and reports the steps with the chain's running statistics.
func toySteps(t *teach.Toy, n int) map[string]any {
	keep := n
	if n > fullStepRecords {
		keep = 50
	}
	steps := make([]teach.ToyStep, 0, keep)
	for i := 0; i < n; i++ {
		s := t.Step()
		if i >= n-keep {
			steps = append(steps, s)
		}
	}
	return map[string]any{"steps": steps, "t": t.Steps(), "kept": t.Kept, "accepted": t.Accepted,
		"accept_rate": t.AcceptRate(), "tv": t.TV(), "independent_tv": teach.IndependentTV(t.Target, t.Kept), "counts": t.Counts}
}

// isTeachCommand reports whether main's callback should hand the command to teachCommand.
func isTeachCommand(cmd string) bool { return strings.HasPrefix(cmd, "teach-") }
