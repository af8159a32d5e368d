package compare

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/train"
)

// Stat is a mean and its seed-to-seed standard deviation (sample, n − 1; 0 for one seed).
type Stat struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	N    int     `json:"n"`
}

func stat(xs []float64) Stat {
	s := Stat{N: len(xs)}
	if s.N == 0 {
		return s
	}
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(s.N)
	if s.N > 1 {
		for _, x := range xs {
			s.SD += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(s.SD / float64(s.N-1))
	}
	return s
}

// Row is one method at one batch size, over its seeds.
type Row struct {
	Method  string `json:"method"`
	Batch   int    `json:"batch"`
	Labeled bool   `json:"labeled"`
	Probe   Stat   `json:"probe_test_acc"`
	KNN1    Stat   `json:"knn1_acc"`
	KNN10   Stat   `json:"knn10_acc"`
	Global  Stat   `json:"global_loss"`
	Align   Stat   `json:"alignment"`
	Uniform Stat   `json:"uniformity"`
	EffRank Stat   `json:"eff_rank"`
	WallS   Stat   `json:"wall_s"`
	TrainS  Stat   `json:"train_s"`
	StepMs  Stat   `json:"median_step_ms"`
	ImgPerS Stat   `json:"images_per_sec"`
	// DeviceMiB is the memory the backend allocated for the run (images included); StateBytes the
	// method's own state per training image.
	DeviceMiB  float64 `json:"device_mib"`
	StateBytes float64 `json:"state_bytes_per_image"`
	StepRatio  float64 `json:"step_ratio_to_simclr"` // median step time ÷ SimCLR's at the same batch (0 without SimCLR)
}

// Report is a plan's table, its floors and its reading: what `emc2 compare` writes as report.md,
// compare.csv and compare.json, and what the page's Compare mode shows.
type Report struct {
	Plan    Plan       `json:"plan"`
	Floors  []FloorRow `json:"floors"`
	Rows    []Row      `json:"rows"`
	Reading string     `json:"reading"`
	Results []Result   `json:"results"`
	Missing []Key      `json:"missing,omitempty"` // runs of the plan not finished yet
}

// FloorRow is a floor over the plan's seeds (the random-init encoder depends on the seed).
type FloorRow struct {
	Name  string `json:"name"`
	Probe Stat   `json:"probe_test_acc"`
	KNN1  Stat   `json:"knn1_acc"`
	KNN10 Stat   `json:"knn10_acc"`
}

// Build makes the report of a plan from the results it has (the plan may be unfinished).
func Build(p Plan, results []Result) Report {
	r := Report{Plan: p, Results: results}
	for _, k := range p.Runs() {
		if !has(results, k) {
			r.Missing = append(r.Missing, k)
		}
	}
	r.Floors = floors(p, results)
	for _, b := range p.Batches {
		var simclrMs float64
		for _, m := range p.Methods {
			row, ok := buildRow(m, b, results)
			if !ok {
				continue
			}
			if m == train.SimCLR.String() {
				simclrMs = row.StepMs.Mean
			}
			r.Rows = append(r.Rows, row)
		}
		for i := range r.Rows {
			if r.Rows[i].Batch == b {
				if simclrMs > 0 {
					r.Rows[i].StepRatio = r.Rows[i].StepMs.Mean / simclrMs
				}
			}
		}
	}
	r.Reading = reading(r)
	return r
}

func buildRow(method string, batch int, results []Result) (Row, bool) {
	var rs []Result
	for _, x := range results {
		if x.Method == method && x.Batch == batch {
			rs = append(rs, x)
		}
	}
	if len(rs) == 0 {
		return Row{}, false
	}
	col := func(f func(Result) float64) Stat {
		xs := make([]float64, len(rs))
		for i, x := range rs {
			xs[i] = f(x)
		}
		return stat(xs)
	}
	row := Row{Method: method, Batch: batch, Labeled: rs[0].Summary.Final.Labeled,
		Probe:      col(func(x Result) float64 { return x.Summary.Final.ProbeTest }),
		KNN1:       col(func(x Result) float64 { return x.Summary.Final.KNN1 }),
		KNN10:      col(func(x Result) float64 { return x.Summary.Final.KNN10 }),
		Global:     col(func(x Result) float64 { return x.Summary.Final.GlobalLoss }),
		Align:      col(func(x Result) float64 { return x.Summary.Final.Alignment }),
		Uniform:    col(func(x Result) float64 { return x.Summary.Final.Uniformity }),
		EffRank:    col(func(x Result) float64 { return x.Summary.Final.EffRank }),
		WallS:      col(func(x Result) float64 { return x.Summary.WallSecs }),
		TrainS:     col(func(x Result) float64 { return x.Summary.TrainSecs }),
		StepMs:     col(func(x Result) float64 { return x.Summary.StepMs }),
		ImgPerS:    col(func(x Result) float64 { return x.Summary.ImgPerSec }),
		DeviceMiB:  float64(rs[0].Summary.DeviceBytes) / (1 << 20),
		StateBytes: rs[0].Summary.StateBytesPerImage,
	}
	return row, true
}

// floors averages each floor over the seeds: the raw-pixel floor is the same for every run, the
// random-init floor is the same for every run of a seed.
func floors(p Plan, results []Result) []FloorRow {
	var out []FloorRow
	for _, name := range []string{train.FloorRawPixels, train.FloorRandomInit} {
		var pr, k1, k10 []float64
		for _, s := range p.Seeds {
			for _, x := range results {
				if x.Seed != s {
					continue
				}
				if f, ok := x.Summary.Floor(name); ok {
					pr, k1, k10 = append(pr, f.ProbeTest), append(k1, f.KNN1), append(k10, f.KNN10)
					break
				}
			}
		}
		if len(pr) > 0 {
			out = append(out, FloorRow{Name: name, Probe: stat(pr), KNN1: stat(k1), KNN10: stat(k10)})
		}
	}
	return out
}

// real says whether a difference of means exceeds twice its standard error over seeds, and how to
// say so; with one seed per side the spread is unknown.
func real(a, b Stat) (bool, string) {
	if a.N < 2 || b.N < 2 {
		return false, "cannot be called: with one seed per method the seed-to-seed spread is unknown"
	}
	se := math.Sqrt(a.SD*a.SD/float64(a.N) + b.SD*b.SD/float64(b.N))
	d := math.Abs(a.Mean - b.Mean)
	if d > 2*se {
		return true, fmt.Sprintf("is more than twice its standard error over seeds (%s), a real difference", seStr(se, a))
	}
	return false, fmt.Sprintf("is within twice its standard error over seeds (%s), so not a real difference at %d seeds", seStr(se, a), min(a.N, b.N))
}

// reading is the report's paragraph: per batch size, which method is best and whether it is
// distinguishable from SimCLR, what it costs, and the small-batch question.
func reading(r Report) string {
	if len(r.Rows) == 0 {
		return "No run has finished yet."
	}
	var sb strings.Builder
	labeled := r.Rows[0].Labeled
	metric, better := "linear-probe accuracy", func(a, b Row) bool { return a.Probe.Mean > b.Probe.Mean }
	val := func(x Row) Stat { return x.Probe }
	if !labeled {
		metric, better = "held-out global loss (no labels)", func(a, b Row) bool { return a.Global.Mean < b.Global.Mean }
		val = func(x Row) Stat { return x.Global }
	}
	fmtv := func(s Stat) string {
		if labeled {
			if s.N > 1 {
				return fmt.Sprintf("%.1f %% ± %.1f", 100*s.Mean, 100*s.SD)
			}
			return fmt.Sprintf("%.1f %%", 100*s.Mean)
		}
		if s.N > 1 {
			return fmt.Sprintf("%.3f ± %.3f", s.Mean, s.SD)
		}
		return fmt.Sprintf("%.3f", s.Mean)
	}
	fmt.Fprintf(&sb, "Ranked by %s at the end of training", metric)
	if r.Plan.Budget > 0 {
		fmt.Fprintf(&sb, " (each run had %v of training time)", budget(r.Plan))
	} else {
		fmt.Fprintf(&sb, " (each run trained %s)", plural(r.Plan.Base.Epochs, "epoch"))
	}
	sb.WriteString(". ")
	for _, b := range r.Plan.Batches {
		var rows []Row
		for _, x := range r.Rows {
			if x.Batch == b {
				rows = append(rows, x)
			}
		}
		if len(rows) == 0 {
			continue
		}
		best := rows[0]
		for _, x := range rows[1:] {
			if better(x, best) {
				best = x
			}
		}
		fmt.Fprintf(&sb, "At B = %d, %s leads with %s", b, best.Method, fmtv(val(best)))
		for _, x := range rows {
			if x.Method == train.SimCLR.String() && x.Method != best.Method {
				_, why := real(val(best), val(x))
				fmt.Fprintf(&sb, " against SimCLR's %s: the gap of %s %s", fmtv(val(x)), gap(val(best), val(x), labeled), why)
			}
		}
		if best.StepRatio > 0 && best.Method != train.SimCLR.String() {
			fmt.Fprintf(&sb, "; its median step takes %.2f× SimCLR's", best.StepRatio)
		}
		if best.StateBytes > 0 {
			fmt.Fprintf(&sb, " and it keeps %.0f bytes of state per training image", best.StateBytes)
		}
		sb.WriteString(". ")
	}
	if len(r.Plan.Batches) > 1 {
		small, large := slices.Min(r.Plan.Batches), slices.Max(r.Plan.Batches)
		var bestSmall, simLarge *Row
		for i := range r.Rows {
			x := &r.Rows[i]
			if x.Batch == small && x.Method != train.SimCLR.String() && (bestSmall == nil || better(*x, *bestSmall)) {
				bestSmall = x
			}
			if x.Batch == large && x.Method == train.SimCLR.String() {
				simLarge = x
			}
		}
		if bestSmall != nil && simLarge != nil {
			verb := "falls short of"
			if !better(*simLarge, *bestSmall) {
				verb = "matches or beats"
			}
			fmt.Fprintf(&sb, "The small-batch question: the best other method at B = %d (%s, %s) %s SimCLR at B = %d (%s). ",
				small, bestSmall.Method, fmtv(val(*bestSmall)), verb, large, fmtv(val(*simLarge)))
		}
	}
	for _, f := range r.Floors {
		if f.Name == train.FloorRawPixels && labeled {
			fmt.Fprintf(&sb, "For scale: a linear probe on raw pixels reaches %s.", fmtv(f.Probe))
		}
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(&sb, " (%d of %d runs are not finished yet.)", len(r.Missing), len(r.Plan.Runs()))
	}
	return strings.TrimSpace(sb.String())
}

// seStr writes a standard error in the unit of its metric (accuracy points, or loss).
func seStr(se float64, a Stat) string {
	if a.Mean <= 1 && a.Mean >= 0 {
		return fmt.Sprintf("%.1f points", 100*se)
	}
	return fmt.Sprintf("%.3f", se)
}

func gap(a, b Stat, labeled bool) string {
	if labeled {
		return fmt.Sprintf("%.1f points", 100*math.Abs(a.Mean-b.Mean))
	}
	return fmt.Sprintf("%.3f", math.Abs(a.Mean-b.Mean))
}

// Columns of the table, in order; CSV and Markdown share them.
var Columns = []string{"method", "batch", "seeds", "probe", "probe_sd", "knn1", "knn1_sd", "knn10", "knn10_sd",
	"global_loss", "global_loss_sd", "alignment", "uniformity", "eff_rank", "wall_s", "train_s", "median_step_ms",
	"images_per_s", "step_ratio_simclr", "device_mib", "state_bytes_per_image"}

func (x Row) cells() []string {
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	ratio := ""
	if x.StepRatio > 0 {
		ratio = f(x.StepRatio, 3)
	}
	return []string{x.Method, strconv.Itoa(x.Batch), strconv.Itoa(x.Probe.N),
		f(x.Probe.Mean, 4), f(x.Probe.SD, 4), f(x.KNN1.Mean, 4), f(x.KNN1.SD, 4), f(x.KNN10.Mean, 4), f(x.KNN10.SD, 4),
		f(x.Global.Mean, 4), f(x.Global.SD, 4), f(x.Align.Mean, 4), f(x.Uniform.Mean, 4), f(x.EffRank.Mean, 2),
		f(x.WallS.Mean, 1), f(x.TrainS.Mean, 1), f(x.StepMs.Mean, 2), f(x.ImgPerS.Mean, 1), ratio,
		f(x.DeviceMiB, 1), f(x.StateBytes, 1)}
}

// CSV is the table, one row per method and batch size, floors first (method "floor: NAME").
func (r Report) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(Columns)
	for _, f := range r.Floors {
		row := make([]string, len(Columns))
		row[0], row[2] = "floor: "+f.Name, strconv.Itoa(f.Probe.N)
		row[3], row[4] = strconv.FormatFloat(f.Probe.Mean, 'f', 4, 64), strconv.FormatFloat(f.Probe.SD, 'f', 4, 64)
		row[5], row[7] = strconv.FormatFloat(f.KNN1.Mean, 'f', 4, 64), strconv.FormatFloat(f.KNN10.Mean, 'f', 4, 64)
		_ = w.Write(row)
	}
	for _, x := range r.Rows {
		_ = w.Write(x.cells())
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// Markdown is report.md: the plan, the accuracy table with floors, the cost table and the reading.
func (r Report) Markdown(title string) string {
	var sb strings.Builder
	p := r.Plan
	fmt.Fprintf(&sb, "# %s\n\n", title)
	data := p.Base.Data
	if p.Base.TrainSubset > 0 {
		data += fmt.Sprintf(" (the first %d training images)", p.Base.TrainSubset)
	}
	fmt.Fprintf(&sb, "Data: %s. Methods %s; batch sizes %v; seeds %v; ", data, strings.Join(p.Methods, ", "), p.Batches, p.Seeds)
	if p.Budget > 0 {
		fmt.Fprintf(&sb, "each run stops at %v of training time (at most %s). ", budget(p), plural(p.Base.Epochs, "epoch"))
	} else {
		fmt.Fprintf(&sb, "%s per run. ", plural(p.Base.Epochs, "epoch"))
	}
	fmt.Fprintf(&sb, "β = %g, %s, lr %g. Every run of a seed sees the same images in the same order with the same augmentations.\n\n", p.Base.Beta, p.Base.Optimizer, p.Base.LR)
	sb.WriteString("## Reading\n\n" + r.Reading + "\n\n")
	pm := func(s Stat, scale float64, prec int) string {
		if s.N == 0 {
			return "—"
		}
		if s.N > 1 {
			return fmt.Sprintf("%.*f ± %.*f", prec, scale*s.Mean, prec, scale*s.SD)
		}
		return fmt.Sprintf("%.*f", prec, scale*s.Mean)
	}
	sb.WriteString("## Accuracy and health (mean ± sd over seeds)\n\n")
	sb.WriteString("| method | B | probe % | 1-NN % | 10-NN % | global loss | alignment | uniformity | eff. rank |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Floors {
		fmt.Fprintf(&sb, "| floor: %s | | %s | %s | %s | | | | |\n", f.Name, pm(f.Probe, 100, 1), pm(f.KNN1, 100, 1), pm(f.KNN10, 100, 1))
	}
	for _, x := range r.Rows {
		acc := func(s Stat) string {
			if !x.Labeled {
				return "—"
			}
			return pm(s, 100, 1)
		}
		fmt.Fprintf(&sb, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", x.Method, x.Batch, acc(x.Probe), acc(x.KNN1), acc(x.KNN10),
			pm(x.Global, 1, 3), pm(x.Align, 1, 3), pm(x.Uniform, 1, 3), pm(x.EffRank, 1, 1))
	}
	sb.WriteString("\n## Cost\n\n")
	sb.WriteString("| method | B | wall s | training s | median step ms | images/s | step ÷ SimCLR | memory MiB | state bytes/image |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range r.Rows {
		ratio := "—"
		if x.StepRatio > 0 {
			ratio = fmt.Sprintf("%.2f", x.StepRatio)
		}
		fmt.Fprintf(&sb, "| %s | %d | %s | %s | %s | %s | %s | %.1f | %.0f |\n", x.Method, x.Batch, pm(x.WallS, 1, 0), pm(x.TrainS, 1, 0),
			pm(x.StepMs, 1, 1), pm(x.ImgPerS, 1, 0), ratio, x.DeviceMiB, x.StateBytes)
	}
	sb.WriteString("\nMemory is what the backend allocated for the run, images included; state is the method's own per-image memory (EMC²: chain index and score; SogCLR: the moving average). Times are wall-clock on the machine that ran the plan; a step-time ratio compares runs of one plan, on one machine.\n")
	if len(r.Missing) > 0 {
		fmt.Fprintf(&sb, "\nNot finished: %d run(s):", len(r.Missing))
		for _, k := range r.Missing {
			fmt.Fprintf(&sb, " %s;", k)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func budget(p Plan) time.Duration {
	return time.Duration(p.Budget * float64(time.Second)).Round(time.Second)
}
