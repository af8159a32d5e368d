package session

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/compare"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// recorder collects a session's events; onProgress, when set, runs at each progress event (from
// the training loop, like the page's messages arriving between steps).
type recorder struct {
	events     []Event
	onProgress func(run.Progress)
	onEvent    func(Event)
}

func (r *recorder) emit(e Event) {
	r.events = append(r.events, e)
	if r.onEvent != nil {
		r.onEvent(e)
	}
	if p, ok := e.Data.(run.Progress); ok && r.onProgress != nil {
		r.onProgress(p)
	}
}

func (r *recorder) of(typ string) []Event {
	var out []Event
	for _, e := range r.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) last(typ string) Event {
	ev := r.of(typ)
	if len(ev) == 0 {
		return Event{}
	}
	return ev[len(ev)-1]
}

func cpuOpen() (backend.Backend, error) { return cpu.New(), nil }

// tinyFiles is a labeled IDX dataset of 8×8 images (96 train, 24 test), as a page would hand over.
func tinyFiles(t *testing.T, seed byte) fstest.MapFS {
	img := func(n int) ([]byte, []byte) {
		pix := make([]uint8, n*64)
		lab := make([]int32, n)
		for i := range n {
			lab[i] = int32(i % 3)
			for p := range 64 {
				// three classes of stripes, with per-image variation
				pix[i*64+p] = uint8((p%8)*int(lab[i]+1)*10 + (p/8)*3 + i%7*5 + int(seed))
			}
		}
		var ib, lb bytes.Buffer
		require.NoError(t, data.WriteIDXImages(&ib, n, 8, 8, pix))
		require.NoError(t, data.WriteIDXLabels(&lb, lab))
		return ib.Bytes(), lb.Bytes()
	}
	tri, trl := img(96)
	tei, tel := img(24)
	return fstest.MapFS{
		"tiny/train-images-idx3-ubyte": {Data: tri}, "tiny/train-labels-idx1-ubyte": {Data: trl},
		"tiny/t10k-images-idx3-ubyte": {Data: tei}, "tiny/t10k-labels-idx1-ubyte": {Data: tel},
	}
}

func tinyConfig(method string) train.Config {
	c := train.DefaultConfig()
	m, v, err := train.ParseRunName(method)
	if err != nil {
		panic(err)
	}
	c.Method, c.Variant = m, v
	c.Batch, c.Epochs, c.Channels, c.Hidden, c.Proj = 8, 2, []int{4}, 16, 8
	c.LogEvery, c.GlobalSize, c.EvalEvery = 2, 16, 1
	return c
}

func newTiny(t *testing.T, rec *recorder) *Session {
	s := New(rec.emit, cpuOpen, Options{CheckpointEvery: 10, EmbedEvery: 6, EmbedImages: 12})
	require.NoError(t, s.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	return s
}

func TestLoadReportsAndKeepsDataOnBadInput(t *testing.T) {
	rec := &recorder{}
	s := newTiny(t, rec)
	info := rec.last(EvData).Data.(DataInfo)
	assert.Equal(t, 96, info.Train)
	assert.Equal(t, 24, info.Test)
	assert.True(t, info.Labeled)
	assert.Equal(t, 48, info.Preview)
	assert.Len(t, rec.last(EvData).Bytes, 48*64, "preview pixels travel with the event")
	assert.Regexp(t, `^upload:tiny#[0-9a-f]{8}$`, info.Spec)
	assert.Equal(t, Ready, s.State())

	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"not images", fstest.MapFS{"up/a.txt": {Data: []byte("hello")}}, "no images found"},
		{"truncated idx", fstest.MapFS{"up/train-images-idx3-ubyte": {Data: []byte{0, 0, 8, 3, 0, 0, 0, 9}}}, "up"},
		{"empty folder", fstest.MapFS{"up/.keep": {Data: nil}}, "no images"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(rec.events)
			err := s.Load(Source{FS: tc.fs, Dir: "up"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Len(t, rec.events, n, "a failed load reports nothing but its error")
			assert.Equal(t, info, s.info, "the loaded data stays as it was")
			assert.Equal(t, Ready, s.State())
		})
	}
}

func TestRunReportsEverything(t *testing.T) {
	rec := &recorder{}
	s := newTiny(t, rec)
	s.Watch(3)
	require.NoError(t, s.Start(context.Background(), tinyConfig("emc2")))
	assert.Equal(t, Done, s.State())

	started := rec.last(EvStarted).Data.(RunInfo)
	assert.Equal(t, 24, started.TotalSteps)
	prog := rec.of(EvProgress)
	require.NotEmpty(t, prog)
	assert.Equal(t, 24, prog[len(prog)-1].Data.(run.Progress).Step)
	assert.Len(t, rec.of(EvEval), 3, "random init, then every epoch")
	assert.NotEmpty(t, rec.of(EvFloor))
	emb := rec.last(EvEmbedding).Data.(Embedding)
	assert.Len(t, emb.Points, 12)
	assert.Len(t, emb.Labels, 12)
	cks := rec.of(EvCheckpoint)
	require.GreaterOrEqual(t, len(cks), 3, "every 10 steps and at the end")
	assert.Equal(t, 24, cks[len(cks)-1].Data.(run.CheckpointInfo).Step)

	// The inspector shows every decision of the followed chain in each step that held image 3.
	ch := rec.last(EvChain).Data.(ChainReport)
	assert.Equal(t, 3, ch.Anchor)
	assert.Empty(t, ch.Error)
	require.NotNil(t, ch.Replay, "the step holding image 3 was traced")
	assert.Equal(t, uint32(3), ch.Replay.Image)
	assert.Len(t, ch.Replay.Decisions, 4*8, "2 views × 2B proposals")
	assert.Len(t, ch.Columns, 3*8, "2B views and the fresh variant's B state images")
	assert.Len(t, rec.last(EvChain).Bytes, 3*8*64, "the columns' pixels")
	assert.Len(t, ch.Visits, 2, "one visit per epoch")
	for _, v := range ch.Visits {
		assert.Positive(t, v.Accepted)
	}
}

func TestChainInspectorNeedsEMC2(t *testing.T) {
	rec := &recorder{}
	s := newTiny(t, rec)
	require.NoError(t, s.Start(context.Background(), tinyConfig("simclr")))
	s.Watch(0)
	require.NoError(t, s.Inspect())
	assert.Contains(t, rec.last(EvChain).Data.(ChainReport).Error, "EMC²")
}

// finalLoss is the last reported training loss of a run.
func finalLoss(rec *recorder) float64 {
	return rec.last(EvProgress).Data.(run.Progress).Loss
}

func TestPauseResumeAndRestoreContinueExactly(t *testing.T) {
	cfg := tinyConfig("emc2")
	ref := &recorder{}
	s0 := newTiny(t, ref)
	require.NoError(t, s0.Start(context.Background(), cfg))
	refCk := ref.last(EvCheckpoint).Bytes

	// Pause at the first report past step 6, then resume in the same session.
	rec := &recorder{}
	s := newTiny(t, rec)
	rec.onProgress = func(p run.Progress) {
		if p.Step >= 6 {
			s.Pause()
		}
	}
	require.NoError(t, s.Start(context.Background(), cfg))
	require.Equal(t, Paused, s.State())
	paused := rec.last(EvCheckpoint)
	step := paused.Data.(run.CheckpointInfo).Step
	assert.Less(t, step, 24)
	rec.onProgress = nil
	require.NoError(t, s.Resume(context.Background()))
	assert.Equal(t, Done, s.State())
	assert.Equal(t, finalLoss(ref), finalLoss(rec), "pause + resume trains exactly as one run")

	// A new session (a reloaded page) restores the paused checkpoint on the same data, with the
	// history of the run so far in its started event.
	rec2 := &recorder{}
	s2 := newTiny(t, rec2)
	require.NoError(t, s2.Restore(context.Background(), paused.Bytes, nil, false))
	assert.Equal(t, Paused, s2.State())
	started := rec2.last(EvStarted).Data.(RunInfo)
	assert.Equal(t, step, started.Step)
	assert.Empty(t, started.History.Evals, "nothing evaluated before the first epoch ends (the random-init floor comes with it)")
	assert.NotEmpty(t, started.History.Progress)
	assert.Equal(t, started.History.Progress[len(started.History.Progress)-1].Step, step)
	require.NoError(t, s2.Resume(context.Background()))
	assert.Equal(t, finalLoss(ref), finalLoss(rec2))
	sameState(t, refCk, rec2.last(EvCheckpoint).Bytes, "the restored run ends in the same state, bit for bit")

	// One command does a reloaded page's resume: the checkpoint, its data, and resume.
	rec4 := &recorder{}
	s4 := New(rec4.emit, cpuOpen, Options{CheckpointEvery: 10, EmbedEvery: 6, EmbedImages: 12})
	require.NoError(t, s4.Restore(context.Background(), paused.Bytes, &Source{FS: tinyFiles(t, 0), Dir: "tiny"}, true))
	assert.Equal(t, Done, s4.State())
	sameState(t, refCk, rec4.last(EvCheckpoint).Bytes)

	// Other data refuses the checkpoint; a damaged one changes nothing.
	rec3 := &recorder{}
	s3 := New(rec3.emit, cpuOpen, Options{})
	require.NoError(t, s3.Load(Source{FS: tinyFiles(t, 1), Dir: "tiny"}))
	require.ErrorContains(t, s3.Restore(context.Background(), paused.Bytes, nil, false), "was trained on")
	require.ErrorContains(t, s3.Restore(context.Background(), paused.Bytes[:100], nil, false), "restore")
	assert.Equal(t, Ready, s3.State())
}

// sameState checks that two checkpoints hold the same run state: step, weights, optimizer and
// method state, bit for bit (their histories differ in timings).
func sameState(t *testing.T, a, b []byte, msg ...any) {
	t.Helper()
	ca, err := train.ParseCheckpoint(a)
	require.NoError(t, err)
	cb, err := train.ParseCheckpoint(b)
	require.NoError(t, err)
	assert.Equal(t, ca.Step, cb.Step, msg...)
	assert.Equal(t, ca.F32, cb.F32, msg...)
	assert.Equal(t, ca.U32, cb.U32, msg...)
}

// TestFailedRestoreKeepsThePausedRun: a checkpoint that does not parse leaves the paused run as it
// was, resumable.
func TestFailedRestoreKeepsThePausedRun(t *testing.T) {
	rec := &recorder{}
	s := newTiny(t, rec)
	rec.onProgress = func(run.Progress) { s.Pause() }
	require.NoError(t, s.Start(context.Background(), tinyConfig("emc2-paper")))
	require.Equal(t, Paused, s.State())
	good := rec.last(EvCheckpoint).Bytes
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 1
	require.ErrorContains(t, s.Restore(context.Background(), bad, nil, false), "checksum")
	assert.Equal(t, Paused, s.State())
	rec.onProgress = nil
	require.NoError(t, s.Resume(context.Background()))
	assert.Equal(t, Done, s.State())
}

func TestStopEvaluatesAndEnds(t *testing.T) {
	rec := &recorder{}
	s := newTiny(t, rec)
	rec.onProgress = func(p run.Progress) { s.Stop() }
	require.NoError(t, s.Start(context.Background(), tinyConfig("sogclr")))
	assert.Equal(t, Done, s.State())
	st := rec.last(EvState).Data.(StateInfo)
	// Step 1 is reported at once, and the loop stops before step 2.
	assert.Equal(t, 1, st.Step)
	assert.Contains(t, st.Message, "stopped at step 1 of 24")
	var steps []int
	for _, e := range rec.of(EvEval) {
		steps = append(steps, e.Data.(train.EvalReport).Step)
	}
	assert.Equal(t, []int{1, 0}, steps, "what was trained is evaluated, then the encoder at random initialisation")
	require.ErrorContains(t, s.Resume(context.Background()), "no paused run")
}

func TestExports(t *testing.T) {
	rec := &recorder{}
	s := newTiny(t, rec)
	require.ErrorContains(t, s.Export("csv"), "no run")
	cfg := tinyConfig("simclr")
	cfg.Epochs = 1
	require.NoError(t, s.Start(context.Background(), cfg))
	for _, tc := range []struct{ kind, suffix string }{
		{"checkpoint", ".emc2ckpt"}, {"safetensors", ".safetensors"}, {"csv", "-embeddings.csv"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			require.NoError(t, s.Export(tc.kind))
			f := rec.last(EvFile)
			assert.Equal(t, "emc2-simclr-step12"+tc.suffix, f.Data.(FileInfo).Name)
			require.NotEmpty(t, f.Bytes)
			switch tc.kind {
			case "checkpoint":
				_, err := train.ParseCheckpoint(f.Bytes)
				require.NoError(t, err)
			case "csv":
				rows, err := csv.NewReader(bytes.NewReader(f.Bytes)).ReadAll()
				require.NoError(t, err)
				assert.Len(t, rows, 1+96+24)
				assert.Len(t, rows[0], 4+8)
			}
		})
	}
	require.ErrorContains(t, s.Export("pdf"), "want checkpoint")
}

func TestBusyAndEmpty(t *testing.T) {
	rec := &recorder{}
	s := New(rec.emit, cpuOpen, Options{})
	require.ErrorContains(t, s.Start(context.Background(), tinyConfig("emc2")), "load data first")
	require.ErrorContains(t, s.Restore(context.Background(), nil, nil, false), "restore")
	require.NoError(t, s.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	bad := tinyConfig("emc2")
	bad.Batch = 500
	require.ErrorContains(t, s.Start(context.Background(), bad), "larger than the 96 training images")
	assert.Equal(t, Ready, s.State())

	var loadErr error
	rec.onProgress = func(run.Progress) {
		loadErr = s.Load(Source{Default: true})
		s.Pause()
	}
	require.NoError(t, s.Start(context.Background(), tinyConfig("emc2")))
	require.ErrorContains(t, loadErr, "pause or stop")
}

// smallGPU is the CPU backend posing as an adapter that binds at most limit bytes.
type smallGPU struct {
	backend.Backend
	limit uint64
}

func (g smallGPU) MaxBindingBytes() uint64 { return g.limit }

func TestStartRefusesDataBeyondTheAdapter(t *testing.T) {
	rec := &recorder{}
	s := New(rec.emit, func() (backend.Backend, error) { return smallGPU{cpu.New(), 4096}, nil }, Options{})
	require.NoError(t, s.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	err := s.Start(context.Background(), tinyConfig("emc2"))
	require.ErrorContains(t, err, "the training images need 6.0 KiB in one GPU buffer, but this adapter binds at most 4.0 KiB")
	assert.Equal(t, Ready, s.State(), "nothing was started")
	assert.Empty(t, rec.of(EvStarted))

	// A later load reports the verdict with the data.
	require.NoError(t, s.Load(Source{FS: tinyFiles(t, 1), Dir: "tiny"}))
	sc := rec.last(EvData).Data.(DataInfo).Scale
	assert.False(t, sc.Fits)
	assert.EqualValues(t, 4096, sc.MaxBindingBytes)
}

// closeCounter counts how often backends are closed.
type closeCounter struct {
	backend.Backend
	closed *int
}

func (c closeCounter) Close() { *c.closed++; c.Backend.Close() }

// TestWarmOpensTheBackendBeforeTheRun: Warm opens the backend once, after data; the first run uses it
// (no second open), and a dataset the adapter cannot bind is reported by Warm.
func TestWarmOpensTheBackendBeforeTheRun(t *testing.T) {
	rec := &recorder{}
	opened := 0
	s := New(rec.emit, func() (backend.Backend, error) {
		opened++
		return smallGPU{cpu.New(), 1 << 20}, nil
	}, Options{})
	require.NoError(t, s.Warm(), "without data: nothing to do")
	assert.Zero(t, opened)
	require.NoError(t, s.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	require.NoError(t, s.Warm())
	require.NoError(t, s.Warm(), "already open: nothing to do")
	assert.Equal(t, 1, opened)
	assert.Equal(t, "preparing the compute backend (compiling the GPU kernels)", rec.last(EvStatus).Data.(StatusInfo).Message)
	assert.Equal(t, StateInfo{State: Ready, Message: "Ready to train."}, rec.last(EvState).Data)
	require.NoError(t, s.Start(context.Background(), tinyConfig("simclr")))
	assert.Equal(t, 1, opened, "the run trains on the warmed backend")

	small := New(rec.emit, func() (backend.Backend, error) { return smallGPU{cpu.New(), 4096}, nil }, Options{})
	require.NoError(t, small.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	require.ErrorContains(t, small.Warm(), "but this adapter binds at most 4.0 KiB")
}

func TestEachRunGetsAFreshBackend(t *testing.T) {
	rec := &recorder{}
	opened, closed := 0, 0
	s := New(rec.emit, func() (backend.Backend, error) {
		opened++
		return closeCounter{cpu.New(), &closed}, nil
	}, Options{})
	require.NoError(t, s.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	cfg := tinyConfig("simclr")
	cfg.Epochs = 1
	require.NoError(t, s.Start(context.Background(), cfg))
	require.NoError(t, s.Export("csv"), "a finished run keeps its backend for exports")
	assert.Equal(t, [2]int{1, 0}, [2]int{opened, closed})
	require.NoError(t, s.Start(context.Background(), cfg))
	assert.Equal(t, [2]int{2, 1}, [2]int{opened, closed}, "the second run freed the first one's device memory")
	require.NoError(t, s.Restore(context.Background(), rec.last(EvCheckpoint).Bytes, nil, false))
	assert.Equal(t, [2]int{3, 2}, [2]int{opened, closed})
}

// TestCompareRunsAPlanAndContinuesIt: the page's Compare mode runs a plan on the loaded data,
// hands out each finished run, and a reloaded page continues from the runs it kept, ending with the
// numbers of an uninterrupted plan; the report exports as Markdown and CSV.
func TestCompareRunsAPlanAndContinuesIt(t *testing.T) {
	plan := compare.Plan{Methods: []string{"simclr", "emc2-paper"}, Batches: []int{8}, Seeds: []uint64{1}, Base: tinyConfig("simclr")}
	plan.Base.Epochs = 1
	rec := &recorder{}
	s := newTiny(t, rec)
	require.NoError(t, s.Compare(context.Background(), plan, nil))
	assert.Equal(t, Ready, s.State())
	runs := rec.of(EvCompareRun)
	require.Len(t, runs, 2)
	rep := rec.last(EvCompareReport).Data.(compare.Report)
	assert.Len(t, rep.Rows, 2)
	assert.Empty(t, rep.Missing)
	assert.NotEmpty(t, rep.Reading)
	require.NoError(t, s.Export("compare-report"))
	assert.Contains(t, string(rec.last(EvFile).Bytes), "## Reading")
	require.NoError(t, s.Export("compare-csv"))
	assert.Contains(t, string(rec.last(EvFile).Bytes), "floor: raw pixels")

	// Stop during the second run: the first is kept; a new session continues with it.
	rec2 := &recorder{}
	s2 := newTiny(t, rec2)
	rec2.onEvent = func(e Event) {
		if p, ok := e.Data.(compare.Event); ok && p.Index == 1 && p.Step > 0 {
			s2.Stop()
		}
	}
	require.NoError(t, s2.Compare(context.Background(), plan, nil))
	kept := rec2.of(EvCompareRun)
	require.Len(t, kept, 1)
	assert.Contains(t, rec2.last(EvState).Data.(StateInfo).Message, "1 of 2 runs kept")

	rec3 := &recorder{}
	s3 := newTiny(t, rec3)
	require.NoError(t, s3.Compare(context.Background(), plan, []compare.Result{kept[0].Data.(compare.Result)}))
	again := rec3.last(EvCompareReport).Data.(compare.Report)
	require.Len(t, again.Results, 2)
	for i := range rep.Results {
		assert.Equal(t, rep.Results[i].Summary.Final.GlobalLoss, again.Results[i].Summary.Final.GlobalLoss)
		assert.Equal(t, rep.Results[i].Summary.Final.ProbeTest, again.Results[i].Summary.Final.ProbeTest)
	}
	assert.Len(t, rec3.of(EvCompareRun), 1, "only the missing run ran")

	other := New((&recorder{}).emit, cpuOpen, Options{})
	require.NoError(t, other.Load(Source{FS: tinyFiles(t, 1), Dir: "tiny"}))
	require.ErrorContains(t, other.Compare(context.Background(), plan, []compare.Result{kept[0].Data.(compare.Result)}), "trained on")
}

// profiledCPU is the CPU backend posing as one that times its kernels: each profiled stretch adds
// 3 conv3x3 dispatches of 0.1 s.
type profiledCPU struct {
	*cpu.Backend
	closed, stretches *int
}

func (p profiledCPU) Profile(on bool) {
	if !on {
		*p.stretches++
	}
}
func (p profiledCPU) Profiled() []backend.KernelTime {
	n := *p.stretches
	return []backend.KernelTime{{Kernel: "conv3x3", File: "shaders/conv.wgsl", Dispatches: 3 * n, Seconds: 0.3 * float64(n)}}
}
func (p profiledCPU) Close() { *p.closed++; p.Backend.Close() }

// TestProfileReportsKernelsOnItsOwnBackend: Profile reports each kernel per step on a backend it
// closes after, leaves the state as it was, and refuses a backend that cannot time its kernels.
func TestProfileReportsKernelsOnItsOwnBackend(t *testing.T) {
	rec := &recorder{}
	closed, stretches := 0, 0
	s := New(rec.emit, func() (backend.Backend, error) { return profiledCPU{cpu.New(), &closed, &stretches}, nil }, Options{})
	require.ErrorContains(t, s.Profile(tinyConfig("emc2")), "load data first")
	require.NoError(t, s.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	require.NoError(t, s.Profile(tinyConfig("emc2")))
	rep := rec.last(EvProfile).Data.(ProfileReport)
	assert.Equal(t, 3, rep.Steps)
	assert.Equal(t, tinyConfig("emc2").RunName(), rep.Name)
	require.Len(t, rep.Kernels, 1)
	assert.Equal(t, "conv3x3", rep.Kernels[0].Kernel)
	assert.Equal(t, 1, closed, "its backend is closed after")
	assert.Equal(t, Ready, s.State())

	plain := New(rec.emit, cpuOpen, Options{})
	require.NoError(t, plain.Load(Source{FS: tinyFiles(t, 0), Dir: "tiny"}))
	require.ErrorContains(t, plain.Profile(tinyConfig("emc2")), "the cpu backend cannot time its kernels")
}
