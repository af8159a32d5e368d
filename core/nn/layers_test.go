package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func randn(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// dot is the scalar probe loss Σ out·proj whose gradient w.r.t. the output is proj.
func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkGrad compares an analytic gradient with central differences of loss() over a sample of
// coordinates of x. Float32 forward passes limit the accuracy, hence eps 1e-2 and a 2 % tolerance;
// coordinates where a ReLU or max-pool decision flips inside ±eps are skipped (the loss has a kink).
func checkGrad(t *testing.T, name string, x, analytic []float32, loss func() float64, kink func() bool) {
	t.Helper()
	const eps = 1e-2
	r := rand.New(rand.NewPCG(9, 9))
	checked := 0
	for trial := 0; trial < 40 && checked < 25; trial++ {
		i := r.IntN(len(x))
		old := x[i]
		x[i] = old + eps
		lp, kp := loss(), kink()
		x[i] = old - eps
		lm, km := loss(), kink()
		x[i] = old
		k0 := kink()
		if kp != k0 || km != k0 {
			continue
		}
		num := (lp - lm) / (2 * eps)
		require.InDelta(t, num, float64(analytic[i]), 2e-2*math.Max(1, math.Abs(num)), "%s: coordinate %d", name, i)
		checked++
	}
	require.Greater(t, checked, 10, "%s: too few coordinates checked", name)
}

func TestConv3x3Gradients(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    ConvShape
		relu bool
	}{
		{"gray-relu", ConvShape{N: 2, H: 5, W: 4, Cin: 1, Cout: 3}, true},
		{"multi-linear", ConvShape{N: 2, H: 4, W: 4, Cin: 3, Cout: 2}, false},
		{"multi-relu", ConvShape{N: 3, H: 6, W: 5, Cin: 4, Cout: 5}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			r := rand.New(rand.NewPCG(1, 2))
			x, w, b := randn(r, s.N*s.H*s.W*s.Cin), randn(r, s.K()*s.Cout), randn(r, s.Cout)
			out := s.N * s.H * s.W * s.Cout
			proj := randn(r, out)
			y := make([]float32, out)
			fwd := func() float64 { Conv3x3(y, x, w, b, s, tc.relu); return dot(y, proj) }
			fwd()
			yAt := append([]float32(nil), y...)
			dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(b))
			dy := append([]float32(nil), proj...)
			Conv3x3Back(dx, dw, db, dy, x, w, yAt, s, tc.relu)
			kink := activeSet(func() []float32 { Conv3x3(y, x, w, b, s, tc.relu); return y })
			checkGrad(t, "dx", x, dx, fwd, kink)
			checkGrad(t, "dw", w, dw, fwd, kink)
			checkGrad(t, "db", b, db, fwd, kink)
		})
	}
}

// activeSet returns a kink detector: true/false flips when the number of positive outputs changes.
// A coordinate whose ±eps perturbation changes which units are active is skipped by checkGrad.
func activeSet(run func() []float32) func() bool {
	base := -1
	return func() bool {
		n := 0
		for _, v := range run() {
			if v > 0 {
				n++
			}
		}
		if base < 0 {
			base = n
		}
		return n != base
	}
}

func TestMaxPool2Gradient(t *testing.T) {
	s := PoolShape{N: 2, H: 5, W: 6, C: 3} // odd height: the last row is dropped
	r := rand.New(rand.NewPCG(3, 4))
	x := randn(r, s.N*s.H*s.W*s.C)
	out := s.N * s.OutH() * s.OutW() * s.C
	y, arg, proj := make([]float32, out), make([]uint32, out), randn(r, out)
	fwd := func() float64 { MaxPool2(y, arg, x, s); return dot(y, proj) }
	fwd()
	dx := make([]float32, len(x))
	MaxPool2Back(dx, proj, arg, s)
	base := append([]uint32(nil), arg...)
	kink := func() bool {
		MaxPool2(y, arg, x, s)
		for i := range arg {
			if arg[i] != base[i] {
				return true
			}
		}
		return false
	}
	checkGrad(t, "pool dx", x, dx, fwd, kink)
}

func TestLinearGradients(t *testing.T) {
	for _, relu := range []bool{false, true} {
		m, k, n := 4, 7, 5
		r := rand.New(rand.NewPCG(5, 6))
		x, w, b, proj := randn(r, m*k), randn(r, k*n), randn(r, n), randn(r, m*n)
		y := make([]float32, m*n)
		fwd := func() float64 { Linear(y, x, w, b, m, k, n, relu); return dot(y, proj) }
		fwd()
		dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, n)
		LinearBack(dx, dw, db, append([]float32(nil), proj...), x, w, append([]float32(nil), y...), m, k, n, relu)
		kink := activeSet(func() []float32 { Linear(y, x, w, b, m, k, n, relu); return y })
		checkGrad(t, "linear dx", x, dx, fwd, kink)
		checkGrad(t, "linear dw", w, dw, fwd, kink)
		checkGrad(t, "linear db", b, db, fwd, kink)
	}
}

func TestL2NormGradient(t *testing.T) {
	rows, d := 3, 6
	r := rand.New(rand.NewPCG(7, 8))
	x, proj := randn(r, rows*d), randn(r, rows*d)
	y, norm := make([]float32, rows*d), make([]float32, rows)
	fwd := func() float64 { L2Norm(y, norm, x, rows, d); return dot(y, proj) }
	fwd()
	for i := 0; i < rows; i++ {
		require.InDelta(t, 1, dot(y[i*d:(i+1)*d], y[i*d:(i+1)*d]), 1e-5)
	}
	dx := make([]float32, len(x))
	L2NormBack(dx, proj, append([]float32(nil), y...), append([]float32(nil), norm...), rows, d)
	checkGrad(t, "l2norm dx", x, dx, fwd, func() bool { return false })
}
