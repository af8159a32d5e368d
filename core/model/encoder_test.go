package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/require"
)

// TestEncoderGradient checks the whole encoder's backward pass (every layer chained) against central
// finite differences in the parameters.
func TestEncoderGradient(t *testing.T) {
	a := Arch{InH: 8, InW: 8, InC: 1, Channels: []int{3, 4}, Hidden: 6, Proj: 5}
	require.NoError(t, a.Validate())
	be := cpu.New()
	rows := 3
	e := NewEncoder(be, a, rows, a.Init(rng.NewKey(1)))
	r := rand.New(rand.NewPCG(2, 3))
	xs := make([]float32, rows*e.InputLen())
	for i := range xs {
		xs[i] = r.Float32()
	}
	x := be.Alloc(len(xs))
	be.Write(x, xs)
	proj := make([]float32, rows*a.Proj)
	for i := range proj {
		proj[i] = float32(r.NormFloat64())
	}
	params := e.Params.(*cpu.Buf).F
	loss := func() float64 {
		e.Forward(x, rows)
		var s float64
		for i, v := range e.Out.(*cpu.Buf).F[:rows*a.Proj] {
			s += float64(v) * float64(proj[i])
		}
		return s
	}
	loss()
	d := be.Alloc(len(proj))
	be.Write(d, proj)
	e.Backward(x, d, rows)
	grads := append([]float32(nil), e.Grads.(*cpu.Buf).F...)
	segs, _ := a.Layout()
	for _, s := range segs {
		checked := 0
		for i := 0; i < s.Len && checked < 6; i += max(1, s.Len/6) {
			j := s.Off + i
			old := params[j]
			const eps = 1e-3
			params[j] = old + eps
			lp := loss()
			params[j] = old - eps
			lm := loss()
			params[j] = old
			num := (lp - lm) / (2 * eps)
			require.InDelta(t, num, float64(grads[j]), 3e-2*math.Max(1, math.Abs(num)), "%s[%d]", s.Name, i)
			checked++
		}
	}
}

func TestArchValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    Arch
		ok   bool
	}{
		{"default-like", Arch{28, 28, 1, []int{16, 32}, 128, 64}, true},
		{"rgb96", Arch{96, 96, 3, []int{16, 32, 64, 64}, 128, 64}, true},
		{"two channels", Arch{28, 28, 2, []int{16}, 128, 64}, false},
		{"too many pools", Arch{4, 4, 1, []int{4, 4, 4}, 8, 8}, false},
		{"no blocks", Arch{28, 28, 1, nil, 8, 8}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.a.Validate(); tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
