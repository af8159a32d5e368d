package train

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The PyTorch bridge (docs/torch/emc2_torch.py, README "Moving to PyTorch") is checked here: a tiny
// encoder trained for a few steps on the CPU backend is exported as safetensors, the script rebuilds
// it as a torch.nn.Module from the file alone, and its hidden features and embeddings of held-out
// images must equal the Embedder's.

const (
	python      = "/usr/bin/python3" // Debian's, with python3-torch; never a virtualenv's
	torchScript = "../../docs/torch/emc2_torch.py"
	// torchTol bounds |emc2 − PyTorch| per value. Both compute in float32 but sum in different
	// orders (emc2's im2col GEMM against PyTorch's convolution and matmul kernels, and emc2 scales
	// by 1/‖z‖ where PyTorch divides), so values of order 1 differ in their last few bits, about
	// 1e-6; any layout mistake (a transposed or mis-ordered weight) moves them by 1e-2 or more.
	torchTol = 1e-4
)

// requireTorch skips the test, loudly, unless Debian's python3-torch (with numpy) is importable.
func requireTorch(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
		t.Skipf("SKIPPED: the PyTorch bridge check: python3-torch is not installed (apt-get install python3-torch): %s -c 'import torch, numpy': %v: %s",
			python, err, lines[len(lines)-1])
	}
}

func TestTorchBridgeMatchesEmbedder(t *testing.T) {
	requireTorch(t)
	split := smallSplit(t)
	rgbTrain, rgbHeld := torchNoiseImages(64, 13, 11, 3, 1), torchNoiseImages(40, 13, 11, 3, 2)
	cases := []struct {
		name     string
		train    *data.Dataset
		held     *data.Dataset // images the encoder never trained on
		channels []int
		hidden   int
		proj     int
	}{
		// Fashion-MNIST, 28×28×1: two blocks, the pooled activation 7×7×12 (odd, multi-channel) so
		// that hidden.w's (h, w, c) row order matters.
		{"fashion-mnist", split.Train, split.Test.Subset(seq(100)), []int{8, 12}, 32, 16},
		// RGB with odd sides (13×11 → 6×5 → 3×2): in_c = 3 and flooring pools.
		{"rgb-13x11", rgbTrain, rgbHeld, []int{4, 6}, 24, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallConfig("emc2-paper")
			cfg.Channels, cfg.Hidden, cfg.Proj = c.channels, c.hidden, c.proj
			tr, err := NewTrainer(cpu.New(), cfg, c.train)
			require.NoError(t, err)
			for range 5 {
				tr.TrainStep()
			}
			ck, err := tr.Snapshot()
			require.NoError(t, err)
			var st bytes.Buffer
			require.NoError(t, ck.WriteSafetensors(&st, tr.Enc.Arch))

			idx := seq(c.held.N)
			hidden, emb, err := tr.Embedder().Embed(c.held, idx, augment.Config{}, 0)
			require.NoError(t, err)
			// Guard against a vacuous comparison: the features are not all zero (dead ReLUs) and the
			// embeddings tell images apart.
			assert.Greater(t, torchFracPositive(hidden), 0.05, "hidden features are almost all zero")
			assert.Greater(t, torchMaxDiff(emb[:c.proj], emb[c.proj:2*c.proj]), 0.01, "two images embed alike")

			dir := t.TempDir()
			weights, images := filepath.Join(dir, "encoder.safetensors"), filepath.Join(dir, "images.u8")
			hOut, eOut := filepath.Join(dir, "hidden.f32"), filepath.Join(dir, "emb.f32")
			require.NoError(t, os.WriteFile(weights, st.Bytes(), 0o644))
			require.NoError(t, os.WriteFile(images, c.held.Pix, 0o644))
			cmd := exec.Command(python, torchScript, weights, "--images", images, "--hidden-out", hOut, "--emb-out", eOut, "--threads", "1")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)

			th, te := torchReadF32(t, hOut), torchReadF32(t, eOut)
			require.Len(t, th, len(hidden))
			require.Len(t, te, len(emb))
			dh, de := torchMaxDiff(hidden, th), torchMaxDiff(emb, te)
			t.Logf("%d held-out images, arch %+v: max |emc2 − torch| hidden %.3g, embeddings %.3g (tolerance %g)",
				c.held.N, tr.Enc.Arch, dh, de, torchTol)
			assert.LessOrEqual(t, dh, torchTol, "hidden features")
			assert.LessOrEqual(t, de, torchTol, "embeddings")
		})
	}
}

// torchNoiseImages is a dataset of n uniform-noise images of h×w×c, from the seed.
func torchNoiseImages(n, h, w, c int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 0))
	pix := make([]uint8, n*h*w*c)
	for i := range pix {
		pix[i] = uint8(r.UintN(256))
	}
	return &data.Dataset{Name: "noise", N: n, H: h, W: w, C: c, Pix: pix}
}

func torchReadF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Zero(t, len(b)%4, "%s: %d bytes", path, len(b))
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func torchMaxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func torchFracPositive(v []float32) float64 {
	n := 0
	for _, x := range v {
		if x > 0 {
			n++
		}
	}
	return float64(n) / float64(len(v))
}
