package train

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMarshalMatchesSave: Marshal gives exactly the bytes Save writes, and they parse back.
func TestMarshalMatchesSave(t *testing.T) {
	split := smallSplit(t)
	tr, err := NewTrainer(cpu.New(), smallConfig("emc2-fresh"), split.Train)
	require.NoError(t, err)
	tr.TrainStep()
	ck, err := tr.Snapshot()
	require.NoError(t, err)

	b, err := ck.Marshal()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "run.ckpt")
	require.NoError(t, ck.Save(path))
	saved, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, saved, b)

	back, err := ParseCheckpoint(b)
	require.NoError(t, err)
	assert.Equal(t, ck.Config, back.Config)
	assert.Equal(t, ck.Step, back.Step)
	assert.Equal(t, ck.Images, back.Images)
	assert.Equal(t, ck.Tensors, back.Tensors)
	assert.Equal(t, ck.F32, back.F32)
	assert.Equal(t, ck.U32, back.U32)

	// A checkpoint whose data disagrees with its header is refused rather than written unreadable.
	bad := *ck
	bad.F32 = maps.Clone(ck.F32)
	bad.F32[paramsTensor] = bad.F32[paramsTensor][:3]
	_, err = bad.Marshal()
	assert.ErrorContains(t, err, paramsTensor)
	assert.Error(t, bad.Save(filepath.Join(t.TempDir(), "bad.ckpt")))
}

// stTensor is one entry of a safetensors header, read back independently of the writer.
type stTensor struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets []int  `json:"data_offsets"`
}

// readSafetensors parses a safetensors file into its metadata and tensors, checking the framing.
func readSafetensors(t *testing.T, b []byte) (map[string]string, map[string]stTensor, map[string][]float32) {
	t.Helper()
	require.GreaterOrEqual(t, len(b), 8)
	n := binary.LittleEndian.Uint64(b[:8])
	require.LessOrEqual(t, n, uint64(len(b)-8))
	assert.Zero(t, n%8, "header padded to 8 bytes")
	hdr, data := b[8:8+n], b[8+n:]
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(hdr, &raw))
	var meta map[string]string
	require.NoError(t, json.Unmarshal(raw["__metadata__"], &meta))
	delete(raw, "__metadata__")
	infos, vals := map[string]stTensor{}, map[string][]float32{}
	type span struct{ lo, hi int }
	var spans []span
	for name, r := range raw {
		var ti stTensor
		require.NoError(t, json.Unmarshal(r, &ti), name)
		require.Equal(t, "F32", ti.DType, name)
		require.Len(t, ti.Offsets, 2, name)
		lo, hi := ti.Offsets[0], ti.Offsets[1]
		require.True(t, 0 <= lo && lo <= hi && hi <= len(data), "%s: offsets %v outside %d bytes", name, ti.Offsets, len(data))
		elems := 1
		for _, d := range ti.Shape {
			elems *= d
		}
		require.Equal(t, 4*elems, hi-lo, "%s: shape %v and offsets %v disagree", name, ti.Shape, ti.Offsets)
		v := make([]float32, elems)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[lo+4*i:]))
		}
		infos[name], vals[name] = ti, v
		spans = append(spans, span{lo, hi})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo - b.lo })
	end := 0
	for _, s := range spans {
		require.Equal(t, end, s.lo, "tensors tile the data section without gaps or overlaps")
		end = s.hi
	}
	require.Equal(t, len(data), end, "tensors cover the data section exactly")
	return meta, infos, vals
}

func TestWriteSafetensors(t *testing.T) {
	// Three colour channels, two blocks and an odd pooled width exercise every shape rule.
	arch := model.Arch{InH: 12, InW: 10, InC: 3, Channels: []int{4, 5}, Hidden: 7, Proj: 3}
	cfg := smallConfig("emc2-paper")
	cfg.Channels, cfg.Hidden, cfg.Proj, cfg.Beta = arch.Channels, arch.Hidden, arch.Proj, 12.5
	params := arch.Init(rng.NewKey(7))
	ck := &Checkpoint{Config: cfg, Step: 42, Images: 100,
		Tensors: []TensorInfo{{"optim.m", "f32", len(params)}, {paramsTensor, "f32", len(params)}, {"emc2.chain_idx", "u32", 2}},
		F32:     map[string][]float32{paramsTensor: params, "optim.m": make([]float32, len(params))},
		U32:     map[string][]uint32{"emc2.chain_idx": {1, 2}}}

	var buf bytes.Buffer
	require.NoError(t, ck.WriteSafetensors(&buf, arch))
	meta, infos, vals := readSafetensors(t, buf.Bytes())

	// Shapes written out by hand: 12×10 → 6×5 → 3×2 after pooling, so hidden.w reads 3·2·5 = 30 inputs.
	want := map[string][]int{
		"conv1.w": {3, 3, 3, 4}, "conv1.b": {4}, "conv2.w": {3, 3, 4, 5}, "conv2.b": {5},
		"hidden.w": {30, 7}, "hidden.b": {7}, "proj.w": {7, 3}, "proj.b": {3},
	}
	require.Len(t, infos, len(want), "only the encoder's weights are exported")
	segs, _ := arch.Layout()
	prev := -1
	for _, s := range segs {
		ti, ok := infos[s.Name]
		require.True(t, ok, s.Name)
		assert.Equal(t, want[s.Name], ti.Shape, s.Name)
		assert.Equal(t, params[s.Off:s.Off+s.Len], vals[s.Name], s.Name)
		assert.Greater(t, ti.Offsets[0], prev, "%s: data in layout order", s.Name)
		prev = ti.Offsets[0]
	}

	assert.Equal(t, "emc2", meta["method"])
	assert.Equal(t, "paper", meta["emc2_variant"])
	assert.Equal(t, "42", meta["step"])
	assert.Equal(t, "12.5", meta["beta"])
	assert.NotEmpty(t, meta["layout"])
	var gotArch model.Arch
	require.NoError(t, json.Unmarshal([]byte(meta["arch"]), &gotArch))
	assert.Equal(t, arch, gotArch)
	var gotCfg Config
	require.NoError(t, json.Unmarshal([]byte(meta["config"]), &gotCfg))
	assert.Equal(t, cfg, gotCfg)

	var again bytes.Buffer
	require.NoError(t, ck.WriteSafetensors(&again, arch))
	assert.Equal(t, buf.Bytes(), again.Bytes(), "the output is deterministic")
}

// TestSafetensorsLayoutRunsTheEncoder: a forward pass written from the exported tensors and the
// documented memory order reproduces the encoder's embeddings, so "layout" tells the truth.
func TestSafetensorsLayoutRunsTheEncoder(t *testing.T) {
	arch := model.Arch{InH: 6, InW: 5, InC: 3, Channels: []int{4, 2}, Hidden: 6, Proj: 3}
	cfg := DefaultConfig()
	cfg.Channels, cfg.Hidden, cfg.Proj = arch.Channels, arch.Hidden, arch.Proj
	params := arch.Init(rng.NewKey(3))
	ck := &Checkpoint{Config: cfg, Tensors: []TensorInfo{{paramsTensor, "f32", len(params)}},
		F32: map[string][]float32{paramsTensor: params}}
	var buf bytes.Buffer
	require.NoError(t, ck.WriteSafetensors(&buf, arch))
	_, _, p := readSafetensors(t, buf.Bytes())

	be := cpu.New()
	enc := model.NewEncoder(be, arch, 1, params)
	x := make([]float32, arch.InH*arch.InW*arch.InC)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	xb := be.Alloc(len(x))
	be.Write(xb, x)
	enc.Forward(xb, 1)
	got := make([]float32, arch.Proj)
	require.NoError(t, be.Read(enc.Out, got))

	// Reference: NHWC activations, HWIO conv weights, same padding, ReLU, floor 2×2 max-pool.
	act, h, w, c := toF64(x), arch.InH, arch.InW, arch.InC
	for i, co := range arch.Channels {
		wt, bias := p["conv"+strconv.Itoa(i+1)+".w"], p["conv"+strconv.Itoa(i+1)+".b"]
		conv := make([]float64, h*w*co)
		for y := range h {
			for xx := range w {
				for o := range co {
					s := float64(bias[o])
					for ky := range 3 {
						for kx := range 3 {
							iy, ix := y+ky-1, xx+kx-1
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							for ci := range c {
								s += act[(iy*w+ix)*c+ci] * float64(wt[((ky*3+kx)*c+ci)*co+o])
							}
						}
					}
					conv[(y*w+xx)*co+o] = max(s, 0)
				}
			}
		}
		oh, ow := h/2, w/2
		pool := make([]float64, oh*ow*co)
		for y := range oh {
			for xx := range ow {
				for o := range co {
					m := math.Inf(-1)
					for q := range 4 {
						m = max(m, conv[((2*y+q/2)*w+2*xx+q%2)*co+o])
					}
					pool[(y*ow+xx)*co+o] = m
				}
			}
		}
		act, h, w, c = pool, oh, ow, co
	}
	linear := func(in []float64, wt, bias []float32, relu bool) []float64 {
		out := make([]float64, len(bias))
		for o := range out {
			s := float64(bias[o])
			for k, v := range in {
				s += v * float64(wt[k*len(bias)+o])
			}
			if relu {
				s = max(s, 0)
			}
			out[o] = s
		}
		return out
	}
	z := linear(linear(act, p["hidden.w"], p["hidden.b"], true), p["proj.w"], p["proj.b"], false)
	var norm float64
	for _, v := range z {
		norm += v * v
	}
	for i, v := range z {
		assert.InDelta(t, v/math.Sqrt(norm), got[i], 1e-5, "embedding %d", i)
	}
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func TestWriteSafetensorsRejects(t *testing.T) {
	arch := model.Arch{InH: 8, InW: 8, InC: 1, Channels: []int{4}, Hidden: 5, Proj: 3}
	cfg := DefaultConfig()
	cfg.Channels, cfg.Hidden, cfg.Proj = arch.Channels, arch.Hidden, arch.Proj
	_, total := arch.Layout()
	good := map[string][]float32{paramsTensor: make([]float32, total)}
	other := arch
	other.InH = 16 // a different image shape changes hidden.w, and so the arena size
	wider := arch
	wider.Hidden = 6
	for _, tc := range []struct {
		name string
		arch model.Arch
		f32  map[string][]float32
		want string
	}{
		{"no params", arch, map[string][]float32{}, "no \"params\""},
		{"wrong image shape", other, good, "image shape"},
		{"arch differs from config", wider, good, "differs"},
		{"invalid arch", model.Arch{}, good, "model:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck := &Checkpoint{Config: cfg, F32: tc.f32}
			var buf bytes.Buffer
			err := ck.WriteSafetensors(&buf, tc.arch)
			assert.ErrorContains(t, err, tc.want)
			assert.Zero(t, buf.Len(), "nothing is written on error")
		})
	}
}

func TestWriteEmbeddingsCSV(t *testing.T) {
	rows := []EmbeddingRow{
		{Split: "train", Index: 0, Label: 3, Class: "cat", Emb: []float32{0.1, -2.5e-8, 3}},
		{Split: "test", Index: 17, Label: -1, Class: `say "hi", then
leave`, Emb: []float32{float32(math.Pi), 0, -1e30}},
		{Split: "test", Index: 18, Label: 0, Class: "", Emb: []float32{math.SmallestNonzeroFloat32, math.MaxFloat32, 1.0 / 3}},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteEmbeddingsCSV(&buf, rows, 3))

	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+len(rows))
	assert.Equal(t, []string{"split", "index", "label", "class", "e0", "e1", "e2"}, recs[0])
	for i, r := range rows {
		rec := recs[1+i]
		assert.Equal(t, r.Split, rec[0])
		assert.Equal(t, strconv.Itoa(r.Index), rec[1])
		assert.Equal(t, strconv.Itoa(int(r.Label)), rec[2])
		assert.Equal(t, r.Class, rec[3])
		for j, v := range r.Emb {
			f, err := strconv.ParseFloat(rec[4+j], 32)
			require.NoError(t, err)
			assert.Equal(t, v, float32(f), "row %d value %d reads back exactly", i, j)
		}
	}
	assert.Equal(t, "0.1", recs[1][4], "the shortest float32 form")
}

func TestWriteEmbeddingsCSVRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows []EmbeddingRow
		dim  int
		want string
	}{
		{"zero dimension", nil, 0, "dimension 0"},
		{"short row", []EmbeddingRow{{Split: "test", Index: 4, Emb: []float32{1}}}, 2, "row 0 (test 4) has 1 values, want 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, WriteEmbeddingsCSV(&bytes.Buffer{}, tc.rows, tc.dim), tc.want)
		})
	}
}
