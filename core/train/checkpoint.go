package train

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/mcmc"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// A checkpoint file is: the magic "EMC2CKPT", a uint32 format version, a uint32 header length, the
// JSON header, the tensors' little-endian bytes in header order, and a CRC-32 (IEEE) of everything
// before it. Save writes a temporary file and renames it, so a crash never leaves half a checkpoint
// under the real name.
const (
	ckptMagic   = "EMC2CKPT"
	ckptVersion = 1
	maxHeader   = 64 << 20 // the header holds the run's metric history too
	// paramsTensor is the tensor holding the encoder's flat parameter arena (model.Arch.Layout).
	paramsTensor = "params"
)

// Checkpoint is a run's complete state between steps.
type Checkpoint struct {
	Config  Config       `json:"config"`
	Step    int          `json:"step"`
	Images  int          `json:"train_images"` // size of the training set the state is indexed by
	Tensors []TensorInfo `json:"tensors"`
	// Meta is the owner's record of the run (core/run keeps its metric history here), kept as is.
	Meta json.RawMessage      `json:"meta,omitempty"`
	F32  map[string][]float32 `json:"-"`
	U32  map[string][]uint32  `json:"-"`
}

// TensorInfo names one stored tensor.
type TensorInfo struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // "f32" or "u32"
	Len  int    `json:"len"`
}

// Snapshot reads the trainer's state back from the device.
func (t *Trainer) Snapshot() (*Checkpoint, error) {
	c := &Checkpoint{Config: t.Cfg, Step: t.Step, Images: t.Data.N, F32: map[string][]float32{}, U32: map[string][]uint32{}}
	bufs := t.buffers()
	for _, name := range slices.Sorted(maps.Keys(bufs)) {
		b := bufs[name]
		if isU32(name) {
			v := make([]uint32, b.Len())
			if err := t.be.ReadU32(b, v); err != nil {
				return nil, fmt.Errorf("checkpoint %s: %w", name, err)
			}
			c.U32[name] = v
			c.Tensors = append(c.Tensors, TensorInfo{name, "u32", len(v)})
			continue
		}
		v := make([]float32, b.Len())
		if err := t.be.Read(b, v); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", name, err)
		}
		c.F32[name] = v
		c.Tensors = append(c.Tensors, TensorInfo{name, "f32", len(v)})
	}
	return c, nil
}

// Restore loads a checkpoint's state into a trainer built with the same config and data.
func (t *Trainer) Restore(c *Checkpoint) error {
	if c.Images != t.Data.N {
		return fmt.Errorf("checkpoint was trained on %d images, the data has %d", c.Images, t.Data.N)
	}
	if c.Step > t.TotalSteps() {
		return fmt.Errorf("checkpoint is at step %d, past the run's %d steps", c.Step, t.TotalSteps())
	}
	bufs := t.buffers()
	for name, b := range bufs {
		if isU32(name) {
			v, ok := c.U32[name]
			if !ok || len(v) != b.Len() {
				return fmt.Errorf("checkpoint: tensor %s missing or of the wrong size", name)
			}
			for i, x := range v {
				if x != mcmc.NoState && int(x) >= t.N {
					return fmt.Errorf("checkpoint: tensor %s[%d] = %d is not one of the %d training images", name, i, x, t.N)
				}
			}
			t.be.WriteU32(b, v)
			continue
		}
		v, ok := c.F32[name]
		if !ok || len(v) != b.Len() {
			return fmt.Errorf("checkpoint: tensor %s missing or of the wrong size", name)
		}
		t.be.Write(b, v)
	}
	t.Step = c.Step
	return nil
}

func (t *Trainer) buffers() map[string]backend.Buf {
	m := map[string]backend.Buf{paramsTensor: t.Enc.Params, "optim.m": t.m, "optim.v": t.v}
	for k, v := range t.method.state() {
		m[k] = v
	}
	return m
}

func isU32(name string) bool { return name == "emc2.chain_idx" }

// Marshal encodes the checkpoint in the file format ParseCheckpoint reads. Save writes these bytes
// to disk; the browser keeps them in its own storage.
func (c *Checkpoint) Marshal() ([]byte, error) {
	hdr, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("checkpoint header: %w", err)
	}
	size := len(ckptMagic) + 8 + len(hdr) + 4
	for _, ti := range c.Tensors {
		// A tensor whose data disagrees with its header would give a file ParseCheckpoint rejects.
		var n int
		switch ti.Kind {
		case "u32":
			n = len(c.U32[ti.Name])
		case "f32":
			n = len(c.F32[ti.Name])
		default:
			return nil, fmt.Errorf("checkpoint tensor %s: unknown kind %q", ti.Name, ti.Kind)
		}
		if n != ti.Len {
			return nil, fmt.Errorf("checkpoint tensor %s: header says %d values, holds %d", ti.Name, ti.Len, n)
		}
		size += 4 * n
	}
	// Appended by hand rather than with binary.Write, whose reflection adds 60 KB to the browser
	// engine: the same little-endian bytes.
	le := binary.LittleEndian
	buf := make([]byte, 0, size)
	buf = append(buf, ckptMagic...)
	buf = le.AppendUint32(buf, uint32(ckptVersion))
	buf = le.AppendUint32(buf, uint32(len(hdr)))
	buf = append(buf, hdr...)
	for _, ti := range c.Tensors {
		if ti.Kind == "u32" {
			for _, x := range c.U32[ti.Name] {
				buf = le.AppendUint32(buf, x)
			}
		} else {
			for _, x := range c.F32[ti.Name] {
				buf = le.AppendUint32(buf, math.Float32bits(x))
			}
		}
	}
	return le.AppendUint32(buf, crc32.ChecksumIEEE(buf)), nil
}

// Save writes the checkpoint atomically to path.
func (c *Checkpoint) Save(path string) error {
	b, err := c.Marshal()
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint reads and verifies a checkpoint file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	c, err := ParseCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return c, nil
}

// ParseCheckpoint decodes a checkpoint from its bytes.
func ParseCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) < len(ckptMagic)+12 || string(b[:len(ckptMagic)]) != ckptMagic {
		return nil, errors.New("not an emc2 checkpoint (bad magic)")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("checksum mismatch: the file is truncated or corrupt")
	}
	// r is what is left to read (at least the 8 bytes of the version and header length, by the
	// length check above).
	le := binary.LittleEndian
	r := body[len(ckptMagic):]
	ver, hl := le.Uint32(r), le.Uint32(r[4:])
	r = r[8:]
	if ver != ckptVersion {
		return nil, fmt.Errorf("format version %d, this build reads %d", ver, ckptVersion)
	}
	if hl > maxHeader || int(hl) > len(r) {
		return nil, fmt.Errorf("header length %d is out of range", hl)
	}
	hdr := r[:hl]
	r = r[hl:]
	c := &Checkpoint{}
	if err := json.Unmarshal(hdr, c); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	// A checkpoint's config is checked exactly as a command line's, before anything is sized from it.
	if err := c.Config.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.checkCounts(); err != nil {
		return nil, err
	}
	c.F32, c.U32 = map[string][]float32{}, map[string][]uint32{}
	seen := map[string]bool{}
	for _, ti := range c.Tensors {
		if seen[ti.Name] {
			return nil, fmt.Errorf("tensor %s is stored twice", ti.Name)
		}
		seen[ti.Name] = true
		if ti.Len < 0 || ti.Len > len(r)/4 {
			return nil, fmt.Errorf("tensor %s: length %d exceeds the file", ti.Name, ti.Len)
		}
		switch ti.Kind {
		case "u32":
			v := make([]uint32, ti.Len)
			for i := range v {
				v[i] = le.Uint32(r[4*i:])
			}
			c.U32[ti.Name] = v
		case "f32":
			v := make([]float32, ti.Len)
			for i := range v {
				v[i] = math.Float32frombits(le.Uint32(r[4*i:]))
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) {
					return nil, fmt.Errorf("tensor %s holds NaN", ti.Name)
				}
			}
			c.F32[ti.Name] = v
		default:
			return nil, fmt.Errorf("tensor %s: unknown kind %q", ti.Name, ti.Kind)
		}
		r = r[4*ti.Len:]
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("%d unexpected bytes after the tensors", len(r))
	}
	for name, v := range c.U32 {
		for i, x := range v {
			// Chain states index the training set; anything else would be read out of bounds.
			if x != mcmc.NoState && int64(x) >= int64(c.Images) {
				return nil, fmt.Errorf("tensor %s[%d] = %d is not one of the %d training images", name, i, x, c.Images)
			}
		}
	}
	return c, nil
}

// checkCounts checks the header's step and image count against each other and the config, so that
// a checkpoint that parses can be restored onto its data without surprises.
func (c *Checkpoint) checkCounts() error {
	n := c.Images
	if c.Config.FiniteViews {
		n /= 2
	}
	switch {
	case c.Images < 0 || c.Images > 1<<31:
		return fmt.Errorf("%d training images: out of range", c.Images)
	case n < c.Config.Batch:
		return fmt.Errorf("%d training images are fewer than the batch of %d", n, c.Config.Batch)
	case c.Step < 0 || int64(c.Step) > int64(n/c.Config.Batch)*int64(c.Config.Epochs):
		return fmt.Errorf("step %d is outside the run's %d steps", c.Step, n/c.Config.Batch*c.Config.Epochs)
	}
	return nil
}
