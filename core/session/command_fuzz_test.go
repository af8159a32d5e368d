package session

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/train"
)

// FuzzParseCommand feeds the wasm bridge's decoding any message: it decodes or is refused with an
// error; its config (the page's form and URL, as JSON over the defaults) and its comparison plan
// decode and validate or are refused — never a panic, never an allocation sized by the input's
// numbers. A config that validates survives a JSON round trip unchanged and still validates.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`{"cmd":"init","backend":"gpu"}`,
		`{"cmd":"load","default":true,"image_size":32}`,
		`{"cmd":"start","config":{"method":"emc2","emc2_variant":"fresh","batch":16,"epochs":2,"beta":10,"lr":0.001,"seed":7,"train_subset":320}}`,
		`{"cmd":"start","config":{"batch":"16"}}`,
		`{"cmd":"start","config":{"beta":0,"flip":2,"crop_scale":[0,5],"channels":[100000]}}`,
		`{"cmd":"start","config":{"epochs":4611686018427387904}}`,
		`{"cmd":"compare","plan":{"methods":["simclr","emc2-fresh"],"batches":[16],"seeds":[7],"budget_s":0,"base":{"epochs":1}},"done":[]}`,
		`{"cmd":"compare","plan":{"methods":["simclr"],"batches":[8,8,8,8],"seeds":[1,2,3,4,5,6,7,8,9]},"done":[{"method":"x"}]}`,
		`{"cmd":"watch","anchor":-5}`,
		`{"cmd":"restore","resume":true,"default":true}`,
		`{"cmd":"export","kind":"csv"}`,
		`[]`, `null`, `{"cmd":1}`, `{"cmd":"start","config":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		if cfg, err := c.StartConfig(); err == nil && cfg.Validate() == nil {
			again := train.DefaultConfig()
			js, err := json.Marshal(cfg)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(js, &again))
			require.Equal(t, cfg, again)
			require.NoError(t, again.Validate())
		}
		if plan, _, err := c.ComparePlan(); err == nil {
			_ = plan.Validate()
		}
	})
}
