//go:build js

package gpu

import (
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	"github.com/cogentcore/webgpu/wgpu"
)

// openDevice requests the adapter and device through syscall/js rather than the binding, because the
// binding's js backend drops requiredLimits and featureLevel and reports no adapter info. The page
// may set globalThis.emc2Compat = true to ask for a compatibility-mode adapter (lavapipe via ANGLE).
func openDevice() (*wgpu.Device, Info, errorScope, error) {
	gpu := js.Global().Get("navigator")
	if !gpu.Truthy() || !gpu.Get("gpu").Truthy() {
		return nil, Info{}, nil, fmt.Errorf("%w: navigator.gpu is missing (enable WebGPU in this browser)", ErrNoAdapter)
	}
	gpu = gpu.Get("gpu")
	opts := map[string]any{"powerPreference": "high-performance"}
	if c := js.Global().Get("emc2Compat"); c.Truthy() {
		opts["featureLevel"] = "compatibility"
	}
	ad, err := await(gpu.Call("requestAdapter", opts))
	if err != nil {
		return nil, Info{}, nil, fmt.Errorf("%w: requestAdapter failed: %v", ErrNoAdapter, err)
	}
	if !ad.Truthy() {
		return nil, Info{}, nil, fmt.Errorf("%w: requestAdapter returned none", ErrNoAdapter)
	}
	lim := ad.Get("limits")
	req := map[string]any{
		"maxStorageBufferBindingSize":     lim.Get("maxStorageBufferBindingSize").Float(),
		"maxBufferSize":                   lim.Get("maxBufferSize").Float(),
		"maxStorageBuffersPerShaderStage": min(lim.Get("maxStorageBuffersPerShaderStage").Int(), 10),
	}
	var features []any
	stamps := ad.Get("features").Call("has", "timestamp-query").Bool()
	if stamps {
		features = append(features, "timestamp-query") // for profiles (pass.js); it costs nothing unused
	}
	dv, err := await(ad.Call("requestDevice", map[string]any{"requiredLimits": req, "requiredFeatures": features}))
	if err != nil {
		return nil, Info{}, nil, fmt.Errorf("gpu: requestDevice failed: %w", err)
	}
	if !dv.Truthy() {
		return nil, Info{}, nil, errors.New("gpu: requestDevice returned no device")
	}
	info := Info{Backend: "WebGPU", Type: "browser", Timestamps: stamps}
	if ai := ad.Get("info"); ai.Truthy() {
		info.Vendor, info.Name, info.Driver = ai.Get("vendor").String(), ai.Get("architecture").String(), ai.Get("description").String()
		if ai.Get("isFallbackAdapter").Truthy() || ad.Get("isFallbackAdapter").Truthy() {
			info.Type = "cpu" // the browser says it is a software adapter (SwiftShader)
		}
	}
	dl := dv.Get("limits")
	info.MaxStorageBinding = uint64(dl.Get("maxStorageBufferBindingSize").Float())
	info.MaxBuffer = uint64(dl.Get("maxBufferSize").Float())
	info.MaxWorkgroupInvocations = uint32(dl.Get("maxComputeInvocationsPerWorkgroup").Int())
	watchLoss(dv)
	d := wgpu.NewDevice(dv)
	scope := &jsScope{dev: dv}
	scope.push()
	return &d, info, scope, nil
}

// watchLoss tells the page when the device is lost (a driver reset, the browser's GPU process
// crashing, or destroy()): globalThis.emc2DeviceLost(reason, message), if the page defines it, gets
// the news; the page then starts a fresh engine, which resumes from the last stored checkpoint.
// globalThis.emc2Device is the device in use, so that a test can force a loss. A backend's Close
// does not destroy its device, so closing one is not reported as a loss.
func watchLoss(dv js.Value) {
	js.Global().Set("emc2Device", dv)
	var f js.Func
	f = js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer f.Release()
		if h := js.Global().Get("emc2DeviceLost"); h.Type() == js.TypeFunction && len(args) > 0 {
			h.Invoke(args[0].Get("reason").String(), args[0].Get("message").String())
		}
		return nil
	})
	dv.Get("lost").Call("then", f)
}

// drain waits until the device has finished the work submitted (the goroutine blocks; the worker's
// event loop runs meanwhile).
func (b *Backend) drain() {
	if s, ok := b.scope.(*jsScope); ok {
		await(s.dev.Get("queue").Call("onSubmittedWorkDone")) // it rejects only on a lost device, reported apart
	}
}

// mapStaging maps st for reading, awaiting the promise at once (the goroutine blocks; the worker's
// event loop runs meanwhile).
func (b *Backend) mapStaging(st *wgpu.Buffer, size uint64) func() error {
	_, err := await(jsValueOf(st).Call("mapAsync", int(wgpu.MapModeRead), 0, size))
	return func() error {
		if err != nil {
			return fmt.Errorf("gpu: map: %w", err)
		}
		return nil
	}
}

// await blocks the goroutine until the promise settles and returns its value, or its rejection as
// an error. (The binding has one too, but it logs through log/slog, which would add 80 KB of code
// to the engine.)
func await(promise js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	done := make(chan settled, 1)
	resolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- settled{v: args[0]}
		return nil
	})
	defer resolve.Release()
	reject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "rejected"
		if len(args) > 0 && args[0].Truthy() {
			msg = args[0].Call("toString").String()
		}
		done <- settled{err: errors.New(msg)}
		return nil
	})
	defer reject.Release()
	promise.Call("then", resolve, reject)
	r := <-done
	return r.v, r.err
}

// jsScope keeps a validation and an out-of-memory error scope open on the device; check pops them
// (waiting for the GPU to finish the work in them, so it is called only where the backend waits
// anyway: Read and Flush) and opens new ones.
type jsScope struct{ dev js.Value }

func (s *jsScope) push() {
	s.dev.Call("pushErrorScope", "out-of-memory")
	s.dev.Call("pushErrorScope", "validation")
}

func (s *jsScope) check() error {
	var msgs []string
	for range 2 {
		e, err := await(s.dev.Call("popErrorScope")) // it rejects only when the stack is empty
		if err == nil && e.Truthy() {
			msgs = append(msgs, e.Get("message").String())
		}
	}
	s.push()
	if len(msgs) > 0 {
		return fmt.Errorf("gpu: WebGPU error: %s", strings.Join(msgs, "; "))
	}
	return nil
}
