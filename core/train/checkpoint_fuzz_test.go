package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"reflect"
	"testing"

	"github.com/emc2ml/emc2/core/model"
	"github.com/emc2ml/emc2/core/rng"
)

// seedCheckpoint is a small valid checkpoint, built without training.
func seedCheckpoint(method string, images, step int) *Checkpoint {
	cfg := smallConfig(method)
	return &Checkpoint{Config: cfg, Step: step, Images: images,
		Tensors: []TensorInfo{{paramsTensor, "f32", 3}, {"optim.m", "f32", 2}, {"emc2.chain_idx", "u32", 2}},
		F32:     map[string][]float32{paramsTensor: {1, -2, 0.5}, "optim.m": {0, float32(math.Inf(1))}},
		U32:     map[string][]uint32{"emc2.chain_idx": {0, uint32(images - 1)}},
		Meta:    json.RawMessage(`{"history":[1,2,3]}`)}
}

// FuzzParseCheckpoint feeds ParseCheckpoint arbitrary bytes. With fixCRC the input is taken as a
// checkpoint without its checksum and the right one is appended, so that mutations reach the
// header and tensor parsing behind it (absurd sizes, duplicate tensors, bad configs). Whatever
// parses must marshal and parse back to the same checkpoint.
func FuzzParseCheckpoint(f *testing.F) {
	for _, c := range []*Checkpoint{seedCheckpoint("emc2-fresh", 64, 3), seedCheckpoint("simclr", 32, 0)} {
		b, err := c.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b[:len(b)-4], true)
	}
	f.Add([]byte(ckptMagic), false)
	f.Add([]byte(ckptMagic+"\x01\x00\x00\x00\xff\xff\xff\xff"), true)
	f.Fuzz(func(t *testing.T, b []byte, fixCRC bool) {
		if fixCRC {
			b = binary.LittleEndian.AppendUint32(bytes.Clone(b), crc32.ChecksumIEEE(b))
		}
		c, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		for _, ti := range c.Tensors {
			n := len(c.F32[ti.Name])
			if ti.Kind == "u32" {
				n = len(c.U32[ti.Name])
			}
			if n != ti.Len {
				t.Fatalf("tensor %s: header says %d values, parsed %d", ti.Name, ti.Len, n)
			}
		}
		again, err := c.Marshal()
		if err != nil {
			t.Fatalf("a parsed checkpoint does not marshal: %v", err)
		}
		back, err := ParseCheckpoint(again)
		if err != nil {
			t.Fatalf("a marshalled checkpoint does not parse: %v", err)
		}
		// Meta is kept as raw JSON, which marshalling compacts and HTML-escapes ("<" as \u003c): the
		// same value, other bytes.
		var m1, m2 any
		e1, e2 := json.Unmarshal(c.Meta, &m1), json.Unmarshal(back.Meta, &m2)
		c.Meta, back.Meta = nil, nil
		if (e1 == nil) != (e2 == nil) || !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip changed the checkpoint")
		}
	})
}

// FuzzSafetensorsRoundTrip writes the encoder of an arbitrary small arch, with arbitrary float bits
// (NaN and infinities included) in its parameters, as safetensors and reads it back with an
// independent reader: every tensor must come back bit for bit, in its documented shape.
func FuzzSafetensorsRoundTrip(f *testing.F) {
	f.Add(uint8(12), uint8(10), true, uint8(4), uint8(5), uint8(7), uint8(3), uint64(7), []byte{0, 0, 0xc0, 0x7f})
	f.Add(uint8(2), uint8(2), false, uint8(1), uint8(0), uint8(1), uint8(1), uint64(0), []byte(nil))
	f.Add(uint8(28), uint8(28), false, uint8(8), uint8(16), uint8(32), uint8(16), uint64(1), []byte{0, 0, 0x80, 0xff, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, h, w uint8, rgb bool, c1, c2, hidden, proj uint8, seed uint64, bits []byte) {
		arch := model.Arch{InH: int(h % 33), InW: int(w % 33), InC: 1, Channels: []int{int(c1 % 9)},
			Hidden: int(hidden % 17), Proj: int(proj % 9)}
		if rgb {
			arch.InC = 3
		}
		if c2%9 != 0 {
			arch.Channels = append(arch.Channels, int(c2%9))
		}
		if arch.Validate() != nil {
			return
		}
		params := arch.Init(rng.NewKey(seed))
		for i := 0; i+4 <= len(bits) && i/4 < len(params); i += 4 {
			params[i/4] = math.Float32frombits(binary.LittleEndian.Uint32(bits[i:]))
		}
		cfg := smallConfig("emc2-paper")
		cfg.Channels, cfg.Hidden, cfg.Proj = arch.Channels, arch.Hidden, arch.Proj
		ck := &Checkpoint{Config: cfg, Step: int(seed % 1000), Images: 100,
			Tensors: []TensorInfo{{paramsTensor, "f32", len(params)}}, F32: map[string][]float32{paramsTensor: params}}
		var buf bytes.Buffer
		if err := ck.WriteSafetensors(&buf, arch); err != nil {
			t.Fatal(err)
		}
		_, infos, vals := readSafetensors(t, buf.Bytes())
		segs, _ := arch.Layout()
		shapes := segmentShapes(arch)
		if len(infos) != len(segs) {
			t.Fatalf("%d tensors for %d segments", len(infos), len(segs))
		}
		for i, s := range segs {
			if !reflect.DeepEqual(infos[s.Name].Shape, shapes[i]) {
				t.Fatalf("%s: shape %v, want %v", s.Name, infos[s.Name].Shape, shapes[i])
			}
			got, want := vals[s.Name], params[s.Off:s.Off+s.Len]
			for j := range want {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("%s[%d]: %x, want %x", s.Name, j, math.Float32bits(got[j]), math.Float32bits(want[j]))
				}
			}
		}
	})
}
