package teach

import (
	"strconv"
	"testing"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLiveConfigRefused(t *testing.T) {
	split, err := data.Default()
	require.NoError(t, err)
	ok := LiveConfig{Images: 64, Batch: 8, Epochs: 1, Variant: mcmc.Fresh, Seed: 1}
	cases := []struct {
		name string
		edit func(*LiveConfig)
		want string
	}{
		{"too few images", func(c *LiveConfig) { c.Images = 3 }, "3 images"},
		{"too many images", func(c *LiveConfig) { c.Images = MaxLiveImages + 1 }, "images"},
		{"batch of one", func(c *LiveConfig) { c.Batch = 1 }, "batch 1"},
		{"batch above the images", func(c *LiveConfig) { c.Batch = 65 }, "batch 65"},
		{"no epochs", func(c *LiveConfig) { c.Epochs = 0 }, "0 epochs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			_, err := NewLive(cpu.New(), split.Train, c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A live run's steps are traced: every chain of the batch makes 2·2B decisions, the counts agree
// with the trainer's own statistics, and the followed chain's report is the inspector's.
func TestLiveSteps(t *testing.T) {
	split, err := data.Default()
	require.NoError(t, err)
	for _, v := range []mcmc.Variant{mcmc.Paper, mcmc.Fresh} {
		t.Run(v.String(), func(t *testing.T) {
			const B, steps = 8, 12 // 64 images: 8 steps an epoch, so the chains of the second epoch have states
			l, err := NewLive(cpu.New(), split.Train, LiveConfig{Images: 64, Batch: B, Epochs: 2, Variant: v, Seed: 3})
			require.NoError(t, err)
			rep, err := l.Report(-1)
			require.NoError(t, err)
			assert.Nil(t, rep.Follow, "nothing to follow before the first step")
			for range steps {
				require.NoError(t, l.Step())
			}
			require.Len(t, l.History, steps)
			for _, st := range l.History {
				assert.Equal(t, 2*B*(2*B-1)-2*B, st.Proposals, "each chain proposes every column but its own views")
				assert.InDelta(t, st.AcceptRate, float64(st.Accepted)/float64(st.Proposals), 1e-6, "step %d", st.Step)
			}
			last := l.History[steps-1]
			assert.Equal(t, B, last.WithState, "in the second epoch every chain has a state")
			assert.Greater(t, last.StaleGap, 0.0)
			rep, err = l.Report(-1)
			require.NoError(t, err)
			require.NotNil(t, rep.Follow)
			require.NotNil(t, rep.Follow.Replay)
			assert.Equal(t, steps-1, rep.Follow.Step)
			assert.Len(t, rep.Follow.Replay.Decisions, 4*B)
			wantCols := 2 * B
			if v != mcmc.Paper {
				wantCols = 3 * B
			}
			assert.Len(t, rep.Follow.Columns, wantCols)
			a := rep.Follow.Anchor
			assert.Contains(t, rep.Images, itoa(a))
			for _, c := range rep.Batch {
				assert.GreaterOrEqual(t, c.StoredAge, 1)
				if v == mcmc.Paper {
					assert.Equal(t, "plain", c.FreshKind)
				} else {
					assert.Equal(t, "sweep", c.FreshKind)
					vs := l.visits[c.Image]
					require.GreaterOrEqual(t, len(vs), 2)
					assert.Equal(t, c.Step-vs[len(vs)-2].Step, c.StoredAge, "fresh re-scores its state at every visit")
				}
			}
			// a chain followed outside its batch: its last walk and when it comes next
			other := -1
			for i := range 64 {
				if _, ok := l.chains[i]; ok && i != a && !inBatch(rep.Batch, i) {
					other = i
					break
				}
			}
			require.GreaterOrEqual(t, other, 0)
			r2, err := l.Report(other)
			require.NoError(t, err)
			require.NotNil(t, r2.Follow.Replay)
			assert.Less(t, r2.Follow.Step, steps-1)
			assert.Greater(t, r2.Follow.Next, steps-1)
			_, err = l.Report(64)
			assert.ErrorContains(t, err, "anchor 64")
		})
	}
}

func inBatch(b []LiveChain, i int) bool {
	for _, c := range b {
		if c.Image == i {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }
