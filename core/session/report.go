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
	"github.com/emc2ml/emc2/core/train"
)

// observer turns the training loop's callbacks into events; between steps it also takes the
// periodic checkpoints, embedding views and chain samples (the loop is not running then, so reading
// the device is safe).
type observer Session

// Progress accompanies EvProgress.
type Progress struct {
	train.Progress
	Total int `json:"total"`
}

func (o *observer) Started(train.RunInfo) {}

func (o *observer) Stepped(p train.Progress) {
	s := (*Session)(o)
	s.emit(Event{Type: EvProgress, Data: Progress{Progress: p, Total: s.t.TotalSteps()}})
	if s.watch.Load() >= 0 {
		s.sampleChain()
	}
	if s.t.Step-s.lastEmb >= s.opt.EmbedEvery {
		s.embedding()
	}
	if s.t.Step-s.lastCk >= s.opt.CheckpointEvery {
		s.checkpoint()
	}
}

func (o *observer) Evaluated(r train.EvalReport) {
	s := (*Session)(o)
	s.emit(Event{Type: EvEval, Data: r})
	s.embedding()
	if !s.floor && r.Labeled {
		// The raw-pixel floor costs one probe on pixels; it is measured once per run, after the
		// first epoch, so it does not delay the first step.
		if f, err := s.ev.RawPixelFloor(context.Background()); err == nil {
			s.emit(Event{Type: EvFloor, Data: f})
		}
		s.floor = true
	}
}

// CheckpointInfo accompanies EvCheckpoint.
type CheckpointInfo struct {
	Step  int    `json:"step"`
	Total int    `json:"total"`
	Data  string `json:"data"` // the dataset spec the checkpoint belongs to
	Error string `json:"error,omitempty"`
}

// checkpoint snapshots the run and hands the file to the page (which keeps it in its storage).
func (s *Session) checkpoint() {
	s.lastCk = s.t.Step
	info := CheckpointInfo{Step: s.t.Step, Total: s.t.TotalSteps(), Data: s.info.Spec}
	b, err := s.checkpointBytes()
	if err != nil {
		info.Error = err.Error()
	}
	s.emit(Event{Type: EvCheckpoint, Data: info, Bytes: b})
}

func (s *Session) checkpointBytes() ([]byte, error) {
	ck, err := s.t.Snapshot()
	if err != nil {
		return nil, err
	}
	return ck.Marshal()
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
	s.lastEmb = s.t.Step
	te := s.ev.Test
	n := min(s.opt.EmbedImages, te.N)
	if n < 2 {
		return
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	_, emb := s.ev.Features(s.t, te, idx, augment.Config{}, 0)
	proj, explained, err := eval.PCA2(emb, n, s.t.Arch.Proj)
	if err != nil {
		return // a diverged encoder (NaN) shows in the loss chart; the view just keeps its last picture
	}
	e := Embedding{Step: s.t.Step, Points: make([][2]float32, n), Explained: explained}
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
	if s.t == nil {
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
	rep := ChainReport{Anchor: a, AnchorLabel: -1, StateLabel: -1}
	c, err := s.t.Chain(a)
	if err != nil {
		rep.Error = err.Error()
		s.emit(Event{Type: EvChain, Data: rep})
		return
	}
	smp := ChainSample{Step: s.t.Step, Epoch: float64(s.t.Step) / float64(s.t.StepsPerEpoch()), State: c.State, Similarity: float32(math.NaN())}
	if c.State >= 0 {
		smp.Stored = c.Score / float32(s.t.Cfg.Beta)
		_, emb := s.ev.Features(s.t, s.t.Data, []int{a, c.State}, augment.Config{}, 0)
		P := s.t.Arch.Proj
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
	if l := s.t.Data.Labels; l != nil {
		rep.AnchorLabel = l[a]
		if c.State >= 0 {
			rep.StateLabel = l[c.State]
		}
	}
	// The page shows the two images; their pixels travel with the report.
	img := append([]byte(nil), s.t.Data.Image(a)...)
	if c.State >= 0 {
		img = append(img, s.t.Data.Image(c.State)...)
	}
	s.emit(Event{Type: EvChain, Data: rep, Bytes: img})
}

// ---- checkpoints and exports -------------------------------------------------------------------

// Restore loads a checkpoint into a new run on the loaded data and leaves it paused. The checkpoint
// must belong to this data (its recorded spec and image count).
func (s *Session) Restore(b []byte) error {
	if err := s.busy("restore"); err != nil {
		return err
	}
	if s.split == nil {
		return errors.New("restore: load the checkpoint's data first")
	}
	ck, err := train.ParseCheckpoint(b)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if ck.Config.Data != s.info.Spec {
		return fmt.Errorf("restore: the checkpoint was trained on %q, but the loaded data is %q", ck.Config.Data, s.info.Spec)
	}
	if err := s.newRun(ck.Config); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := s.t.Restore(ck); err != nil {
		s.dropRun()
		return fmt.Errorf("restore: %w", err)
	}
	s.lastCk, s.lastEmb = s.t.Step, s.t.Step
	s.emit(Event{Type: EvStarted, Data: s.runInfo()})
	st, msg := Paused, fmt.Sprintf("restored at step %d of %d", s.t.Step, s.t.TotalSteps())
	if s.t.Step >= s.t.TotalSteps() {
		st = Done
	}
	s.embedding()
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
	if s.t == nil {
		return errors.New("export: no run yet")
	}
	base := fmt.Sprintf("emc2-%s-step%d", s.t.Cfg.Method, s.t.Step)
	var buf bytes.Buffer
	var fi FileInfo
	switch kind {
	case "checkpoint":
		b, err := s.checkpointBytes()
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		buf.Write(b)
		fi = FileInfo{base + ".emc2ckpt", "application/octet-stream"}
	case "safetensors":
		ck, err := s.t.Snapshot()
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := ck.WriteSafetensors(&buf, s.t.Arch); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fi = FileInfo{base + ".safetensors", "application/octet-stream"}
	case "csv":
		var rows []train.EmbeddingRow
		for _, part := range []struct {
			name string
			d    *data.Dataset
		}{{"train", s.t.Data}, {"test", s.split.Test}} {
			idx := make([]int, part.d.N)
			for i := range idx {
				idx[i] = i
			}
			_, emb := s.ev.Features(s.t, part.d, idx, augment.Config{}, 0)
			P := s.t.Arch.Proj
			for i := range idx {
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
		if err := train.WriteEmbeddingsCSV(&buf, rows, s.t.Arch.Proj); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fi = FileInfo{base + "-embeddings.csv", "text/csv"}
	default:
		return fmt.Errorf("export %q: want checkpoint, safetensors or csv", kind)
	}
	s.emit(Event{Type: EvFile, Data: fi, Bytes: buf.Bytes()})
	return nil
}
