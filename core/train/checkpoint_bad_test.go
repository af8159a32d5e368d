package train

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ckptBytes frames a header and tensor bytes as a checkpoint file with a valid checksum, so that
// what is tested is the parsing behind the checksum.
func ckptBytes(version uint32, hdr []byte, hdrLen uint32, payload []byte) []byte {
	b := []byte(ckptMagic)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint32(b, hdrLen)
	b = append(b, hdr...)
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// TestParseCheckpointBadBytes: checkpoints with a valid checksum but a lying header fail with an
// error that says what is wrong, before anything is sized from the lie.
func TestParseCheckpointBadBytes(t *testing.T) {
	header := func(mod func(c *Checkpoint)) []byte {
		c := seedCheckpoint("emc2-fresh", 64, 3)
		mod(c)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	f32 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	good := f32(1, -2, 0.5, 0, 1)
	good = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(good, 0), 63)
	frame := func(hdr, payload []byte) []byte { return ckptBytes(ckptVersion, hdr, uint32(len(hdr)), payload) }
	ok := header(func(*Checkpoint) {})
	_, err := ParseCheckpoint(frame(ok, good))
	require.NoError(t, err, "the base case parses")

	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"absurd tensor length", frame(header(func(c *Checkpoint) { c.Tensors[0].Len = 1 << 40 }), good),
			"tensor params: length 1099511627776 exceeds the file"},
		{"negative tensor length", frame(header(func(c *Checkpoint) { c.Tensors[0].Len = -1 }), good),
			"tensor params: length -1 exceeds the file"},
		{"duplicate tensor", frame(header(func(c *Checkpoint) { c.Tensors[1].Name = paramsTensor }), good),
			"tensor params is stored twice"},
		{"unknown kind", frame(header(func(c *Checkpoint) { c.Tensors[1].Kind = "f64" }), good),
			`tensor optim.m: unknown kind "f64"`},
		{"NaN parameter", frame(ok, append(f32(1, float32(math.NaN()), 0.5), good[12:]...)), "tensor params holds NaN"},
		{"chain state past the images", frame(ok, append(good[:24:24], 0, 1, 0, 0)), "tensor emc2.chain_idx[1] = 256 is not one of the 64 training images"},
		{"bytes after the tensors", frame(ok, append(good, 9, 9, 9, 9)), "4 unexpected bytes after the tensors"},
		{"header length past the file", ckptBytes(ckptVersion, ok, 1<<30, good), "header length 1073741824 is out of range"},
		{"other format version", ckptBytes(7, ok, uint32(len(ok)), good), "format version 7, this build reads 1"},
		{"header not JSON", frame([]byte("{not json"), good), "header: invalid character"},
		{"absurd config", frame(header(func(c *Checkpoint) { c.Config.Channels = []int{1 << 30} }), good), "config:"},
		{"absurd image count", frame(header(func(c *Checkpoint) { c.Images = 1 << 40 }), good), "1099511627776 training images: out of range"},
		{"step past the run", frame(header(func(c *Checkpoint) { c.Step = 1 << 40 }), good), "step 1099511627776 is outside the run's 8 steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCheckpoint(tc.b)
			require.Error(t, err)
			t.Log(err)
			assert.True(t, strings.Contains(err.Error(), tc.want), "%q does not contain %q", err.Error(), tc.want)
		})
	}
}

// TestMarshalLayout pins the file layout Marshal writes (it appends the bytes by hand): magic,
// version, header length, the JSON header, each tensor's values little-endian in header order
// (NaN and infinity bits included), the CRC-32 of all that; and ParseCheckpoint reads it back.
func TestMarshalLayout(t *testing.T) {
	c := seedCheckpoint("emc2-fresh", 64, 3)
	c.F32["optim.m"][0] = float32(math.Copysign(0, -1))
	hdr, err := json.Marshal(c)
	require.NoError(t, err)
	var payload []byte
	for _, v := range []float32{1, -2, 0.5, float32(math.Copysign(0, -1)), float32(math.Inf(1))} {
		payload = binary.LittleEndian.AppendUint32(payload, math.Float32bits(v))
	}
	payload = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(payload, 0), 63)
	b, err := c.Marshal()
	require.NoError(t, err)
	require.Equal(t, ckptBytes(ckptVersion, hdr, uint32(len(hdr)), payload), b)
	back, err := ParseCheckpoint(b)
	require.NoError(t, err)
	require.Equal(t, c.F32, back.F32)
	require.Equal(t, c.U32, back.U32)
	require.Equal(t, math.Float32bits(c.F32["optim.m"][0]), math.Float32bits(back.F32["optim.m"][0]))
}
