package teach

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/rng"
)

// Encoder is a trained encoder read from a safetensors file written by emc2 (its weights export,
// F32, or the F16 copy the teaching page ships, see ToF16), with the augmentations it was trained
// with.
type Encoder struct {
	Arch   model.Arch
	Params []float32 // the parameter arena, in model.Arch.Layout order
	Aug    augment.Config
	Beta   float64 // the β it was trained at
	Meta   map[string]string
}

type tensorEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// splitSafetensors returns the header's metadata, its tensor entries and the data section.
func splitSafetensors(b []byte) (map[string]string, map[string]tensorEntry, []byte, error) {
	if len(b) < 8 {
		return nil, nil, nil, fmt.Errorf("safetensors: %d bytes is too short", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, nil, nil, fmt.Errorf("safetensors: header of %d bytes in a file of %d", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, nil, fmt.Errorf("safetensors: header: %w", err)
	}
	meta := map[string]string{}
	tensors := map[string]tensorEntry{}
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, nil, fmt.Errorf("safetensors: metadata: %w", err)
			}
			continue
		}
		var e tensorEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, nil, fmt.Errorf("safetensors: tensor %s: %w", k, err)
		}
		tensors[k] = e
	}
	return meta, tensors, b[8+n:], nil
}

// ReadEncoder reads an encoder from safetensors bytes: the arch and training config from the
// metadata emc2 writes, and one F32 or F16 tensor per layout segment.
func ReadEncoder(b []byte) (*Encoder, error) {
	meta, tensors, body, err := splitSafetensors(b)
	if err != nil {
		return nil, err
	}
	e := &Encoder{Meta: meta}
	if err := json.Unmarshal([]byte(meta["arch"]), &e.Arch); err != nil {
		return nil, fmt.Errorf("encoder: metadata arch %q: %w", meta["arch"], err)
	}
	if err := e.Arch.Validate(); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	var cfg struct {
		Aug  augment.Config `json:"augment"`
		Beta float64        `json:"beta"`
	}
	if err := json.Unmarshal([]byte(meta["config"]), &cfg); err != nil {
		return nil, fmt.Errorf("encoder: metadata config: %w", err)
	}
	e.Aug, e.Beta = cfg.Aug, cfg.Beta
	segs, total := e.Arch.Layout()
	e.Params = make([]float32, total)
	for _, s := range segs {
		t, ok := tensors[s.Name]
		if !ok {
			return nil, fmt.Errorf("encoder: tensor %s is missing", s.Name)
		}
		size := map[string]int{"F32": 4, "F16": 2}[t.DType]
		if size == 0 {
			return nil, fmt.Errorf("encoder: tensor %s is %s: want F32 or F16", s.Name, t.DType)
		}
		lo, hi := t.Offsets[0], t.Offsets[1]
		if lo < 0 || hi > len(body) || hi-lo != size*s.Len {
			return nil, fmt.Errorf("encoder: tensor %s: offsets %v do not hold %d %s values in %d bytes", s.Name, t.Offsets, s.Len, t.DType, len(body))
		}
		dst := e.Params[s.Off : s.Off+s.Len]
		for i := range dst {
			if size == 4 {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[lo+4*i:]))
			} else {
				dst[i] = f16to32(binary.LittleEndian.Uint16(body[lo+2*i:]))
			}
		}
	}
	return e, nil
}

// ToF16 rewrites an F32 safetensors file with every tensor in F16 (rounded to nearest, ties to
// even): half the size, for the teaching page's asset. The metadata is kept, with a note added.
func ToF16(b []byte) ([]byte, error) {
	meta, tensors, body, err := splitSafetensors(b)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		names = append(names, k)
	}
	// keep the data in the input's order
	slices.SortFunc(names, func(a, b string) int { return tensors[a].Offsets[0] - tensors[b].Offsets[0] })
	meta["dtype_note"] = "converted from F32 to F16 (round to nearest even) by teach.ToF16"
	header := map[string]any{"__metadata__": meta}
	var data []byte
	for _, name := range names {
		t := tensors[name]
		if t.DType != "F32" {
			return nil, fmt.Errorf("F16: tensor %s is %s, want F32", name, t.DType)
		}
		lo, hi := t.Offsets[0], t.Offsets[1]
		if lo < 0 || hi > len(body) || lo > hi || (hi-lo)%4 != 0 {
			return nil, fmt.Errorf("F16: tensor %s: bad offsets %v", name, t.Offsets)
		}
		start := len(data)
		for i := lo; i < hi; i += 4 {
			data = binary.LittleEndian.AppendUint16(data, f32to16(math.Float32frombits(binary.LittleEndian.Uint32(body[i:]))))
		}
		header[name] = tensorEntry{DType: "F16", Shape: t.Shape, Offsets: [2]int{start, len(data)}}
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("F16: header: %w", err)
	}
	if r := len(hdr) % 8; r != 0 {
		hdr = append(hdr, bytes.Repeat([]byte{' '}, 8-r)...)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(out, hdr...), data...), nil
}

// f32to16 converts to IEEE binary16, rounding to nearest with ties to even (subnormals, overflow
// to infinity and NaN included).
func f32to16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15: // too large
		return sign | 0x7c00
	case exp-127 >= -14: // normal
		h := uint32(exp-127+15)<<10 | man>>13
		rest := man & 0x1fff
		if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
			h++ // may carry into the exponent, up to infinity: still right
		}
		return sign | uint16(h)
	case exp-127 >= -25: // subnormal in F16
		m := man | 0x800000 // the implicit bit
		shift := uint(-(exp - 127) - 14 + 13)
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || (rest == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	return sign // underflow to ±0
}

// f16to32 converts IEEE binary16 to float32 exactly.
func f16to32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0:
		if man == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(man) / (1 << 24) // man·2⁻²⁴
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | man<<13)
}

// embedChunk is how many images one forward pass takes.
const embedChunk = 64

// Embed returns the L2-normalised embeddings (rows × Proj) of the images in x (rows × H·W·C
// float32 in [0, 1], NHWC), run on the CPU backend.
func (e *Encoder) Embed(x []float32, rows int) ([]float32, error) {
	in := e.Arch.InH * e.Arch.InW * e.Arch.InC
	if len(x) != rows*in {
		return nil, fmt.Errorf("embed: %d values for %d images of %d", len(x), rows, in)
	}
	be := cpu.New()
	defer be.Close()
	chunk := min(embedChunk, max(rows, 1))
	enc := model.NewEncoder(be, e.Arch, chunk, e.Params)
	buf := be.Alloc(chunk * in)
	out := make([]float32, rows*e.Arch.Proj)
	for lo := 0; lo < rows; lo += chunk {
		n := min(chunk, rows-lo)
		part := make([]float32, chunk*in)
		copy(part, x[lo*in:(lo+n)*in])
		be.Write(buf, part)
		enc.Forward(buf, n)
		got := make([]float32, chunk*e.Arch.Proj)
		if err := be.Read(enc.Out, got); err != nil {
			return nil, fmt.Errorf("embed: %w", err)
		}
		copy(out[lo*e.Arch.Proj:], got[:n*e.Arch.Proj])
	}
	return out, nil
}

// View makes one view of a uint8 image (h×w×c) as float32 in [0, 1]: the identity view for a zero
// Config, else the view that (key, step, row) draws from cfg, noise included — augment's own code.
func View(src []uint8, h, w, c int, cfg augment.Config, key rng.Key, step, row uint32) []float32 {
	p := augment.Draw(cfg, key, step, row, h, w)
	dst := make([]float32, h*w*c)
	augment.Apply(dst, src, h, w, c, h, w, p, cfg.NoiseStd, key, step, row)
	return dst
}
