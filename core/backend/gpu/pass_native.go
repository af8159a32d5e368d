//go:build !js

package gpu

// passReplay is the browser's record of the last pass; natively every pass is encoded afresh, which
// costs the host little (BenchmarkStepHostCost).
type passReplay struct{}

func newPassReplay() (passReplay, error) { return passReplay{}, nil }

// encodePass encodes the commands as one compute pass and returns how many it sent.
func (b *Backend) encodePass(cmds []cmd) int {
	pass := b.enc.BeginComputePass(nil)
	for _, c := range cmds {
		pass.SetPipeline(c.k.pipe)
		pass.SetBindGroup(0, c.bg, []uint32{c.off})
		pass.DispatchWorkgroups(c.x, c.y, c.z)
	}
	pass.End()
	pass.Release() // before the encoder's Finish: wgpu's lifetime rule
	return len(cmds)
}

// passSeconds is the GPU time of the last pass: unknown natively (see Info.Timestamps).
func (b *Backend) passSeconds() float64 { return 0 }
