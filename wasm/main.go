//go:build js

// Command wasm is the browser trainer's engine: the Go core compiled to WebAssembly, running in a
// dedicated Web Worker (web/app/worker.js) so the page stays responsive. It is a thin bridge: the
// worker hands it the page's commands, core/session does the work, and its events go back out.
//
// The bridge's contract with worker.js:
//
//	globalThis.emc2Command(json, bytes?, files?)  a command: {"cmd": ..., ...}; bytes a Uint8Array
//	                                              (a checkpoint); files an array of {path, bytes}
//	                                              (a load, or the data of a restore)
//	globalThis.emc2Event(type, json, bytes?)      an event, defined by worker.js
//	globalThis.emc2Ready()                        called once the bridge listens, defined by worker.js
//
// Commands that wait for the GPU (load, start, resume, restore, inspect, export) run one at a time
// on the main goroutine: a js.FuncOf callback must never block on a promise (it would deadlock).
// pause, stop and watch only leave a note for the training loop, so the callback does them at once.
//
// The engine is built with -tags fetchdata (Makefile, web): the built-in dataset is not in the wasm.
// The worker fetches it from the server (data/default/) while the wasm loads and hands it over as
// the first command, default-data with its files, which the callback installs at once
// (data.SetDefaultFiles). Without it, loading the built-in data fails with core/data's error.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall/js"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/backend/gpu"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/session"
)

// command is one message from the page: its JSON part (session.Command) and what travels beside
// it, a checkpoint's bytes and uploaded files.
type command struct {
	session.Command
	bytes []byte
	files *data.MemFS
	dir   string
}

// source is the data a command carries: the built-in set, its files, or nil.
func (c command) source() *session.Source {
	if c.Default {
		return &session.Source{Default: true}
	}
	if c.files == nil {
		return nil
	}
	return &session.Source{FS: c.files, Dir: c.dir, ImageSize: c.ImageSize}
}

func main() {
	queue := make(chan command, 64)
	var s *session.Session
	emit := func(e session.Event) {
		b, err := json.Marshal(e.Data)
		if err != nil {
			b, _ = json.Marshal(map[string]string{"message": "encoding " + e.Type + ": " + err.Error()})
			e.Type = "error"
		}
		var arr js.Value = js.Null()
		if e.Bytes != nil {
			arr = js.Global().Get("Uint8Array").New(len(e.Bytes))
			js.CopyBytesToJS(arr, e.Bytes)
		}
		js.Global().Call("emc2Event", e.Type, string(b), arr)
	}
	fail := func(cmd string, err error) {
		b, _ := json.Marshal(map[string]string{"cmd": cmd, "message": err.Error()})
		js.Global().Call("emc2Event", "error", string(b), js.Null())
	}

	js.Global().Set("emc2Command", js.FuncOf(func(_ js.Value, args []js.Value) any {
		c, err := parse(args)
		if err != nil {
			fail("?", err)
			return nil
		}
		if isTeachCommand(c.Cmd) { // the teaching page: wasm/teach.go
			teachCommand(c.Cmd, args[0].String(), c.bytes)
			return nil
		}
		switch c.Cmd {
		case "default-data": // the built-in dataset's files, fetched by the worker
			if c.files == nil {
				fail(c.Cmd, fmt.Errorf("default-data: no files"))
				return nil
			}
			data.SetDefaultFiles(c.files)
			return nil
		case "pause", "stop", "watch": // they only leave a note for the loop (a run or a comparison)
			if s == nil {
				fail(c.Cmd, fmt.Errorf("%s: nothing is running", c.Cmd))
				return nil
			}
			switch c.Cmd {
			case "pause":
				s.Pause()
			case "stop":
				s.Stop()
			case "watch":
				s.Watch(c.Anchor)
				if s.State() != session.Running {
					queue <- command{Command: session.Command{Cmd: "inspect"}} // show it now; the training loop does it otherwise
				}
			}
			return nil
		}
		select {
		case queue <- c:
		default:
			fail(c.Cmd, fmt.Errorf("%s: too many commands waiting", c.Cmd))
		}
		return nil
	}))
	js.Global().Call("emc2Ready")

	ctx := context.Background()
	for c := range queue {
		if err := execute(ctx, &s, emit, c); err != nil {
			fail(c.Cmd, err)
		} else if c.Cmd == "load" {
			// Compile the GPU kernels while the user looks at the data, so that Train starts at once.
			warm := command{Command: session.Command{Cmd: "warm"}}
			if err := execute(ctx, &s, emit, warm); err != nil {
				fail(warm.Cmd, err)
			}
		}
	}
}

// execute runs one queued command. A panic becomes the command's error: a bug must not kill the
// page's engine.
func execute(ctx context.Context, sp **session.Session, emit func(session.Event), c command) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error: %v", c.Cmd, r)
		}
	}()
	s := *sp
	if s == nil && c.Cmd != "init" {
		return fmt.Errorf("%s: the engine has not been initialised", c.Cmd)
	}
	switch {
	case c.Cmd == "init":
		*sp = session.New(emit, opener(c.Backend), session.Options{})
		return nil
	case c.Cmd == "load" && c.Default:
		return s.Load(session.Source{Default: true})
	case c.Cmd == "load" && c.files == nil:
		return fmt.Errorf("load: no files")
	case c.Cmd == "load":
		return s.Load(*c.source())
	case c.Cmd == "warm":
		return s.Warm()
	case c.Cmd == "start":
		cfg, err := c.StartConfig()
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		return s.Start(ctx, cfg)
	case c.Cmd == "profile":
		cfg, err := c.StartConfig()
		if err != nil {
			return fmt.Errorf("profile: %w", err)
		}
		return s.Profile(cfg)
	case c.Cmd == "resume":
		return s.Resume(ctx)
	case c.Cmd == "compare":
		plan, done, err := c.ComparePlan()
		if err != nil {
			return err
		}
		return s.Compare(ctx, plan, done)
	case c.Cmd == "restore":
		return s.Restore(ctx, c.bytes, c.source(), c.Resume)
	case c.Cmd == "inspect":
		return s.Inspect()
	case c.Cmd == "export":
		return s.Export(c.Kind)
	}
	return fmt.Errorf("unknown command %q", c.Cmd)
}

// opener opens the compute backend the page asked for when the first run starts.
func opener(name string) func() (backend.Backend, error) {
	return func() (backend.Backend, error) {
		if name == "cpu" {
			return cpu.New(), nil
		}
		g, err := gpu.New()
		if err != nil {
			return nil, fmt.Errorf("WebGPU: %w", err)
		}
		return g, nil
	}
}

// parse reads a command and copies its binary parts into Go memory.
func parse(args []js.Value) (command, error) {
	var c command
	if len(args) == 0 {
		return c, fmt.Errorf("empty command")
	}
	var err error
	if c.Command, err = session.ParseCommand([]byte(args[0].String())); err != nil {
		return c, err
	}
	if len(args) > 1 && args[1].Truthy() {
		c.bytes = make([]byte, args[1].Get("length").Int())
		js.CopyBytesToGo(c.bytes, args[1])
	}
	if len(args) > 2 && args[2].Truthy() {
		files := map[string][]byte{}
		var paths []string
		for i := range args[2].Length() {
			f := args[2].Index(i)
			p := f.Get("path").String()
			if len(p) > 0 && p[0] == '/' {
				p = p[1:] // webkitRelativePath and drops may start with a slash
			}
			b := make([]byte, f.Get("bytes").Get("length").Int())
			js.CopyBytesToGo(b, f.Get("bytes"))
			files[p] = b
			paths = append(paths, p)
		}
		m, err := data.NewMemFS(files)
		if err != nil {
			return c, fmt.Errorf("%s: %w", c.Cmd, err)
		}
		c.files, c.dir = m, data.TopDir(paths)
	}
	return c, nil
}
