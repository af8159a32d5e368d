// Package gpu is the WebGPU backend: each backend operation is a WGSL compute kernel (shaders/)
// dispatched through github.com/cogentcore/webgpu, natively (wgpu-native: Vulkan, Metal, DX12) and in
// the browser (GOOS=js) from the same source.
//
// Operations are recorded into one command encoder and one compute pass and submitted together:
// the first host write of a step (the batch indices) submits the previous step's work, so a training
// step costs one submit and no read-back. Read waits for the queue. Each dispatch gets its own 256-byte
// slot of a uniform ring (bound with a dynamic offset), so bind groups depend only on the storage
// buffers and are cached.
//
// The kernels and Go agree on three things, each checked when the pipelines are built (kernel.go,
// contract.go): the constants both use (generated into a WGSL prelude from the Go constants), each
// family's parameter block (a Go struct matched member by member with the WGSL `struct Params`), and
// the buffers of each entry point (bound by their WGSL names, only those the entry point uses).
package gpu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/emc2ml/emc2/core/backend"
)

const (
	slotBytes = 256  // one uniform slot (minUniformBufferOffsetAlignment)
	ringSlots = 4096 // dispatches per submit before a forced flush
)

// Info describes the adapter the backend runs on.
type Info struct {
	Name, Vendor, Driver, Backend, Type string
	MaxStorageBinding                   uint64
	MaxBuffer                           uint64
	MaxWorkgroupInvocations             uint32
	// Timestamps: the device times passes on its own clock (WebGPU's timestamp-query, requested in
	// the browser where the adapter offers it; the native binding cannot attach timestamp writes to
	// a compute pass), so a profile reports GPU time beside wall time.
	Timestamps bool
}

// String is a one-line description for logs.
func (i Info) String() string {
	name, driver := i.Name, strings.TrimSpace(i.Driver)
	if name == "" || name == "0x0" { // wgpu-native reports no name for some drivers (lavapipe)
		name, driver = driver, ""
	}
	if driver != "" {
		name += ", " + driver
	}
	return fmt.Sprintf("%s (%s, %s), max storage binding %d MiB", name, i.Backend, i.Type, i.MaxStorageBinding>>20)
}

// Software reports whether the adapter runs on the CPU (lavapipe, SwiftShader, llvmpipe), where
// workgroup barriers are expensive and the register-blocked kernels are fastest.
func (i Info) Software() bool {
	if i.Type == "cpu" {
		return true
	}
	s := strings.ToLower(i.Name + " " + i.Vendor + " " + i.Driver)
	return strings.Contains(s, "llvmpipe") || strings.Contains(s, "lavapipe") || strings.Contains(s, "swiftshader")
}

// Backend runs the operations on a WebGPU device.
type Backend struct {
	dev   *wgpu.Device
	queue *wgpu.Queue
	info  Info

	kernels map[string]*kernel
	groups  map[groupKey]*wgpu.BindGroup
	bufs    []*wgpu.Buffer // every allocation, freed by Close

	enc    *wgpu.CommandEncoder
	cmds   []cmd      // the open compute pass, encoded when it ends (pass.go)
	passes passReplay // browser: the last pass, kept in JavaScript (pass_js.go)

	ring     *wgpu.Buffer
	ringHost []byte // the uniform slots of the work being recorded
	ringDev  []byte // what the device's ring holds (uploadRing)
	ringUsed int
	pending  []*wgpu.Buffer       // browser: staged uploads (upload_js.go)
	upEnc    *wgpu.CommandEncoder // browser: the copies of the staged uploads

	scope     errorScope              // browser only: validation errors, which the js binding does not return
	scratch   map[string]*Buf         // named scratch buffers of the kernel families (scratch.go)
	segTables segCache                // the optimizer's uploaded segment tables (ops_optim.go)
	allocated uint64                  // bytes of storage buffers created
	counts    Counts                  // work recorded so far
	tiled     bool                    // matrix products stage their operands in workgroup memory (SetTiled)
	profiling bool                    // time every dispatch on its own (profile.go)
	fresh     bool                    // tests: send every command and uniform slot as if new (pass.go)
	profile   map[*kernel]*KernelTime // the times measured
	err       error                   // first error recorded; reported by Flush and Read
	mu        sync.Mutex
}

var _ backend.Backend = (*Backend)(nil)

// ErrNoAdapter means no WebGPU adapter is available (no GPU driver, no navigator.gpu).
var ErrNoAdapter = errors.New("no WebGPU adapter")

// New opens the default adapter (high-performance preference) and creates the backend.
func New() (*Backend, error) {
	dev, info, scope, err := openDevice()
	if err != nil {
		return nil, err
	}
	return newBackend(dev, info, scope)
}

// errorScope collects the device's validation errors between checks. Natively the binding returns
// errors from each call and the scope is nil.
type errorScope interface {
	check() error // reports the errors since the last check and opens a new scope
}

func newBackend(dev *wgpu.Device, info Info, scope errorScope) (*Backend, error) {
	passes, err := newPassReplay()
	if err != nil {
		return nil, err
	}
	b := &Backend{dev: dev, queue: dev.GetQueue(), info: info, scope: scope, kernels: map[string]*kernel{},
		groups: map[groupKey]*wgpu.BindGroup{}, scratch: map[string]*Buf{}, tiled: !info.Software(), passes: passes}
	b.ring, err = dev.CreateBuffer(&wgpu.BufferDescriptor{Label: "uniform ring", Size: slotBytes * ringSlots,
		Usage: wgpu.BufferUsageUniform | wgpu.BufferUsageCopyDst})
	if err != nil {
		return nil, fmt.Errorf("gpu: uniform ring: %w", err)
	}
	b.ringHost, b.ringDev = make([]byte, slotBytes*ringSlots), make([]byte, slotBytes*ringSlots)
	if err := b.loadKernels(); err != nil {
		return nil, err
	}
	if b.scope != nil {
		if err := b.scope.check(); err != nil {
			return nil, fmt.Errorf("gpu: compiling the kernels: %w", err)
		}
	}
	return b, nil
}

// Info describes the adapter.
func (b *Backend) Info() Info { return b.info }

// SetTiled chooses the kernels of the matrix products and convolutions: tiled ones that stage their
// operands in workgroup memory (the default on hardware GPUs), or register-blocked ones that read
// storage directly (the default on software adapters). Both give the same bits; only speed differs.
func (b *Backend) SetTiled(on bool) { b.tiled = on }

// Tiled reports which kernels the matrix products and convolutions use (SetTiled).
func (b *Backend) Tiled() bool { return b.tiled }

// Kernels names them for reports: "tiled" or "register".
func (b *Backend) Kernels() string {
	if b.tiled {
		return "tiled"
	}
	return "register"
}

// AllocatedBytes is the size of all storage buffers created so far (GPU memory in use by the run).
func (b *Backend) AllocatedBytes() uint64 { return b.allocated }

// Counts is the work the backend has recorded; `emc2 bench` reports it per step. Natively the host
// pays a call per dispatch (pipeline, bind group, grid); in the browser, only Sent of them cross
// into JavaScript.
type Counts struct {
	Dispatches, Passes, Submits uint64
	// Sent counts the dispatches handed to the driver afresh: all of them natively; in the browser,
	// those that differ from the pass JavaScript already holds (pass_js.go).
	Sent uint64
	// UniformBytes is the parameter bytes uploaded: only the slots that changed (uploadRing).
	UniformBytes uint64
}

// Counts returns the work recorded since the backend was opened.
func (b *Backend) Counts() Counts { return b.counts }

// MaxBindingBytes is the largest buffer one kernel may bind.
func (b *Backend) MaxBindingBytes() uint64 { return b.info.MaxStorageBinding }

// Name identifies the backend.
func (b *Backend) Name() string { return "gpu" }

// Buf is a range of a device buffer. Float32 and uint32 values are 4 bytes each; images are uint8
// pixels packed four to a word.
type Buf struct {
	buf  *wgpu.Buffer
	id   uint64 // unique per allocation (the bind-group cache key: a collected wrapper's address can be reused)
	off  int    // in elements (bytes / 4)
	n    int    // elements
	size uint64
}

var bufIDs atomic.Uint64

// Len returns the number of elements (pixels for image buffers).
func (b *Buf) Len() int { return b.n }

func (b *Backend) alloc(n int, label string) *Buf {
	size := uint64(max(4*((n+3)&^3), 16)) // bindings must be non-empty; keep 16-byte multiples
	buf, err := b.dev.CreateBuffer(&wgpu.BufferDescriptor{Label: label, Size: size,
		Usage: wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst})
	if err != nil {
		b.fail(fmt.Errorf("gpu: allocate %d values: %w", n, err))
		return &Buf{n: n}
	}
	b.allocated += size
	b.bufs = append(b.bufs, buf)
	return &Buf{buf: buf, id: bufIDs.Add(1), n: n, size: size}
}

// Alloc returns n zeroed float32 values.
func (b *Backend) Alloc(n int) backend.Buf { return b.alloc(n, "f32") }

// AllocU32 returns n zeroed uint32 values.
func (b *Backend) AllocU32(n int) backend.Buf { return b.alloc(n, "u32") }

// View returns elements [off, off+n) of a buffer.
func (b *Backend) View(buf backend.Buf, off, n int) backend.Buf {
	s := buf.(*Buf)
	if off%backend.Align != 0 || off+n > s.n {
		panic(fmt.Sprintf("gpu: view [%d, %d) of %d elements (offsets must be multiples of %d)", off, off+n, s.n, backend.Align))
	}
	return &Buf{buf: s.buf, id: s.id, off: s.off + off, n: n, size: s.size}
}

func (b *Backend) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

// write uploads bytes at a buffer range, after submitting the work recorded so far (which may read
// the old contents).
func (b *Backend) write(dst *Buf, data []byte) {
	if len(data) == 0 {
		return
	}
	b.submit()
	if err := b.upload(dst.buf, uint64(dst.off*4), data); err != nil {
		b.fail(fmt.Errorf("gpu: write: %w", err))
	}
}

// Write copies src into dst.
func (b *Backend) Write(dst backend.Buf, src []float32) {
	d := dst.(*Buf)
	b.write(d, wgpu.ToBytes(src[:min(len(src), d.n)]))
}

// WriteU32 copies src into dst.
func (b *Backend) WriteU32(dst backend.Buf, src []uint32) {
	d := dst.(*Buf)
	b.write(d, wgpu.ToBytes(src[:min(len(src), d.n)]))
}

// UploadImages stores pixels packed four to a uint32 (little-endian).
func (b *Backend) UploadImages(pix []uint8) backend.Buf {
	buf := b.alloc((len(pix)+3)/4, "images")
	buf.n = len(pix)
	padded := pix
	if len(pix)%4 != 0 {
		padded = append(append([]uint8(nil), pix...), make([]uint8, 4-len(pix)%4)...)
	}
	b.write(buf, padded)
	return buf
}

// readLater records a copy of the first n elements of src into a staging buffer of its own, submits,
// and maps it without waiting (mapStaging); the returned function waits for the mapping and returns
// the bytes. Natively the copy runs while the host goes on; in the browser the mapping is awaited at
// once.
func (b *Backend) readLater(src *Buf, n int) func() ([]byte, error) {
	size := uint64(4 * ((n + 3) &^ 3))
	if size == 0 {
		return func() ([]byte, error) { return nil, nil }
	}
	st, err := b.dev.CreateBuffer(&wgpu.BufferDescriptor{Label: "staging", Size: size, Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst})
	if err != nil {
		return func() ([]byte, error) { return nil, fmt.Errorf("gpu: staging buffer: %w", err) }
	}
	b.begin()
	b.endPass()
	copySize := min(size, src.size-uint64(src.off*4))
	if err := b.enc.CopyBufferToBuffer(src.buf, uint64(src.off*4), st, 0, copySize); err != nil {
		return func() ([]byte, error) { return nil, fmt.Errorf("gpu: copy for read: %w", err) }
	}
	b.submit()
	mapped := b.mapStaging(st, size)
	return func() ([]byte, error) {
		defer st.Release()
		if err := b.takeErr(); err != nil {
			return nil, err
		}
		if err := mapped(); err != nil {
			return nil, err
		}
		out := append([]byte(nil), st.GetMappedRange(0, uint(size))[:4*n]...)
		if err := st.Unmap(); err != nil {
			return nil, fmt.Errorf("gpu: unmap: %w", err)
		}
		return out, nil
	}
}

// ReadAsync starts reading src back (see readLater).
func (b *Backend) ReadAsync(src backend.Buf) func(dst []float32) error {
	s := src.(*Buf)
	wait := b.readLater(s, s.n)
	return func(dst []float32) error {
		raw, err := wait()
		if err != nil {
			return err
		}
		for i := range dst[:min(len(dst), s.n)] {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return nil
	}
}

// Read copies src back to the host, waiting for all recorded work.
func (b *Backend) Read(src backend.Buf, dst []float32) error {
	s := src.(*Buf)
	n := min(len(dst), s.n)
	return b.ReadAsync(b.View(s, 0, n))(dst)
}

// ReadU32 copies src back to the host, waiting for all recorded work.
func (b *Backend) ReadU32(src backend.Buf, dst []uint32) error {
	s := src.(*Buf)
	n := min(len(dst), s.n)
	raw, err := b.readLater(s, n)()
	if err != nil {
		return err
	}
	for i := range dst[:n] {
		dst[i] = binary.LittleEndian.Uint32(raw[4*i:])
	}
	return nil
}

// Flush submits the recorded work without waiting and reports the first error so far.
func (b *Backend) Flush() error {
	b.submit()
	return b.takeErr()
}

func (b *Backend) takeErr() error {
	if b.scope != nil {
		if err := b.scope.check(); err != nil {
			b.fail(err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.err
	b.err = nil
	return err
}

// Close frees every buffer the backend allocated and releases the device. The browser trainer
// closes its backend between runs: WebGPU frees a buffer's memory at destroy(), not when its
// wrapper becomes garbage, so a page that only dropped its references would grow run by run.
func (b *Backend) Close() {
	b.submit()
	b.dev.Poll(true, nil)
	for _, g := range b.groups { // bind groups hold the buffers
		g.Release()
	}
	clear(b.groups)
	for _, buf := range b.bufs {
		buf.Destroy()
		buf.Release()
	}
	b.bufs, b.allocated = nil, 0
	b.dev.Release()
}

// begin opens the command encoder if needed.
func (b *Backend) begin() {
	if b.enc != nil {
		return
	}
	enc, err := b.dev.CreateCommandEncoder(nil)
	if err != nil {
		b.fail(fmt.Errorf("gpu: command encoder: %w", err))
		return
	}
	b.enc = enc
}

// submit ends the pass, uploads the uniform slots used and submits the encoder.
func (b *Backend) submit() {
	if b.enc == nil {
		return
	}
	b.endPass()
	b.uploadRing()
	cmd, err := b.enc.Finish(nil)
	if err != nil {
		b.fail(fmt.Errorf("gpu: finish: %w", err))
	} else {
		b.queue.Submit(append(b.uploads(), cmd)...)
		b.counts.Submits++
		cmd.Release()
	}
	b.enc.Release()
	b.enc, b.ringUsed = nil, 0
}
