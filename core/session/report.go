package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/eval"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// observer turns the job's events into the page's; between steps it also makes the periodic
// embedding views and chain samples (the loop is not running then, so reading the device is safe).
type observer Session

func (o *observer) Started(run.Info) {
	s := (*Session)(o)
	s.emit(Event{Type: EvStarted, Data: s.runInfo()})
}

func (o *observer) Status(msg string) {
	(*Session)(o).emit(Event{Type: EvStatus, Data: StatusInfo{Message: msg}})
}

func (o *observer) Stepped(p run.Progress) {
	s := (*Session)(o)
	s.emit(Event{Type: EvProgress, Data: p})
	if s.watch.Load() >= 0 {
		s.sampleChain()
	}
	if s.job.T.Step-s.lastEmb >= s.opt.EmbedEvery {
		s.embedding()
	}
}

func (o *observer) Evaluated(r train.EvalReport) {
	s := (*Session)(o)
	s.emit(Event{Type: EvEval, Data: r})
	s.embedding()
}

func (o *observer) Floor(f train.Floor) {
	(*Session)(o).emit(Event{Type: EvFloor, Data: f})
}

func (o *observer) Checkpointed(info run.CheckpointInfo) {
	if info.Error != "" {
		(*Session)(o).emit(Event{Type: EvCheckpoint, Data: info})
	}
}

// saveCheckpoint hands a checkpoint to the page, which keeps it in its storage.
func (s *Session) saveCheckpoint(ck *train.Checkpoint) error {
	b, err := ck.Marshal()
	if err != nil {
		return err
	}
	info := run.CheckpointInfo{Step: ck.Step, Total: s.job.T.TotalSteps(), Data: ck.Config.Data, Name: ck.Config.RunName()}
	s.emit(Event{Type: EvCheckpoint, Data: info, Bytes: b})
	return nil
}

// Embedding accompanies EvEmbedding: held-out images projected on their first two principal
// components.
type Embedding struct {
	Step      int          `json:"step"`
	Points    [][2]float32 `json:"points"`
	Labels    []int32      `json:"labels"`
	Explained [2]float64   `json:"explained"` // variance share of each component
}

func (s *Session) embedding() {
	t := s.job.T
	s.lastEmb = t.Step
	te := s.job.Ev.Test
	n := min(s.opt.EmbedImages, te.N)
	if n < 2 {
		return
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	_, emb, err := t.Embedder().Embed(te, idx, augment.Config{}, 0)
	if err != nil {
		s.emit(Event{Type: "error", Data: map[string]string{"cmd": "embedding", "message": err.Error()}})
		return
	}
	proj, explained, err := eval.PCA2(emb, n, t.Arch.Proj)
	if err != nil {
		return // a diverged encoder (NaN) shows in the loss chart; the view just keeps its last picture
	}
	e := Embedding{Step: t.Step, Points: make([][2]float32, n), Explained: explained}
	for i := range n {
		e.Points[i] = [2]float32{proj[2*i], proj[2*i+1]}
	}
	if te.Labels != nil {
		e.Labels = te.Labels[:n]
	}
	s.emit(Event{Type: EvEmbedding, Data: e})
}

// ---- chain inspector ---------------------------------------------------------------------------

// ChainSample is one look at the watched chain.
type ChainSample struct {
	Step       int     `json:"step"`
	Epoch      float64 `json:"epoch"`
	State      int     `json:"state"`      // training index of the current negative (-1: none yet)
	Similarity float32 `json:"similarity"` // cosine similarity of anchor and negative now (plain views)
	Stored     float32 `json:"stored"`     // the stored score divided by β (the similarity when scored)
	Moved      bool    `json:"moved"`      // the state changed since the previous sample
	anchor     int
}

// ChainReport accompanies EvChain.
type ChainReport struct {
	Anchor      int           `json:"anchor"`
	AnchorLabel int32         `json:"anchor_label"`
	StateLabel  int32         `json:"state_label"`
	Samples     []ChainSample `json:"samples"`
	Moves       int           `json:"moves"` // samples at which the state had changed
	Error       string        `json:"error,omitempty"`
}

// Watch makes the chain inspector follow training image i (-1 stops it). While training, the chain
// is sampled at every progress report; otherwise call Inspect.
func (s *Session) Watch(i int) { s.watch.Store(int64(i)) }

// Inspect samples the watched chain now (not while training: the loop does it then).
func (s *Session) Inspect() error {
	if err := s.busy("inspect"); err != nil {
		return err
	}
	if s.job == nil {
		return errors.New("inspect: no run yet")
	}
	s.sampleChain()
	return nil
}

func (s *Session) sampleChain() {
	a := int(s.watch.Load())
	if a < 0 {
		return
	}
	t := s.job.T
	rep := ChainReport{Anchor: a, AnchorLabel: -1, StateLabel: -1}
	c, err := t.Chain(a)
	if err == nil && c.State >= t.N {
		err = fmt.Errorf("chain %d: state %d is not a training image", a, c.State)
	}
	if err != nil {
		rep.Error = err.Error()
		s.emit(Event{Type: EvChain, Data: rep})
		return
	}
	smp := ChainSample{Step: t.Step, Epoch: float64(t.Step) / float64(t.StepsPerEpoch()), State: c.State, Similarity: float32(math.NaN())}
	if c.State >= 0 {
		smp.Stored = c.Score / float32(t.Cfg.Beta)
		_, emb, err := t.Embedder().Embed(t.Data, []int{a, c.State}, augment.Config{}, 0)
		if err != nil {
			rep.Error = err.Error()
			s.emit(Event{Type: EvChain, Data: rep})
			return
		}
		P := t.Arch.Proj
		var dot float32
		for k := range P {
			dot += emb[k] * emb[P+k]
		}
		smp.Similarity = dot
	}
	if len(s.history) > 0 && s.history[0].anchor != a {
		s.history = nil // a new anchor starts a new history
	}
	smp.anchor = a
	if n := len(s.history); n > 0 {
		smp.Moved = s.history[n-1].State != smp.State
	}
	if n := len(s.history); n == 0 || s.history[n-1].Step != smp.Step {
		s.history = append(s.history, smp)
	}
	rep.Samples = s.history
	for _, h := range s.history {
		if h.Moved {
			rep.Moves++
		}
	}
	if l := t.Data.Labels; l != nil {
		rep.AnchorLabel = l[a]
		if c.State >= 0 {
			rep.StateLabel = l[c.State]
		}
	}
	// The page shows the two images; their pixels travel with the report.
	img := append([]byte(nil), t.Data.Image(a)...)
	if c.State >= 0 {
		img = append(img, t.Data.Image(c.State)...)
	}
	s.emit(Event{Type: EvChain, Data: rep, Bytes: img})
}

// ---- checkpoints and exports -------------------------------------------------------------------

// Restore loads a checkpoint into a new run and leaves it paused, or resumes it at once when resume
// is set. src, when given, is the checkpoint's data (the page's stored upload) and is loaded first;
// otherwise the loaded data must be the checkpoint's (its recorded spec and image count). The
// checkpoint is checked before anything changes, so a bad one leaves the session as it was.
func (s *Session) Restore(ctx context.Context, b []byte, src *Source, resume bool) error {
	if err := s.busy("restore"); err != nil {
		return err
	}
	ck, err := train.ParseCheckpoint(b)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if src != nil {
		if err := s.Load(*src); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if s.split == nil {
		return errors.New("restore: load the checkpoint's data first")
	}
	if ck.Config.Data != s.info.Spec {
		return fmt.Errorf("restore: the checkpoint was trained on %q, but the loaded data is %q", ck.Config.Data, s.info.Spec)
	}
	if err := s.newRun(ck.Config); err != nil {
		s.setState(Ready, "")
		return fmt.Errorf("restore: %w", err)
	}
	if err := s.job.Restore(ck); err != nil {
		s.dropRun()
		s.setState(Ready, "")
		return fmt.Errorf("restore: %w", err)
	}
	s.lastEmb = s.job.T.Step
	t := s.job.T
	s.emit(Event{Type: EvStarted, Data: s.runInfo()})
	s.embedding()
	if resume && !s.job.Done() {
		return s.run(ctx)
	}
	st, msg := Paused, fmt.Sprintf("restored at step %d of %d", t.Step, t.TotalSteps())
	if s.job.Done() {
		st = Done
	}
	s.setState(st, msg)
	return nil
}

// FileInfo accompanies EvFile.
type FileInfo struct {
	Name string `json:"name"`
	Mime string `json:"mime"`
}

// Export hands the page a file: "checkpoint", "safetensors" (the encoder's weights) or "csv" (the
// embeddings of every training and held-out image).
func (s *Session) Export(kind string) error {
	if err := s.busy("export"); err != nil {
		return err
	}
	switch kind {
	case "compare-report", "compare-csv":
		return s.exportCompare(kind)
	}
	if s.job == nil {
		return errors.New("export: no run yet")
	}
	t := s.job.T
	base := fmt.Sprintf("emc2-%s-step%d", t.Cfg.RunName(), t.Step)
	var buf bytes.Buffer
	var fi FileInfo
	switch kind {
	case "checkpoint":
		ck, err := s.job.Checkpoint()
		if err == nil {
			var b []byte
			b, err = ck.Marshal()
			buf.Write(b)
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fi = FileInfo{base + ".emc2ckpt", "application/octet-stream"}
	case "safetensors":
		ck, err := t.Snapshot()
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := ck.WriteSafetensors(&buf, t.Arch); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fi = FileInfo{base + ".safetensors", "application/octet-stream"}
	case "csv":
		var rows []train.EmbeddingRow
		for _, part := range []struct {
			name string
			d    *data.Dataset
		}{{"train", t.Data}, {"test", s.job.Data.Test}} {
			_, emb, err := t.Embedder().EmbedAll(part.d)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			P := t.Arch.Proj
			for i := range part.d.N {
				r := train.EmbeddingRow{Split: part.name, Index: i, Label: -1, Emb: emb[i*P : (i+1)*P]}
				if part.d.Labels != nil {
					r.Label = part.d.Labels[i]
					if int(r.Label) >= 0 && int(r.Label) < len(part.d.Classes) {
						r.Class = part.d.Classes[r.Label]
					}
				}
				rows = append(rows, r)
			}
		}
		if err := train.WriteEmbeddingsCSV(&buf, rows, t.Arch.Proj); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fi = FileInfo{base + "-embeddings.csv", "text/csv"}
	default:
		return fmt.Errorf("export %q: want checkpoint, safetensors, csv, compare-report or compare-csv", kind)
	}
	s.emit(Event{Type: EvFile, Data: fi, Bytes: buf.Bytes()})
	return nil
}

// exportCompare hands the page the last comparison's report.md or compare.csv.
func (s *Session) exportCompare(kind string) error {
	if len(s.cmp.Plan.Methods) == 0 {
		return errors.New("export: no comparison yet")
	}
	if kind == "compare-csv" {
		b, err := s.cmp.CSV()
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		s.emit(Event{Type: EvFile, Data: FileInfo{"emc2-compare.csv", "text/csv"}, Bytes: b})
		return nil
	}
	md := s.cmp.Markdown("emc2 compare — " + s.info.Name)
	s.emit(Event{Type: EvFile, Data: FileInfo{"emc2-compare.md", "text/markdown"}, Bytes: []byte(md)})
	return nil
}
