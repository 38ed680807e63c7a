package pollstats

import (
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

// Run shows the fields of the files that o names until it has printed
// o.Count lines or is interrupted.
func Run(o *Options) error {
	defer o.setDefaults()()
	// Catch the signals before anything is read, so that an early Ctrl-C
	// is a clean exit too.
	sigs := make(chan os.Signal, 4)
	o.notify(sigs)
	defer o.stop(sigs)

	log := &logger{w: o.Streams.Err, level: o.Verbosity}
	src, err := newSources(cli.NewFileSet(o.Args))
	if err != nil {
		return err
	}
	defer lowHeadroom()()
	p, err := startPoller(o, src, log)
	if err != nil {
		return err
	}
	defer p.close()
	settleHeap(len(p.files))
	defer steady()()
	return newView(o, p).loop(sigs)
}

// setDefaults fills the hooks that tests did not set, and returns what
// frees them.
func (o *Options) setDefaults() (free func()) {
	free = func() {}
	if o.after == nil {
		t := newTimer() // wake.go
		o.after, free = t.after, t.close
	}
	if o.notify == nil {
		o.notify = func(c chan<- os.Signal) { signal.Notify(c, notifySignals...) }
	}
	if o.stop == nil {
		o.stop = func(c chan<- os.Signal) { signal.Stop(c) }
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	return free
}

// newView returns the view of p's columns: with --each, after a column
// that labels each row with its file's PID.
func newView(o *Options, p *poller) *view {
	var names []string
	labels := 0
	if p.each {
		names, labels = append(names, pidHeader), 1
	}
	v := &view{o: o, p: p, out: lineWriter(o.Streams.Out)}
	if o.preset != nil {
		names = append(names, o.preset.heads()...)
		v.preset = newPresetView(o.preset, o.now())
	} else {
		for _, c := range p.cols {
			names = append(names, c.name)
		}
	}
	v.tab = newTable(names, labels)
	if v.preset != nil {
		v.preset.widen(v.tab, labels)
	}
	return v
}

// pidHeader heads the column of PIDs, with --each.
const pidHeader = "pid"

// view prints the lines.
type view struct {
	o     *Options
	p     *poller
	tab   *table
	out   io.Writer // o.Streams.Out, through lineWriter
	buf   []byte
	cells [][]cell // the rows of the current interval
	lines int      // intervals printed

	preset *presetView // with --view: its columns, computed from p's

	sinceHeader int  // lines printed since the last header
	headerDue   bool // the layout changed: print the header again

	// The header last printed, while it may be rewritten in place: its
	// width if it fit on one row of the terminal, and how many lines the
	// logger had printed then (on the same terminal, maybe).
	headerWidth int
	logMark     int
}

// rewriteHeader moves the cursor back over the header just printed and
// clears its row, when nothing came after it: a header that the first
// line's values make wider replaces it rather than printing it twice.
const rewriteHeader = "\033[1A\r\033[2K"

// header appends the header, in place of the one before when that is the
// last line on the terminal (no line and no message since, one row wide).
func (v *view) header(b []byte) []byte {
	w := v.width()
	if v.o.Streams.IsTerminal && v.sinceHeader == 0 && v.headerWidth > 0 && v.headerWidth <= w && v.p.log.printed == v.logMark {
		b = append(b, rewriteHeader...)
	}
	start := len(b)
	b = v.tab.appendHeader(b, v.o.Streams.Color)
	v.headerWidth = 0
	if n := displayWidth(b[start:]); w > 0 && n <= w {
		v.headerWidth = n
	}
	v.logMark = v.p.log.printed
	v.sinceHeader, v.headerDue = 0, false
	return b
}

// width returns the terminal's width, or 0 if unknown or not a terminal.
func (v *view) width() int {
	if v.o.Streams.Width == nil {
		return 0
	}
	return v.o.Streams.Width()
}

// loop prints the header, then a line after each delay.
func (v *view) loop(sigs <-chan os.Signal) error {
	v.tab.fit(v.width())
	v.buf = v.header(v.buf[:0])
	if _, err := v.out.Write(v.buf); err != nil {
		return err
	}
	next := nextPoll(v.o.clock(), v.o.clock(), v.o.Delay)
	for n := 0; v.o.Count == 0 || n < v.o.Count; n++ {
		if sig := v.wait(next, sigs); sig != nil {
			if sig == os.Interrupt && v.o.Streams.IsTerminal {
				v.out.Write([]byte("\n")) // past the "^C" the terminal echoed
			}
			return nil
		}
		start := v.o.clock()
		next = nextPoll(next, start, v.o.Delay)
		if err := v.line(start); err != nil {
			return err
		}
		if v.p.log.level >= levelDebug { // its arguments would be garbage
			v.p.log.debugf("interval took %v for %d files", time.Since(start), len(v.p.active))
		}
	}
	return nil
}

// wait waits until next and returns nil, or returns the signal that
// ends the run. A SIGWINCH fits the columns to the new width.
func (v *view) wait(next time.Time, sigs <-chan os.Signal) os.Signal {
	for {
		select {
		case <-v.o.after(next.Sub(v.o.clock())):
			return nil
		case sig := <-sigs:
			if sig != sigWinch {
				return sig
			}
			if v.tab.fit(v.width()) {
				v.headerDue = true
			}
		}
	}
}

// line polls the files and prints the interval: one line, or with
// --each a row per file (on a terminal, after a blank line between
// intervals), after the header when due.
func (v *view) line(now time.Time) error {
	v.p.poll(now)
	rows := v.format(now)
	widened := false
	for _, r := range rows {
		widened = v.tab.observe(r) || widened
	}
	if widened && v.o.Streams.IsTerminal {
		v.headerDue = true
	}
	v.buf = v.buf[:0]
	if v.p.each && v.o.Streams.IsTerminal && v.lines > 0 {
		v.buf = append(v.buf, '\n')
	}
	if v.headerDue || (v.o.Headers > 0 && v.sinceHeader == v.o.Headers) {
		v.buf = v.header(v.buf)
	}
	for _, r := range rows {
		v.buf = v.tab.appendLine(v.buf, r, v.o.Streams.Color)
	}
	v.sinceHeader++
	v.lines++
	_, err := v.out.Write(v.buf)
	return err
}

// format returns the cells of the interval's rows, in buffers reused
// from one interval to the next. On a terminal a timestamp shows as its
// age.
func (v *view) format(now time.Time) [][]cell {
	if v.preset != nil {
		return v.formatPreset(v.o.now()) // the values were just read
	}
	ages := v.o.Streams.IsTerminal
	secs := float64(now.UnixNano()) / 1e9
	n, width := 1, len(v.p.cols)
	if v.p.each {
		n, width = v.p.nrow, width+1
	}
	for len(v.cells) < n {
		v.cells = append(v.cells, make([]cell, width))
	}
	rows := v.cells[:n]
	if !v.p.each {
		for c := range v.p.line {
			setCell(&rows[0][c], &v.p.line[c], ages, secs)
		}
		return rows
	}
	for i := range rows {
		r, cells := &v.p.rows[i], rows[i]
		setLabel(&cells[0], r)
		for c := range r.vals {
			setCell(&cells[c+1], &r.vals[c], ages, secs)
		}
	}
	return rows
}

// setCell sets c to show r (see appendResult).
func setCell(c *cell, r *result, ages bool, now float64) {
	c.text = appendResult(c.text[:0], r, ages, now)
	c.v, c.none = r.float(ages, now), r.none()
}
