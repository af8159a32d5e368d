package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/backend/gpu"
)

// openBackend returns the compute backend named by --backend: "cpu", "gpu" (any adapter, software
// ones included; an error when none exists), or "auto": a hardware GPU when one exists, else the
// CPU, saying why. A software adapter (Mesa's lavapipe) is no faster than the plain-Go backend, so
// auto does not pick it.
func openBackend(name string, log io.Writer) (backend.Backend, error) {
	switch name {
	case "cpu":
		fmt.Fprintln(log, "backend: cpu")
		return cpu.New(), nil
	case "gpu", "auto":
		g, err := gpu.New()
		if err == nil {
			i := g.Info()
			if name == "auto" && i.Software() {
				g.Close()
				fmt.Fprintf(log, "backend: cpu (the only WebGPU adapter is a software one, %s; --backend gpu uses it)\n", i)
				return cpu.New(), nil
			}
			fmt.Fprintf(log, "backend: gpu on %s; limits: storage binding %d MiB, buffer %d MiB, %d invocations per workgroup; %s GEMM and convolution kernels\n",
				i, i.MaxStorageBinding>>20, i.MaxBuffer>>20, i.MaxWorkgroupInvocations, g.Kernels())
			return g, nil
		}
		if name == "gpu" {
			return nil, fmt.Errorf("--backend gpu: %w", err)
		}
		if !errors.Is(err, gpu.ErrNoAdapter) {
			fmt.Fprintf(log, "backend: the GPU failed to start (%v)\n", err)
		}
		fmt.Fprintf(log, "backend: cpu (no usable GPU adapter: %v)\n", err)
		return cpu.New(), nil
	}
	return nil, fmt.Errorf("--backend %q: want auto, gpu or cpu", name)
}
