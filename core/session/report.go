package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/emc2ml/emc2/core/augment"
	"github.com/emc2ml/emc2/core/data"
	"github.com/emc2ml/emc2/core/eval"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/run"
	"github.com/emc2ml/emc2/core/train"
)

// observer turns the job's events into the page's; between steps it also makes the periodic
// embedding views and chain samples (the loop is not running then, so reading the device is safe).
type observer Session

func (o *observer) Started(run.Info) {
	s := (*Session)(o)
	s.emit(Event{Type: EvStarted, Data: s.runInfo()})
	if s.watch.Load() >= 0 && s.job.Cfg.Method.HasChains() {
		s.followChain() // so that the first step holding the image is traced too
	}
}

func (o *observer) Status(msg string) {
	(*Session)(o).emit(Event{Type: EvStatus, Data: StatusInfo{Message: msg}})
}

func (o *observer) Stepped(p run.Progress) {
	s := (*Session)(o)
	s.emit(Event{Type: EvProgress, Data: p})
	if s.watch.Load() >= 0 {
		s.followChain()
	}
	if s.job.T.Step-s.lastEmb >= s.opt.EmbedEvery {
		s.embedding()
	}
}

func (o *observer) Evaluated(r train.EvalReport) {
	s := (*Session)(o)
	s.emit(Event{Type: EvEval, Data: r})
	if r.Step == s.job.T.Step { // not the random-init evaluation, measured later
		s.embedding()
	}
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

// ChainVisit sums up one step in which the followed chain swept.
type ChainVisit struct {
	Step     int `json:"step"`
	Accepted int `json:"accepted"` // proposals accepted in the step's 2·2B decisions
	Recorded int `json:"recorded"` // decisions recorded into Ω (after burn-in; dropped ones excluded)
	State    int `json:"state"`    // training image of the state stored after the step (−1: none yet)
}

// ChainReport accompanies EvChain: every Metropolis–Hastings decision of the followed chain in the
// last step whose batch held its image, replayed from that step (train.Trainer.TraceStep), and a
// line per earlier visit. Bytes: the pixels of the images of Columns, in order.
type ChainReport struct {
	Anchor      int          `json:"anchor"`
	AnchorLabel int32        `json:"anchor_label"`
	Step        int          `json:"step"` // the traced step (−1: none yet)
	Epoch       float64      `json:"epoch"`
	Beta        float64      `json:"beta"`
	Replay      *mcmc.Replay `json:"replay,omitempty"`
	Columns     []int        `json:"columns"` // training image of each similarity column (2B views, then state images)
	Labels      []int32      `json:"labels"`  // their labels (−1: unlabeled)
	Visits      []ChainVisit `json:"visits"`  // every traced visit of this chain, oldest first
	Next        int          `json:"next"`    // the step whose batch holds the image next (−1: none before the end)
	Error       string       `json:"error,omitempty"`
}

// Watch makes the chain inspector follow training image i (-1 stops it). While training, the step
// that holds i is traced each epoch and reported; otherwise call Inspect.
func (s *Session) Watch(i int) { s.watch.Store(int64(i)) }

// Inspect reports the followed chain now (not while training: the loop does it then).
func (s *Session) Inspect() error {
	if err := s.busy("inspect"); err != nil {
		return err
	}
	if s.job == nil {
		return errors.New("inspect: no run yet")
	}
	s.followChain()
	return nil
}

// followChain reports a new trace of the followed chain, if one arrived, and asks the trainer to
// trace the next step that holds its image.
func (s *Session) followChain() {
	a := int(s.watch.Load())
	if a < 0 || s.job == nil {
		return
	}
	t := s.job.T
	rep := ChainReport{Anchor: a, AnchorLabel: -1, Step: -1, Next: -1, Beta: t.Cfg.Beta}
	fail := func(err error) {
		rep.Error = err.Error()
		s.emit(Event{Type: EvChain, Data: rep})
	}
	if !t.Cfg.Method.HasChains() {
		fail(fmt.Errorf("%s keeps no chains: only EMC² runs have Metropolis–Hastings chains to follow", t.Cfg.Method.Title()))
		return
	}
	if a >= t.N {
		fail(fmt.Errorf("anchor %d: want a training image in 0..%d", a, t.N-1))
		return
	}
	if s.followed != a {
		s.followed, s.visits, s.shown = a, nil, -1
	}
	if !t.TracePending() {
		next := t.StepWith(a)
		if next >= 0 {
			if err := t.TraceStep(next); err != nil {
				fail(err)
				return
			}
		}
	}
	rep.Next = t.StepWith(a)
	tr, err := t.LastTrace()
	if err != nil {
		fail(err)
		return
	}
	var chain *mcmc.Replay
	if tr != nil {
		for k := range tr.Chains {
			if int(tr.Chains[k].Image) == a {
				chain = &tr.Chains[k]
			}
		}
	}
	if chain != nil && tr.Step != s.shown {
		s.shown = tr.Step
		v := ChainVisit{Step: tr.Step, State: -1}
		if chain.After.Index != mcmc.NoState {
			v.State = int(chain.After.Index)
		}
		for _, d := range chain.Decisions {
			if d.Accepted {
				v.Accepted++
			}
			if d.Recorded && !d.Dropped {
				v.Recorded++
			}
		}
		s.visits = append(s.visits, v)
	}
	rep.Visits = s.visits
	if l := t.Data.Labels; l != nil {
		rep.AnchorLabel = l[a]
	}
	var img []byte
	if chain != nil {
		rep.Step, rep.Epoch, rep.Replay = tr.Step, float64(tr.Step)/float64(t.StepsPerEpoch()), chain
		B := len(tr.Batch)
		for c := 0; c < 2*B; c++ {
			rep.Columns = append(rep.Columns, tr.Batch[c%B])
		}
		for _, c := range tr.Chains {
			if c.Before.Index != mcmc.NoState && chain.Variant != mcmc.Paper.String() {
				rep.Columns = append(rep.Columns, int(c.Before.Index)) // the state images, re-scored
			} else if chain.Variant != mcmc.Paper.String() {
				rep.Columns = append(rep.Columns, int(c.Image))
			}
		}
		for _, i := range rep.Columns {
			lab := int32(-1)
			if t.Data.Labels != nil {
				lab = t.Data.Labels[i]
			}
			rep.Labels = append(rep.Labels, lab)
			img = append(img, t.Data.Image(i)...)
		}
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
