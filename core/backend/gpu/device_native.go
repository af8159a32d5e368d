//go:build !js

package gpu

import (
	"fmt"
	"os"

	"github.com/cogentcore/webgpu/wgpu"
)

// openDevice requests the high-performance adapter and a device with the adapter's storage limits.
func openDevice() (*wgpu.Device, Info, errorScope, error) {
	wgpu.SetLogLevel(wgpu.LogLevelError) // wgpu-native's warnings (no window system, ...) are noise here
	quietHeadless()
	inst := wgpu.CreateInstance(nil)
	if inst == nil {
		return nil, Info{}, nil, ErrNoAdapter
	}
	ad, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: wgpu.PowerPreferenceHighPerformance})
	if err != nil || ad == nil {
		return nil, Info{}, nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	ai := ad.GetInfo()
	lim := ad.GetLimits().Limits
	req := wgpu.DefaultLimits()
	req.MaxStorageBufferBindingSize = lim.MaxStorageBufferBindingSize
	req.MaxBufferSize = lim.MaxBufferSize
	req.MaxStorageBuffersPerShaderStage = min(lim.MaxStorageBuffersPerShaderStage, 10)
	dev, err := ad.RequestDevice(&wgpu.DeviceDescriptor{Label: "emc2", RequiredLimits: &wgpu.RequiredLimits{Limits: req}})
	if err != nil {
		return nil, Info{}, nil, fmt.Errorf("gpu: request device on %s: %w", ai.Name, err)
	}
	dl := dev.GetLimits().Limits
	info := Info{Name: ai.Name, Vendor: ai.VendorName, Driver: ai.DriverDescription, Backend: ai.BackendType.String(),
		Type: ai.AdapterType.String(), MaxStorageBinding: dl.MaxStorageBufferBindingSize, MaxBuffer: dl.MaxBufferSize,
		MaxWorkgroupInvocations: dl.MaxComputeInvocationsPerWorkgroup}
	return dev, info, nil, nil
}

// quietHeadless gives Mesa's Vulkan drivers a private XDG_RUNTIME_DIR when none is set (servers, CI,
// containers). Without one, every adapter probe prints "error: XDG_RUNTIME_DIR is invalid or not set"
// while Mesa looks for a Wayland display that compute does not need.
func quietHeadless() {
	if os.Getenv("XDG_RUNTIME_DIR") != "" {
		return
	}
	if dir, err := os.MkdirTemp("", "emc2-runtime-"); err == nil {
		os.Setenv("XDG_RUNTIME_DIR", dir)
	}
}

// drain waits until the device has finished the work submitted.
func (b *Backend) drain() { b.dev.Poll(true, nil) }

// mapStaging starts mapping st for reading; the function it returns polls the device until the
// mapping is done.
func (b *Backend) mapStaging(st *wgpu.Buffer, size uint64) func() error {
	var done bool
	var status wgpu.BufferMapAsyncStatus
	err := st.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { status, done = s, true })
	return func() error {
		if err != nil {
			return fmt.Errorf("gpu: map: %w", err)
		}
		for !done {
			b.dev.Poll(true, nil)
		}
		if status != wgpu.BufferMapAsyncStatusSuccess {
			return fmt.Errorf("gpu: map failed: %v", status)
		}
		return nil
	}
}
