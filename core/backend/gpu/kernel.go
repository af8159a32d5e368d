package gpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/emc2ml/emc2/shaders"
)

// Conventions every WGSL family follows (so that one generic loader serves them all):
//   - binding 0 of group 0 is `var<uniform> p: Params` — the dispatch's parameters, 256 bytes at most;
//   - bindings 1..n are `var<storage, read_write>` (or `read`) buffers, used by all entry points of the family in
//     the same order (an entry point may ignore some; the caller still passes a buffer for each);
//   - entry points are `@compute @workgroup_size(...) fn name(...)`, at most 128 invocations per
//     workgroup (WebGPU compatibility mode) and grids of at most 65535 per dimension.
var (
	reBinding = regexp.MustCompile(`@group\(0\)\s*@binding\((\d+)\)\s*var<storage,\s*(read_write|read)>`)
	reEntry   = regexp.MustCompile(`@compute\s*@workgroup_size\([^)]*\)\s*fn\s+(\w+)`)
)

type kernel struct {
	family   string
	pipe     *wgpu.ComputePipeline
	bgl      *wgpu.BindGroupLayout
	nStorage int
	readOnly []bool // per storage binding 1..n
}

// loadFamily compiles one WGSL file and makes a pipeline per entry point, with explicit layouts
// (the js backend has no GetBindGroupLayout and no "auto" layout).
func (b *Backend) loadFamily(name string) error {
	src, err := shaders.Source(name)
	if err != nil {
		return err
	}
	n := 0
	ro := map[int]bool{}
	for _, m := range reBinding.FindAllStringSubmatch(src, -1) {
		i, _ := strconv.Atoi(m[1])
		n = max(n, i)
		ro[i] = m[2] == "read"
	}
	readOnly := make([]bool, n)
	mod, err := b.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: name,
		WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: src}})
	if err != nil {
		return fmt.Errorf("gpu: compile shaders/%s.wgsl: %w", name, err)
	}
	entries := []wgpu.BindGroupLayoutEntry{{Binding: 0, Visibility: wgpu.ShaderStageCompute,
		Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeUniform, HasDynamicOffset: true, MinBindingSize: slotBytes}}}
	for i := 1; i <= n; i++ {
		t := wgpu.BufferBindingTypeStorage
		if ro[i] {
			t, readOnly[i-1] = wgpu.BufferBindingTypeReadOnlyStorage, true
		}
		entries = append(entries, wgpu.BindGroupLayoutEntry{Binding: uint32(i), Visibility: wgpu.ShaderStageCompute,
			Buffer: wgpu.BufferBindingLayout{Type: t}})
	}
	bgl, err := b.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: name, Entries: entries})
	if err != nil {
		return fmt.Errorf("gpu: %s: bind group layout: %w", name, err)
	}
	pl, err := b.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: name, BindGroupLayouts: []*wgpu.BindGroupLayout{bgl}})
	if err != nil {
		return fmt.Errorf("gpu: %s: pipeline layout: %w", name, err)
	}
	for _, m := range reEntry.FindAllStringSubmatch(src, -1) {
		entry := m[1]
		pipe, err := b.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{Layout: pl,
			Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: entry}})
		if err != nil {
			return fmt.Errorf("gpu: %s.%s: pipeline: %w", name, entry, err)
		}
		if _, dup := b.kernels[entry]; dup {
			return fmt.Errorf("gpu: entry point %q defined twice (in %s.wgsl and %s.wgsl)", entry, b.kernels[entry].family, name)
		}
		b.kernels[entry] = &kernel{family: name, pipe: pipe, bgl: bgl, nStorage: n, readOnly: readOnly}
	}
	return nil
}

// u32s is the parameter block of a dispatch, as 32-bit words.
type u32s []uint32

// f packs a float32 parameter.
func f(v float32) uint32 { return math.Float32bits(v) }

// bit packs a boolean parameter.
func bit(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// dispatch records entry point `entry` over a grid of workgroups, with its parameters and storage
// buffers (in binding order 1..n).
func (b *Backend) dispatch(entry string, params u32s, bufs []*Buf, x, y, z int) {
	k, ok := b.kernels[entry]
	if !ok {
		b.fail(fmt.Errorf("gpu: no kernel %q", entry))
		return
	}
	if len(bufs) != k.nStorage {
		b.fail(fmt.Errorf("gpu: kernel %s takes %d buffers, got %d", entry, k.nStorage, len(bufs)))
		return
	}
	if x == 0 || y == 0 || z == 0 {
		return
	}
	if x > 65535 || y > 65535 || z > 65535 {
		b.fail(fmt.Errorf("gpu: kernel %s: grid %dx%dx%d exceeds 65535 per dimension", entry, x, y, z))
		return
	}
	if len(params)*4 > slotBytes {
		b.fail(fmt.Errorf("gpu: kernel %s: %d parameter words exceed one slot", entry, len(params)))
		return
	}
	if b.ringUsed == ringSlots {
		b.submit()
	}
	if err := k.checkAliasing(bufs); err != nil {
		b.fail(fmt.Errorf("gpu: kernel %s: %w", entry, err))
		return
	}
	bg, err := b.bindGroup(k, bufs)
	if err != nil {
		b.fail(err)
		return
	}
	b.begin()
	if b.pass == nil {
		b.pass = b.enc.BeginComputePass(nil)
	}
	slot := b.ringUsed
	b.ringUsed++
	dst := b.ringHost[slot*slotBytes : (slot+1)*slotBytes]
	clear(dst)
	for i, w := range params {
		binary.LittleEndian.PutUint32(dst[4*i:], w)
	}
	b.pass.SetPipeline(k.pipe)
	b.pass.SetBindGroup(0, bg, []uint32{uint32(slot * slotBytes)})
	b.pass.DispatchWorkgroups(uint32(x), uint32(y), uint32(z))
}

// bindGroup returns the cached bind group of a family's layout over these buffer ranges.
func (b *Backend) bindGroup(k *kernel, bufs []*Buf) (*wgpu.BindGroup, error) {
	key := k.family
	for _, s := range bufs {
		key += fmt.Sprintf("|%d:%d:%d", s.id, s.off, s.n)
	}
	if bg, ok := b.groups[key]; ok {
		return bg, nil
	}
	entries := []wgpu.BindGroupEntry{{Binding: 0, Buffer: b.ring, Size: slotBytes}}
	for i, s := range bufs {
		if s == nil || s.buf == nil {
			return nil, fmt.Errorf("gpu: kernel family %s: buffer %d is missing", k.family, i+1)
		}
		size := uint64(4 * s.n)
		if s.n == 0 || uint64(s.off*4)+size > s.size {
			size = s.size - uint64(s.off*4)
		}
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i + 1), Buffer: s.buf, Offset: uint64(s.off * 4), Size: (size + 3) &^ 3})
	}
	bg, err := b.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Layout: k.bgl, Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("gpu: bind group for %s: %w", k.family, err)
	}
	b.groups[key] = bg
	return bg, nil
}

// checkAliasing enforces the browser's rule (Dawn validates it; wgpu-native does not): a buffer range
// bound writable must not overlap any other binding of the same dispatch. Checking it natively keeps
// kernels that pass here from failing only in Chrome.
func (k *kernel) checkAliasing(bufs []*Buf) error {
	for i, a := range bufs {
		for j := i + 1; j < len(bufs); j++ {
			c := bufs[j]
			if a == nil || c == nil || a.id != c.id || (k.readOnly[i] && k.readOnly[j]) {
				continue
			}
			if a.off < c.off+max(c.n, 1) && c.off < a.off+max(a.n, 1) {
				return fmt.Errorf("bindings %d and %d overlap on one buffer and one is writable", i+1, j+1)
			}
		}
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
