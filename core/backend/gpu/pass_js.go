//go:build js

package gpu

import (
	"errors"
	"fmt"
	"reflect"
	"syscall/js"
	"unsafe"
)

// passReplay keeps the last compute pass in JavaScript (an array of [pipeline, bind group, uniform
// offset, x, y, z]) and encodes a pass with one call to globalThis.emc2EncodePass (pass.js, loaded by
// the page before the engine). A pass equal to the last one sends nothing but that call; a training
// step, whose pass differs from the last step's only where a bind group changes (the statistics
// slot), sends one or two commands. While profiling on a device with timestamp queries, each pass
// also writes its start and end on the GPU's clock (globalThis.emc2PassTimer).
type passReplay struct {
	encode js.Value // emc2EncodePass(encoder, commands, n, timer)
	held   js.Value // the commands JavaScript holds
	last   []cmd    // their Go twins
	timer  js.Value // emc2PassTimer(device), while profiling on a device with timestamp queries
	timed  bool     // the last pass was timed: its time waits in timer
}

func newPassReplay() (passReplay, error) {
	f := js.Global().Get("emc2EncodePass")
	if f.Type() != js.TypeFunction {
		return passReplay{}, errors.New("gpu: globalThis.emc2EncodePass is missing: the page must load pass.js (core/backend/gpu/pass.js, copied beside wasm_exec.js) before the engine")
	}
	return passReplay{encode: f, held: js.Global().Get("Array").New()}, nil
}

// encodePass encodes the commands as one compute pass and returns how many it sent to JavaScript.
func (b *Backend) encodePass(cmds []cmd) int {
	p := &b.passes
	if b.fresh || len(p.last) != len(cmds) {
		p.held.Set("length", 0)
		p.last = p.last[:0]
	}
	sent := 0
	for i, c := range cmds {
		if i < len(p.last) && p.last[i] == c {
			continue
		}
		p.held.SetIndex(i, []any{jsValueOf(c.k.pipe), jsValueOf(c.bg), c.off, c.x, c.y, c.z})
		sent++
	}
	p.last = append(p.last[:0], cmds...)
	timer := js.Undefined()
	if b.profiling && b.info.Timestamps {
		if p.timer.IsUndefined() {
			p.timer = js.Global().Call("emc2PassTimer", jsValueOf(b.dev))
		}
		timer, p.timed = p.timer, true
	}
	p.encode.Invoke(jsValueOf(b.enc), p.held, len(cmds), timer)
	return sent
}

// passSeconds returns the GPU time of the last timed pass, once the device has run it (the profiler
// drains it first), and 0 when it was not timed.
func (b *Backend) passSeconds() float64 {
	p := &b.passes
	if !p.timed {
		return 0
	}
	p.timed = false
	ns, err := await(p.timer.Call("nanoseconds"))
	if err != nil {
		b.fail(fmt.Errorf("gpu: reading the pass timestamps: %w", err))
		return 0
	}
	return ns.Float() / 1e9
}

// jsValueOf returns the JavaScript object behind one of the binding's wrappers (its unexported
// jsValue field, in github.com/cogentcore/webgpu v0.23.0; the replay test in Chromium runs through it).
func jsValueOf(w any) js.Value {
	v := reflect.ValueOf(w).Elem().FieldByName("jsValue")
	if !v.IsValid() || v.Type() != reflect.TypeFor[js.Value]() {
		panic(fmt.Sprintf("gpu: %T has no jsValue field: the WebGPU binding changed", w))
	}
	return *(*js.Value)(unsafe.Pointer(v.UnsafeAddr()))
}
