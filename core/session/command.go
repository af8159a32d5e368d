package session

import (
	"encoding/json"
	"fmt"

	"github.com/emc2ml/emc2/core/compare"
	"github.com/emc2ml/emc2/core/train"
)

// Command is one message from the page (the JSON part; a checkpoint's bytes and uploaded files
// travel beside it). The wasm bridge decodes it here, natively testable and fuzzed, and executes it.
type Command struct {
	Cmd       string          `json:"cmd"`
	Backend   string          `json:"backend"`    // init: gpu | cpu
	Default   bool            `json:"default"`    // load, restore: the embedded data
	ImageSize int             `json:"image_size"` // load, restore: side of folder images
	Config    json.RawMessage `json:"config"`     // start: fields over train.DefaultConfig
	Anchor    int             `json:"anchor"`     // watch
	Kind      string          `json:"kind"`       // export
	Resume    bool            `json:"resume"`     // restore: train on at once
	Plan      json.RawMessage `json:"plan"`       // compare: compare.Plan, its base over train.DefaultConfig
	Done      json.RawMessage `json:"done"`       // compare: []compare.Result the page kept
}

// ParseCommand reads a command's JSON (the bridge answers a name it does not know).
func ParseCommand(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return Command{}, fmt.Errorf("bad command: %w", err)
	}
	return c, nil
}

// StartConfig is a start (or profile) command's config: its fields over train.DefaultConfig, not yet
// validated (Start does that).
func (c Command) StartConfig() (train.Config, error) {
	cfg := train.DefaultConfig()
	if err := json.Unmarshal(c.Config, &cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// ComparePlan is a compare command's plan (its base over train.DefaultConfig) and the runs the page
// kept from an earlier, interrupted plan.
func (c Command) ComparePlan() (compare.Plan, []compare.Result, error) {
	plan := compare.Plan{Base: train.DefaultConfig()}
	if err := json.Unmarshal(c.Plan, &plan); err != nil {
		return plan, nil, fmt.Errorf("compare: plan: %w", err)
	}
	var done []compare.Result
	if len(c.Done) > 0 {
		if err := json.Unmarshal(c.Done, &done); err != nil {
			return plan, nil, fmt.Errorf("compare: kept runs: %w", err)
		}
	}
	return plan, done, nil
}
