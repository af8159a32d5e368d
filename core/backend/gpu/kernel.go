package gpu

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/emc2ml/emc2/shaders"
)

// Conventions every WGSL family follows (so that one generic loader serves them all):
//   - binding 0 of group 0 is `var<uniform> p: Params` — the dispatch's parameters, 256 bytes at most,
//     written from the family's Go struct in familyParams (contract.go);
//   - bindings 1..n are `var<storage, read_write>` (or `read`) buffers; each entry point's layout
//     holds only the ones it uses (directly or through the functions it calls), and the caller binds
//     them by their WGSL names;
//   - entry points are `@compute @workgroup_size(...) fn name(...)`, at most 128 invocations per
//     workgroup (WebGPU compatibility mode) and grids of at most 65535 per dimension.

// kernel is one entry point's pipeline and what its dispatches must supply.
type kernel struct {
	entry, file string
	pipe        *wgpu.ComputePipeline // nil until first used, for the kernels SetTiled did not choose
	mod         *wgpu.ShaderModule
	layout      *wgpu.PipelineLayout
	bgl         *wgpu.BindGroupLayout
	params      reflect.Type      // the Go twin of the family's Params
	offsets     []int             // byte offset of each of its fields in the uniform slot
	binds       []shaders.Binding // the storage bindings the entry point uses, ascending
}

// withPrelude returns the WGSL the device compiles for a kernel: the constant prelude, then the
// kernel's source with its includes expanded.
func withPrelude(src string) (string, error) {
	pre, err := shaders.Prelude(consts)
	if err != nil {
		return "", err
	}
	return pre + src, nil
}

// loadKernels builds the pipelines of every kernel family in shaders/, each with its Go Params.
func (b *Backend) loadKernels() error {
	names := shaders.Kernels()
	for _, name := range names {
		src, err := shaders.Source(name)
		if err != nil {
			return err
		}
		params, ok := familyParams[name]
		if !ok {
			return fmt.Errorf("gpu: shaders/%s.wgsl has no Go parameter struct in familyParams", name)
		}
		if err := b.loadFamily("shaders/"+name+".wgsl", src, params); err != nil {
			return err
		}
	}
	for name := range familyParams {
		if !slices.Contains(names, name) {
			return fmt.Errorf("gpu: familyParams names %s, which is not a file in shaders/", name)
		}
	}
	return nil
}

// loadFamily compiles one kernel file (file: its path from the repository root, for messages; src:
// its WGSL with the includes expanded) and makes a pipeline per entry point, each with an explicit
// layout of only the bindings it uses (the js backend has no GetBindGroupLayout and no "auto"
// layout). params is the Go twin of the file's Params; a mismatch is an error naming the file and
// the member, before anything is compiled.
func (b *Backend) loadFamily(file, src string, params any) error {
	src, err := withPrelude(src)
	if err != nil {
		return err
	}
	m, err := shaders.Parse(src)
	if err != nil {
		return fmt.Errorf("gpu: %s: %w", file, err)
	}
	pt := reflect.TypeOf(params)
	offsets, err := checkParams(file, m, pt)
	if err != nil {
		return err
	}
	mod, err := b.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: file,
		WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: src}})
	if err != nil {
		return fmt.Errorf("gpu: compile %s: %w", file, err)
	}
	for _, e := range m.Entries {
		if k, dup := b.kernels[e.Name]; dup {
			return fmt.Errorf("gpu: entry point %q defined twice (in %s and %s)", e.Name, k.file, file)
		}
		entries := []wgpu.BindGroupLayoutEntry{{Binding: 0, Visibility: wgpu.ShaderStageCompute,
			Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeUniform, HasDynamicOffset: true, MinBindingSize: slotBytes}}}
		for _, s := range e.Bindings {
			t := wgpu.BufferBindingTypeStorage
			if s.ReadOnly {
				t = wgpu.BufferBindingTypeReadOnlyStorage
			}
			entries = append(entries, wgpu.BindGroupLayoutEntry{Binding: uint32(s.Index), Visibility: wgpu.ShaderStageCompute,
				Buffer: wgpu.BufferBindingLayout{Type: t}})
		}
		label := file + ":" + e.Name
		bgl, err := b.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: label, Entries: entries})
		if err != nil {
			return fmt.Errorf("gpu: %s: bind group layout: %w", label, err)
		}
		pl, err := b.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: label, BindGroupLayouts: []*wgpu.BindGroupLayout{bgl}})
		if err != nil {
			return fmt.Errorf("gpu: %s: pipeline layout: %w", label, err)
		}
		k := &kernel{entry: e.Name, file: file, mod: mod, layout: pl, bgl: bgl, params: pt, offsets: offsets, binds: e.Bindings}
		b.kernels[e.Name] = k
		if !b.otherVariant(m, e.Name) && !onDemand[e.Name] {
			if err := b.compile(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// onDemand names the kernels that the default configuration (EMC² with Adam, channels that are
// multiples of 4) never runs: the other optimizers, the other methods' weights, and the one-value
// forms of the matrix kernels that have four-value ones. Like the other variants they compile at
// their first dispatch, which spares every engine start their compile (about 0.3 s of a GPU process
// on lavapipe). TestDefaultRunNeedsNoOnDemandKernel keeps the list true.
var onDemand = map[string]bool{
	"optim_sgd": true, "optim_lars": true, "optim_lars_norms": true,
	"simclr_weights": true, "sogclr_weights": true,
	"gemm": true, "conv3x3_dx": true,
}

// otherVariant reports whether entry is the version of a kernel that SetTiled did not choose: a
// hardware-GPU version (name_tiled, name_staged) on a software adapter, or on a hardware GPU the
// name that has one and its four-channel form (name_v4). It is compiled only if it is ever used,
// which spares software adapters, and the browser, compiling kernels they never run.
func (b *Backend) otherVariant(m *shaders.Module, entry string) bool {
	if strings.HasSuffix(entry, "_v4") { // a register-blocked kernel's four-channel form
		return b.tiled
	}
	for _, suffix := range []string{"_tiled", "_staged"} {
		if strings.HasSuffix(entry, suffix) {
			return !b.tiled
		}
		if slices.ContainsFunc(m.Entries, func(e shaders.Entry) bool { return e.Name == entry+suffix }) {
			return b.tiled
		}
	}
	return false
}

// compile creates the kernel's pipeline.
func (b *Backend) compile(k *kernel) error {
	pipe, err := b.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{Layout: k.layout,
		Compute: wgpu.ProgrammableStageDescriptor{Module: k.mod, EntryPoint: k.entry}})
	if err != nil {
		return fmt.Errorf("gpu: %s:%s: pipeline: %w", k.file, k.entry, err)
	}
	k.pipe = pipe
	return nil
}

// binds names the storage buffers of a dispatch by their WGSL variable names.
type binds map[string]*Buf

// bit packs a boolean parameter.
func bit(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// dispatch records entry point `entry` over a grid of workgroups, with its parameters (the family's
// Go Params struct) and exactly the storage buffers the entry point uses, by name.
func (b *Backend) dispatch(entry string, params any, bufs binds, x, y, z int) {
	k, ok := b.kernels[entry]
	if !ok {
		b.fail(fmt.Errorf("gpu: no kernel %q", entry))
		return
	}
	if pt := reflect.TypeOf(params); pt != k.params {
		b.fail(fmt.Errorf("gpu: %s:%s: parameters are %v, its Params is %v", k.file, entry, pt, k.params))
		return
	}
	list, err := k.bindList(bufs)
	if err != nil {
		b.fail(fmt.Errorf("gpu: %s:%s: %w", k.file, entry, err))
		return
	}
	if x == 0 || y == 0 || z == 0 {
		return
	}
	if x > 65535 || y > 65535 || z > 65535 {
		b.fail(fmt.Errorf("gpu: kernel %s: grid %dx%dx%d exceeds 65535 per dimension", entry, x, y, z))
		return
	}
	if b.ringUsed == ringSlots {
		b.submit()
	}
	if err := k.checkAliasing(list); err != nil {
		b.fail(fmt.Errorf("gpu: kernel %s: %w", entry, err))
		return
	}
	bg, err := b.bindGroup(k, list)
	if err != nil {
		b.fail(err)
		return
	}
	if k.pipe == nil {
		if err := b.compile(k); err != nil {
			b.fail(err)
			return
		}
	}
	if b.profiling {
		b.submit() // what was recorded before is not this kernel's time
		b.drain()
		defer b.timed(k, time.Now())
	}
	b.begin()
	slot := b.ringUsed
	b.ringUsed++
	dst := b.ringHost[slot*slotBytes : (slot+1)*slotBytes]
	clear(dst)
	putParams(dst, reflect.ValueOf(params), k.offsets)
	b.record(cmd{k: k, bg: bg, off: uint32(slot * slotBytes), x: uint32(x), y: uint32(y), z: uint32(z)})
}

// bindList orders the named buffers as the entry point's bindings, and refuses missing and extra
// ones (an extra one is a buffer the caller believes the kernel reads or writes, which it does not).
func (k *kernel) bindList(bufs binds) ([]*Buf, error) {
	list := make([]*Buf, len(k.binds))
	for i, s := range k.binds {
		list[i] = bufs[s.Name]
		if list[i] == nil || list[i].buf == nil {
			return nil, fmt.Errorf("buffer %s (binding %d) is missing", s.Name, s.Index)
		}
	}
	if len(bufs) != len(k.binds) {
		var extra []string
		for name := range bufs {
			if !slices.ContainsFunc(k.binds, func(s shaders.Binding) bool { return s.Name == name }) {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		return nil, fmt.Errorf("the entry point does not use %s", strings.Join(extra, ", "))
	}
	return list, nil
}

// maxBindings is the most storage buffers one entry point binds (the device asks for at most 10 per
// stage, see openDevice).
const maxBindings = 10

// groupKey identifies a bind group: the entry point and the buffer range of each binding. It is a
// comparable value, so looking a group up allocates nothing (the lookup runs once per dispatch).
type groupKey struct {
	k      *kernel
	ranges [maxBindings]struct {
		id     uint64
		off, n int
	}
}

// bindGroup returns the cached bind group of an entry point's layout over these buffer ranges.
func (b *Backend) bindGroup(k *kernel, bufs []*Buf) (*wgpu.BindGroup, error) {
	if len(bufs) > maxBindings {
		return nil, fmt.Errorf("gpu: %s binds %d storage buffers, more than %d", k.entry, len(bufs), maxBindings)
	}
	key := groupKey{k: k}
	for i, s := range bufs {
		key.ranges[i].id, key.ranges[i].off, key.ranges[i].n = s.id, s.off, s.n
	}
	if bg, ok := b.groups[key]; ok {
		return bg, nil
	}
	entries := []wgpu.BindGroupEntry{{Binding: 0, Buffer: b.ring, Size: slotBytes}}
	for i, s := range bufs {
		size := uint64(4 * s.n)
		if s.n == 0 || uint64(s.off*4)+size > s.size {
			size = s.size - uint64(s.off*4)
		}
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(k.binds[i].Index), Buffer: s.buf, Offset: uint64(s.off * 4), Size: (size + 3) &^ 3})
	}
	bg, err := b.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Layout: k.bgl, Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("gpu: bind group for %s: %w", k.entry, err)
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
			if a.id != c.id || (k.binds[i].ReadOnly && k.binds[j].ReadOnly) {
				continue
			}
			if a.off < c.off+max(c.n, 1) && c.off < a.off+max(a.n, 1) {
				return fmt.Errorf("bindings %s and %s overlap on one buffer and one is writable", k.binds[i].Name, k.binds[j].Name)
			}
		}
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
