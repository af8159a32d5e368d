//go:build js

package gpu

import (
	"fmt"
	"syscall/js"

	"github.com/cogentcore/webgpu/jsx"
	"github.com/cogentcore/webgpu/wgpu"
)

// openDevice requests the adapter and device through syscall/js rather than the binding, because the
// binding's js backend drops requiredLimits and featureLevel and reports no adapter info. The page
// may set globalThis.emc2Compat = true to ask for a compatibility-mode adapter (lavapipe via ANGLE).
func openDevice() (*wgpu.Device, Info, error) {
	gpu := js.Global().Get("navigator")
	if !gpu.Truthy() || !gpu.Get("gpu").Truthy() {
		return nil, Info{}, fmt.Errorf("%w: navigator.gpu is missing (enable WebGPU in this browser)", ErrNoAdapter)
	}
	gpu = gpu.Get("gpu")
	opts := map[string]any{"powerPreference": "high-performance"}
	if c := js.Global().Get("emc2Compat"); c.Truthy() {
		opts["featureLevel"] = "compatibility"
	}
	ad, ok := jsx.Await(gpu.Call("requestAdapter", opts))
	if !ok || !ad.Truthy() {
		return nil, Info{}, fmt.Errorf("%w: requestAdapter returned none", ErrNoAdapter)
	}
	lim := ad.Get("limits")
	req := map[string]any{
		"maxStorageBufferBindingSize":     lim.Get("maxStorageBufferBindingSize").Float(),
		"maxBufferSize":                   lim.Get("maxBufferSize").Float(),
		"maxStorageBuffersPerShaderStage": min(lim.Get("maxStorageBuffersPerShaderStage").Int(), 10),
	}
	dv, ok := jsx.Await(ad.Call("requestDevice", map[string]any{"requiredLimits": req}))
	if !ok || !dv.Truthy() {
		return nil, Info{}, fmt.Errorf("gpu: requestDevice failed")
	}
	info := Info{Backend: "WebGPU", Type: "browser"}
	if ai := ad.Get("info"); ai.Truthy() {
		info.Vendor, info.Name, info.Driver = ai.Get("vendor").String(), ai.Get("architecture").String(), ai.Get("description").String()
	}
	dl := dv.Get("limits")
	info.MaxStorageBinding = uint64(dl.Get("maxStorageBufferBindingSize").Float())
	info.MaxBuffer = uint64(dl.Get("maxBufferSize").Float())
	info.MaxWorkgroupInvocations = uint32(dl.Get("maxComputeInvocationsPerWorkgroup").Int())
	d := wgpu.NewDevice(dv)
	return &d, info, nil
}
