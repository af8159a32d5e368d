// Package session is the browser trainer's engine. It holds one dataset and at most one training
// run (a core/run Job, which owns the run's life), takes the page's commands, and reports what happens
// as events. It knows nothing of JavaScript: wasm/ forwards the page's messages to it and its events
// back, and the tests drive it natively on the CPU backend. The run's history lives in the job and in
// its checkpoints; the page only draws what the events say.
//
// Commands run one at a time on the caller's goroutine (Load, Start, Resume, Restore, Inspect,
// Export); Pause, Stop and Watch may be called from anywhere while a run is going, because they only
// leave a note for the training loop, which acts on it between steps.
package session

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/compare"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// Event is one report to the page: a type, a JSON-encodable payload and, for files and pixels, bytes.
type Event struct {
	Type  string
	Data  any
	Bytes []byte
}

// Event types.
const (
	EvMethods    = "methods"    // []train.MethodInfo, once, when the session is made
	EvData       = "data"       // DataInfo; Bytes: preview pixels
	EvStarted    = "started"    // RunInfo (with the run's history so far: the page redraws from it)
	EvStatus     = "status"     // StatusInfo: what the engine is doing now
	EvProgress   = "progress"   // Progress
	EvEval       = "eval"       // train.EvalReport
	EvFloor      = "floor"      // train.Floor
	EvEmbedding  = "embedding"  // Embedding
	EvChain      = "chain"      // ChainReport
	EvCheckpoint = "checkpoint" // run.CheckpointInfo; Bytes: the checkpoint file
	EvFile       = "file"       // FileInfo; Bytes: the file
	EvState      = "state"      // StateInfo
	EvProfile    = "profile"    // ProfileReport: where a GPU training step spends its time
)

// State is where the session stands.
type State string

// States.
const (
	Empty   State = "empty"   // no data yet
	Ready   State = "ready"   // data loaded, no run
	Running State = "running" // training
	Paused  State = "paused"  // a run that can resume (also after Restore)
	Done    State = "done"    // a run that ended (all epochs, or stopped)
)

// Options are the page's cadences.
type Options struct {
	CheckpointEvery int // steps between checkpoints (also taken at each epoch's end, on pause and at the end); 0 = 200
	EmbedEvery      int // steps between embedding views; 0 = 100
	EmbedImages     int // held-out images in the embedding view; 0 = 500
}

// StateInfo accompanies EvState.
type StateInfo struct {
	State   State  `json:"state"`
	Step    int    `json:"step"`
	Total   int    `json:"total"`
	Message string `json:"message,omitempty"`
}

// Session is the engine behind one page.
type Session struct {
	emit func(Event)
	open func() (backend.Backend, error)
	opt  Options

	be    backend.Backend
	split *data.Split // the loaded data, prepared (run.Prepare)
	info  DataInfo
	job   *run.Job

	mu     sync.Mutex
	state  State
	cancel context.CancelFunc
	stop   bool // the cancellation was Stop, not Pause

	watch    atomic.Int64 // training image the chain inspector follows, -1 for none
	followed int          // the anchor the visits below belong to
	visits   []ChainVisit // the followed chain's traced visits
	shown    int          // the step of the last trace reported
	lastEmb  int
	cmp      compare.Report // the last Compare's report, for exports
}

// New returns a session that reports through emit and opens its compute backend with open when
// the first run starts (so a page without a GPU can still load and preview data).
func New(emit func(Event), open func() (backend.Backend, error), opt Options) *Session {
	if opt.CheckpointEvery <= 0 {
		opt.CheckpointEvery = 200
	}
	if opt.EmbedEvery <= 0 {
		opt.EmbedEvery = 100
	}
	if opt.EmbedImages <= 0 {
		opt.EmbedImages = 500
	}
	s := &Session{emit: emit, open: open, opt: opt, state: Empty}
	s.watch.Store(-1)
	emit(Event{Type: EvMethods, Data: train.MethodTable()})
	return s
}

// State returns the current state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *Session) setState(st State, msg string) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
	info := StateInfo{State: st, Message: msg}
	if s.job != nil {
		info.Step, info.Total = s.job.T.Step, s.job.T.TotalSteps()
	}
	s.emit(Event{Type: EvState, Data: info})
}

// busy refuses commands that would disturb a running training loop.
func (s *Session) busy(what string) error {
	if s.State() == Running {
		return fmt.Errorf("%s: pause or stop the training first", what)
	}
	return nil
}

// ---- data -------------------------------------------------------------------------------------

// Source is where Load takes its data from: the embedded default, or a folder of files.
type Source struct {
	Default   bool
	FS        fs.FS  // the user's files (images already decoded by the page, IDX, CIFAR-10, STL-10)
	Dir       string // the folder of FS that holds the dataset
	ImageSize int    // side of the square images folders are resized to (0 = 32)
}

// DataInfo describes the loaded dataset (EvData).
type DataInfo struct {
	Spec       string     `json:"spec"` // what checkpoints record as their data: "default" or "upload:NAME#CRC"
	Name       string     `json:"name"`
	Train      int        `json:"train"`
	Test       int        `json:"test"`
	HeldOut    int        `json:"held_out"` // test images taken from the training files (no test split given)
	H          int        `json:"h"`
	W          int        `json:"w"`
	C          int        `json:"c"`
	Classes    []string   `json:"classes"`
	Labeled    bool       `json:"labeled"`
	Bytes      int        `json:"bytes"` // pixel bytes in memory
	Skipped    []Skip     `json:"skipped"`
	SkipCount  int        `json:"skipped_count"`
	Preview    int        `json:"preview"` // images in the preview (Event.Bytes holds their pixels)
	PreviewLab []int32    `json:"preview_labels"`
	Scale      ScaleCheck `json:"scale"`
}

// Skip is one file left out, and why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// ScaleCheck says whether the data fits the adapter the session runs on.
type ScaleCheck struct {
	MaxBindingBytes uint64 `json:"max_binding_bytes"` // 0 until a backend is open
	Fits            bool   `json:"fits"`
	Why             string `json:"why,omitempty"`
}

const (
	previewImages = 48
	maxSkipList   = 50
)

// Load replaces the dataset. On any error the previous dataset stays as it was.
func (s *Session) Load(src Source) error {
	if err := s.busy("load data"); err != nil {
		return err
	}
	var (
		split   *data.Split
		skipped []data.Skipped
		err     error
		spec    = "default"
	)
	if src.Default {
		split, err = data.Default()
	} else {
		if src.FS == nil {
			return errors.New("load data: no files")
		}
		split, skipped, err = data.OpenFS(src.FS, src.Dir, data.Options{Folder: data.FolderOptions{Size: src.ImageSize}})
	}
	if err != nil {
		return fmt.Errorf("load data: %w", err)
	}
	held, err := run.Prepare(split)
	if err != nil {
		return fmt.Errorf("load data: %w", err)
	}
	if !src.Default {
		h := crc32.NewIEEE()
		for _, d := range []*data.Dataset{split.Train, split.Test} {
			h.Write(d.Pix)
			for _, l := range d.Labels {
				h.Write([]byte{byte(l), byte(l >> 8)})
			}
		}
		spec = fmt.Sprintf("upload:%s#%08x", split.Train.Name, h.Sum32())
	}
	tr := split.Train
	info := DataInfo{Spec: spec, Name: tr.Name, Train: tr.N, Test: split.Test.N, HeldOut: held, H: tr.H, W: tr.W, C: tr.C,
		Classes: tr.Classes, Labeled: tr.Labeled() && split.Test.Labeled(), Bytes: len(tr.Pix) + len(split.Test.Pix),
		SkipCount: len(skipped), Preview: min(previewImages, tr.N)}
	for _, k := range skipped[:min(len(skipped), maxSkipList)] {
		info.Skipped = append(info.Skipped, Skip{k.Path, k.Reason})
	}
	if tr.Labels != nil {
		info.PreviewLab = tr.Labels[:info.Preview]
	}
	s.split, s.info = split, info
	s.dropRun()
	s.info.Scale = s.scaleCheck()
	s.emit(Event{Type: EvData, Data: s.info, Bytes: tr.Pix[:info.Preview*tr.ImageSize()]})
	s.setState(Ready, "")
	return nil
}

// scaleCheck compares the dataset with the adapter's binding limit, when a backend is open.
func (s *Session) scaleCheck() ScaleCheck {
	c := ScaleCheck{Fits: true}
	lim, ok := s.be.(backend.Limited)
	if s.be == nil || !ok {
		return c
	}
	c.MaxBindingBytes = lim.MaxBindingBytes()
	if n := uint64(len(s.split.Train.Pix)); n > c.MaxBindingBytes {
		c.Fits = false
		c.Why = fmt.Sprintf("the training images need %s in one GPU buffer, but this adapter binds at most %s; use fewer images (train subset) or a smaller image size",
			human(n), human(c.MaxBindingBytes))
	}
	return c
}

// human writes a byte count in KiB or MiB.
func human(n uint64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// dropRun forgets the current run (new data or a new start) and closes its backend, which frees
// all its device memory (a paused run was checkpointed when it paused); the next run opens a fresh one.
func (s *Session) dropRun() {
	if s.job != nil && s.be != nil {
		s.be.Close()
		s.be = nil
	}
	s.job, s.visits, s.followed, s.shown = nil, nil, -1, -1
}

// ---- runs -------------------------------------------------------------------------------------

// RunInfo accompanies EvStarted.
type RunInfo struct {
	run.Info
	Data    DataInfo    `json:"data"`
	History run.History `json:"history"`
}

// StatusInfo accompanies EvStatus.
type StatusInfo struct {
	Message string `json:"message"`
}

func (s *Session) backend() (backend.Backend, error) {
	if s.be == nil {
		be, err := s.open()
		if err != nil {
			return nil, err
		}
		s.be = be
		s.info.Scale = s.scaleCheck()
	}
	return s.be, nil
}

// Warm opens the compute backend ahead of the first run — on a GPU: the device and every compiled
// kernel — so that pressing Train starts training instead of compiling. The page's engine calls it
// after each load, while the user looks at the data. It does nothing without data or with a backend
// already open, and says what it does on the status line; when the data does not fit the adapter it
// says so now rather than at Train.
func (s *Session) Warm() error {
	if err := s.busy("prepare the backend"); err != nil || s.split == nil || s.be != nil {
		return err
	}
	s.emit(Event{Type: EvStatus, Data: StatusInfo{Message: "preparing the compute backend (compiling the GPU kernels)"}})
	if _, err := s.backend(); err != nil {
		return fmt.Errorf("prepare the backend: %w", err)
	}
	s.setState(s.State(), "Ready to train.")
	if !s.info.Scale.Fits {
		return errors.New(s.info.Scale.Why)
	}
	return nil
}

// profileSteps is how many training steps Profile times.
const profileSteps = 3

// ProfileReport accompanies EvProfile: each GPU kernel's dispatches, wall time and (with timestamp
// queries) GPU time per training step of a configuration, slowest first.
type ProfileReport struct {
	Name  string `json:"name"` // the run name ("emc2-cached")
	Batch int    `json:"batch"`
	Steps int    `json:"steps"`
	// Timestamps: the kernels were also timed on the GPU's clock (KernelRow.GPUMs).
	Timestamps bool            `json:"timestamps"`
	Kernels    []run.KernelRow `json:"kernels"`
}

// Profile times each GPU kernel over a few training steps of cfg on the loaded data (run.Profile)
// and reports them (EvProfile). It trains on a backend of its own, closed after, so a paused run
// and the warmed backend are untouched. A backend that cannot time its kernels (the CPU) is an error.
func (s *Session) Profile(cfg train.Config) error {
	if err := s.busy("profile"); err != nil {
		return err
	}
	if s.split == nil {
		return errors.New("profile: load data first")
	}
	be, err := s.open()
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer be.Close()
	p, ok := be.(backend.Profiler)
	if !ok {
		return fmt.Errorf("profile: the %s backend cannot time its kernels (the GPU backend can)", be.Name())
	}
	s.emit(Event{Type: EvStatus, Data: StatusInfo{Message: fmt.Sprintf("timing each GPU kernel over %d training steps", profileSteps)}})
	t, err := train.NewTrainer(be, cfg, run.Select(s.split, cfg).Train)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	t.TrainStep() // a warm-up step: uploads, kernels compiled on first use
	if _, err := t.ReadStats(); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	rows, err := run.Profile(p, t, profileSteps)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	ts, _ := be.(backend.Timestamper)
	s.emit(Event{Type: EvProfile, Data: ProfileReport{Name: cfg.RunName(), Batch: cfg.Batch, Steps: profileSteps,
		Timestamps: ts != nil && ts.Timestamps(), Kernels: rows}})
	if s.State() == Ready {
		s.setState(Ready, "Ready to train.")
	}
	return nil
}

// Start begins a new run with cfg on the loaded data and trains until the run ends or is paused
// or stopped. cfg.Data is set to the dataset's spec.
func (s *Session) Start(ctx context.Context, cfg train.Config) error {
	if err := s.busy("start"); err != nil {
		return err
	}
	if s.split == nil {
		return errors.New("start: load data first")
	}
	cfg.Data = s.info.Spec
	if err := s.newRun(cfg); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return s.run(ctx)
}

// newRun builds the job for cfg on a fresh backend (see dropRun).
func (s *Session) newRun(cfg train.Config) error {
	s.dropRun()
	be, err := s.backend()
	if err != nil {
		return err
	}
	if sc := s.scaleCheck(); !sc.Fits {
		return errors.New(sc.Why)
	}
	job, err := run.New(be, cfg, s.split, run.Options{CheckpointEvery: s.opt.CheckpointEvery, EveryEpoch: true, Save: s.saveCheckpoint})
	if err != nil {
		return err
	}
	s.job, s.lastEmb = job, 0
	return nil
}

// TrainingData is what the current run trains (Train) and is evaluated on (Test), or nil without a run.
func (s *Session) TrainingData() *data.Split {
	if s.job == nil {
		return nil
	}
	return s.job.Data
}

func (s *Session) runInfo() RunInfo {
	return RunInfo{Info: s.job.Info(), Data: s.info, History: s.job.History}
}

// Resume continues a paused run.
func (s *Session) Resume(ctx context.Context) error {
	if s.State() != Paused || s.job == nil {
		return errors.New("resume: no paused run")
	}
	return s.run(ctx)
}

// Pause asks the running loop to stop after the current step and checkpoint.
func (s *Session) Pause() { s.interrupt(false) }

// Stop asks the running loop to end the run: it evaluates what was trained and checkpoints.
func (s *Session) Stop() { s.interrupt(true) }

func (s *Session) interrupt(stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.stop = stop
		s.cancel()
	}
}

// interruptible returns a context that Pause and Stop cancel, until done is called.
func (s *Session) interruptible(parent context.Context) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(parent)
	s.mu.Lock()
	s.cancel, s.stop = cancel, false
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		cancel()
	}
}

// run trains until the end, a pause or a stop, and settles the state: done, paused, or stopped
// (which is done, after the job's stop evaluation). A real error leaves the run paused, so nothing
// trained is lost.
func (s *Session) run(parent context.Context) error {
	ctx, done := s.interruptible(parent)
	defer done()
	s.setState(Running, "")
	obs := (*observer)(s)
	err := s.job.Run(ctx, obs)
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	t := s.job.T
	switch {
	case err == nil:
		s.setState(Done, "training finished")
		return nil
	case errors.Is(err, context.Canceled) && ctx.Err() != nil && stop:
		if err := s.job.Stop(context.Background(), obs); err != nil {
			s.setState(Paused, "error: "+err.Error())
			return err
		}
		s.setState(Done, fmt.Sprintf("stopped at step %d of %d", t.Step, t.TotalSteps()))
		return nil
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		s.setState(Paused, fmt.Sprintf("paused at step %d of %d", t.Step, t.TotalSteps()))
		return nil
	default:
		s.setState(Paused, "error: "+err.Error())
		return err
	}
}
