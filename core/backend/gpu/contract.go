package gpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/nn"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/emc2ml/emc2/shaders"
)

// The Go side of the Go↔WGSL contract: the constants the kernels share with Go, and the Go twin of
// each kernel family's `struct Params`. loadFamily checks both against the WGSL when it builds the
// pipelines, and dispatch accepts only the family's parameter struct.

// wg is the workgroup size of the one-dimensional kernels (WG in WGSL): 64 invocations, within
// WebGPU's compatibility-mode limit of 128.
const wg = 64

// consts is the prelude prepended to every kernel: the only place these values are written for WGSL.
var consts = []shaders.Const{
	{Name: "WG", Value: uint32(wg), Go: "gpu.wg"},
	{Name: "PER_WG", Value: uint32(perWorkgroup), Go: "gpu.perWorkgroup"},
	{Name: "PX", Value: uint32(registerRows), Go: "gpu.registerRows"},
	{Name: "NUM_STATS", Value: uint32(objective.NumStats), Go: "objective.NumStats"},
	{Name: "STAT_LOSS", Value: uint32(objective.StatLoss), Go: "objective.StatLoss"},
	{Name: "STAT_PROPOSALS", Value: uint32(objective.StatProposals), Go: "objective.StatProposals"},
	{Name: "STAT_ACCEPTED", Value: uint32(objective.StatAccepted), Go: "objective.StatAccepted"},
	{Name: "STAT_RECORDED", Value: uint32(objective.StatRecorded), Go: "objective.StatRecorded"},
	{Name: "STAT_DROPPED", Value: uint32(objective.StatDropped), Go: "objective.StatDropped"},
	{Name: "STAT_STATE", Value: uint32(objective.StatState), Go: "objective.StatState"},
	{Name: "NUM_COUNTS", Value: uint32(numCounts), Go: "gpu.numCounts"},
	{Name: "UNVISITED", Value: objective.Unvisited, Go: "objective.Unvisited"},
	{Name: "UNVISITED_BITS", Value: math.Float32bits(objective.Unvisited), Go: "math.Float32bits(objective.Unvisited)"},
	{Name: "NO_STATE", Value: uint32(mcmc.NoState), Go: "mcmc.NoState"},
	{Name: "PAPER", Value: uint32(mcmc.Paper), Go: "mcmc.Paper"},
	{Name: "IID", Value: uint32(mcmc.IID), Go: "mcmc.IID"},
	{Name: "STREAM_AUGMENT", Value: rng.StreamAugment, Go: "rng.StreamAugment"},
	{Name: "STREAM_NOISE", Value: rng.StreamNoise, Go: "rng.StreamNoise"},
	{Name: "STREAM_MH", Value: rng.StreamMH, Go: "rng.StreamMH"},
	{Name: "NORM_EPS", Value: float32(nn.NormEps), Go: "nn.NormEps"},
	{Name: "MAX_BLUR_RADIUS", Value: int32(augment.MaxBlurRadius), Go: "augment.MaxBlurRadius"},
	{Name: "BLUR_TAPS", Value: int32(2*augment.MaxBlurRadius + 1), Go: "2·augment.MaxBlurRadius + 1 (naga takes no expression as an array size)"},
}

// familyParams maps each kernel family (shaders/NAME.wgsl) to the Go struct its dispatches write
// into `struct Params`: the same members in the same order, the Go name being the WGSL name in
// CamelCase (trans_a ↔ TransA), uint32/int32/float32 for u32/i32/f32 and [N]T for vecN<T>.
var familyParams = map[string]any{
	"augment":     augmentParams{},
	"conv":        convParams{},
	"elementwise": elemParams{},
	"gemm":        gemmParams{},
	"l2norm":      l2normParams{},
	"mh_sweep":    mhParams{},
	"objective":   objParams{},
	"optim":       optimParams{},
	"pool":        poolParams{},
	"rows":        rowsParams{},
}

// checkParams matches the Go parameter struct t with the WGSL Params members of file and returns
// the byte offset of each Go field in the uniform block.
func checkParams(file string, m *shaders.Module, t reflect.Type) ([]int, error) {
	fail := func(format string, args ...any) ([]int, error) {
		return nil, fmt.Errorf("gpu: %s: struct Params (%d members, %d words) does not match Go's %v: %s",
			file, len(m.Params), m.ParamsBytes/4, t, fmt.Sprintf(format, args...))
	}
	if t == nil || t.Kind() != reflect.Struct {
		return fail("not a struct")
	}
	if m.ParamsBytes > slotBytes {
		return fail("%d bytes exceed one %d-byte uniform slot", m.ParamsBytes, slotBytes)
	}
	if t.NumField() != len(m.Params) {
		return fail("Go has %d fields", t.NumField())
	}
	offsets := make([]int, len(m.Params))
	for i, w := range m.Params {
		g := t.Field(i)
		if strings.ToLower(g.Name) != strings.ReplaceAll(w.Name, "_", "") {
			return fail("member %d is %s in WGSL, %s in Go", i, w.Name, g.Name)
		}
		if want := wgslType(g.Type); want != w.Type {
			return fail("%s is %s in WGSL, %v (%s) in Go", w.Name, w.Type, g.Type, want)
		}
		offsets[i] = w.Offset
	}
	return offsets, nil
}

// wgslType names the WGSL type a Go field type stands for ("" when there is none).
func wgslType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Uint32:
		return "u32"
	case reflect.Int32:
		return "i32"
	case reflect.Float32:
		return "f32"
	case reflect.Array:
		if e := wgslType(t.Elem()); e != "" && t.Elem().Kind() != reflect.Array && t.Len() >= 2 && t.Len() <= 4 {
			return fmt.Sprintf("vec%d<%s>", t.Len(), e)
		}
	}
	return ""
}

// putParams writes the fields of v at their offsets in dst (little-endian, as WGSL reads them).
func putParams(dst []byte, v reflect.Value, offsets []int) {
	for i, off := range offsets {
		putWord(dst[off:], v.Field(i))
	}
}

func putWord(dst []byte, f reflect.Value) {
	switch f.Kind() {
	case reflect.Uint32:
		binary.LittleEndian.PutUint32(dst, uint32(f.Uint()))
	case reflect.Int32:
		binary.LittleEndian.PutUint32(dst, uint32(int32(f.Int())))
	case reflect.Float32:
		binary.LittleEndian.PutUint32(dst, math.Float32bits(float32(f.Float())))
	case reflect.Array:
		for j := range f.Len() {
			putWord(dst[4*j:], f.Index(j))
		}
	}
}
