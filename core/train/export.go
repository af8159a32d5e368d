package train

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/emc2ml/emc2/core/model"
)

// Exports for use outside this program: the encoder's weights as safetensors (readable by the
// safetensors libraries of Python, Rust and JavaScript) and embeddings as CSV.

// safetensorsLayout is the "layout" metadata entry: the memory order of each exported tensor, which
// is this encoder's own and not PyTorch's (conv weights are HWIO, linear weights are in×out).
const safetensorsLayout = "convN.w: [3,3,in_c,out_c] (ky, kx, input channel, output channel; y = im2col(x)·W); " +
	"hidden.w, proj.w: [in,out] (y = x·W + b); *.b: [out]; " +
	"hidden.w's input index is the last pooled activation flattened in (h, w, c) order; " +
	"activations are NHWC; float32 little-endian"

// WriteSafetensors writes the checkpoint's encoder weights to w in the safetensors format: one F32
// tensor per layout segment (named as the segments: conv1.w, conv1.b, …, hidden.w, hidden.b,
// proj.w, proj.b, in that order in the data section) and a "__metadata__" object with the method,
// variant, step, beta, arch, config and the tensors' memory order ("layout"). Optimizer and
// sampler state are left out.
//
// The image shape is not stored in a checkpoint (it comes from the data), so the caller passes the
// encoder's arch; its widths must match the checkpoint's config and its layout the stored
// parameters, which catches most mismatches but cannot tell apart image shapes with the same
// flattened conv output.
func (c *Checkpoint) WriteSafetensors(w io.Writer, arch model.Arch) error {
	if err := arch.Validate(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	cfg := c.Config
	if !slices.Equal(arch.Channels, cfg.Channels) || arch.Hidden != cfg.Hidden || arch.Proj != cfg.Proj {
		return fmt.Errorf("safetensors: arch (channels %v, hidden %d, proj %d) differs from the checkpoint's (channels %v, hidden %d, proj %d)",
			arch.Channels, arch.Hidden, arch.Proj, cfg.Channels, cfg.Hidden, cfg.Proj)
	}
	params, ok := c.F32[paramsTensor]
	if !ok {
		return fmt.Errorf("safetensors: the checkpoint holds no %q tensor", paramsTensor)
	}
	segs, total := arch.Layout()
	if len(params) != total {
		return fmt.Errorf("safetensors: the checkpoint holds %d parameters, the arch's layout %d: is the image shape right?", len(params), total)
	}
	shapes := segmentShapes(arch)

	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	archJSON, err := json.Marshal(arch)
	if err != nil {
		return fmt.Errorf("safetensors: arch: %w", err)
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("safetensors: config: %w", err)
	}
	header := map[string]any{"__metadata__": map[string]string{
		"format":       "emc2",
		"method":       cfg.Method.String(),
		"emc2_variant": cfg.Variant.String(),
		"step":         strconv.Itoa(c.Step),
		"beta":         strconv.FormatFloat(cfg.Beta, 'g', -1, 64),
		"arch":         string(archJSON),
		"config":       string(cfgJSON),
		"layout":       safetensorsLayout,
	}}
	off := 0
	for i, s := range segs {
		if n := prod(shapes[i]); n != s.Len {
			return fmt.Errorf("safetensors: %s: shape %v holds %d values, the segment %d", s.Name, shapes[i], n, s.Len) // a bug in segmentShapes
		}
		header[s.Name] = entry{DType: "F32", Shape: shapes[i], Offsets: [2]int{off, off + 4*s.Len}}
		off += 4 * s.Len
	}
	hdr, err := json.Marshal(header) // map keys come out sorted, so the header is deterministic
	if err != nil {
		return fmt.Errorf("safetensors: header: %w", err)
	}
	// Padding the header to 8 bytes aligns the data section for readers that map it in place.
	if r := len(hdr) % 8; r != 0 {
		hdr = append(hdr, bytes.Repeat([]byte{' '}, 8-r)...)
	}
	out := make([]byte, 8, 8+len(hdr)+off)
	binary.LittleEndian.PutUint64(out, uint64(len(hdr)))
	out = append(out, hdr...)
	for _, s := range segs {
		for _, v := range params[s.Off : s.Off+s.Len] {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// segmentShapes returns the shape of each of arch.Layout's segments in its memory order.
func segmentShapes(a model.Arch) [][]int {
	var out [][]int
	h, w, c := a.InH, a.InW, a.InC
	for _, co := range a.Channels {
		out = append(out, []int{3, 3, c, co}, []int{co})
		h, w, c = h/2, w/2, co
	}
	return append(out, []int{h * w * c, a.Hidden}, []int{a.Hidden}, []int{a.Hidden, a.Proj}, []int{a.Proj})
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// EmbeddingRow is one image's embedding, for WriteEmbeddingsCSV.
type EmbeddingRow struct {
	Split string // e.g. "train" or "test"
	Index int    // image index in its split
	Label int32
	Class string // the label's class name
	Emb   []float32
}

// WriteEmbeddingsCSV writes rows as CSV with the header split,index,label,class,e0,…,e{dim-1}. Values
// are written in the shortest form that reads back as the same float32.
func WriteEmbeddingsCSV(w io.Writer, rows []EmbeddingRow, dim int) error {
	if dim < 1 {
		return fmt.Errorf("embeddings csv: dimension %d must be positive", dim)
	}
	cw := csv.NewWriter(w)
	rec := make([]string, 4+dim)
	copy(rec, []string{"split", "index", "label", "class"})
	for j := range dim {
		rec[4+j] = "e" + strconv.Itoa(j)
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("embeddings csv: header: %w", err)
	}
	for i, r := range rows {
		if len(r.Emb) != dim {
			return fmt.Errorf("embeddings csv: row %d (%s %d) has %d values, want %d", i, r.Split, r.Index, len(r.Emb), dim)
		}
		rec[0], rec[1], rec[2], rec[3] = r.Split, strconv.Itoa(r.Index), strconv.Itoa(int(r.Label)), r.Class
		for j, v := range r.Emb {
			rec[4+j] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("embeddings csv: row %d: %w", i, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("embeddings csv: %w", err)
	}
	return nil
}
