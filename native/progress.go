package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/emc2ml/emc2/core/run"
)

// progressBar draws the training progress on a terminal, redrawing one line; on anything else (a
// pipe, CI logs) it prints a plain line about every 5 % so that logs stay readable.
type progressBar struct {
	w        io.Writer
	tty      bool
	total    int
	chains   bool // show the MH acceptance rate
	lastLine int  // percent at the last plain line
	lastDraw time.Time
}

func newProgressBar(w *os.File, total int, chains bool) *progressBar {
	fi, err := w.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
	return &progressBar{w: w, tty: tty, total: total, chains: chains, lastLine: -5}
}

// note prints a line of its own (an evaluation, a floor, what the run is doing), keeping the bar's
// line for the bar.
func (b *progressBar) note(msg string) {
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s\n", msg)
		b.lastDraw = time.Time{}
		return
	}
	fmt.Fprintln(b.w, msg)
}

func (b *progressBar) update(p run.Progress) {
	stats := fmt.Sprintf("%d/%d steps | ep %.2f | %.0f img/s | loss %.4f", p.Step, b.total, p.Epoch, p.ImagesPerSec, p.Loss)
	if b.chains {
		stats += fmt.Sprintf(" | accept %.1f%%", 100*p.AcceptRate)
	}
	b.draw(p.Step, stats+" | ETA "+formatDuration(p.ETA))
}

// draw shows done of the bar's total with a line of statistics.
func (b *progressBar) draw(done int, stats string) {
	pct := 100 * done / max(1, b.total)
	if b.tty {
		if time.Since(b.lastDraw) < 100*time.Millisecond && done < b.total {
			return
		}
		b.lastDraw = time.Now()
		const width = 28
		fill := min(width, width*done/max(1, b.total))
		bar := strings.Repeat("█", fill) + strings.Repeat("░", width-fill)
		fmt.Fprintf(b.w, "\r\033[K%s %3d%% %s", bar, pct, stats)
		return
	}
	if pct-b.lastLine >= 5 || done == b.total {
		b.lastLine = pct
		fmt.Fprintf(b.w, "[%3d%%] %s\n", pct, stats)
	}
}

// finish ends the bar's line so that the next output starts on a fresh one.
func (b *progressBar) finish() {
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

func formatDuration(s float64) string {
	if s < 0 || s > 1e7 {
		return "?"
	}
	return (time.Duration(s) * time.Second).Round(time.Second).String()
}
