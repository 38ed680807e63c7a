package pollstats

import (
	"os"
	"os/signal"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

// Run shows the fields of the files that o names until it has printed
// o.Count lines or is interrupted.
func Run(o *Options) error {
	o.setDefaults()
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
	p, err := startPoller(o, src, log)
	if err != nil {
		return err
	}
	defer p.close()
	v := &view{o: o, p: p, tab: newTable(names(p.cols))}
	return v.loop(sigs)
}

// setDefaults fills the hooks that tests did not set.
func (o *Options) setDefaults() {
	if o.after == nil {
		o.after = time.After
	}
	if o.notify == nil {
		o.notify = func(c chan<- os.Signal) { signal.Notify(c, notifySignals...) }
	}
	if o.stop == nil {
		o.stop = func(c chan<- os.Signal) { signal.Stop(c) }
	}
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// view prints the lines.
type view struct {
	o   *Options
	p   *poller
	tab *table
	buf []byte
	txt [][]byte // the exact texts of the current line's totals

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
	if _, err := v.o.Streams.Out.Write(v.buf); err != nil {
		return err
	}
	next := time.Now().Add(v.o.Delay)
	for n := 0; v.o.Count == 0 || n < v.o.Count; n++ {
		if sig := v.wait(next, sigs); sig != nil {
			if sig == os.Interrupt && v.o.Streams.IsTerminal {
				v.o.Streams.Out.Write([]byte("\n")) // past the "^C" the terminal echoed
			}
			return nil
		}
		start := time.Now()
		if next = next.Add(v.o.Delay); next.Before(start) {
			next = start.Add(v.o.Delay) // fell behind (suspended?): start again from now
		}
		if err := v.line(start); err != nil {
			return err
		}
		v.p.log.debugf("interval took %v for %d files", time.Since(start), len(v.p.active))
	}
	return nil
}

// wait waits until next and returns nil, or returns the signal that
// ends the run. A SIGWINCH fits the columns to the new width.
func (v *view) wait(next time.Time, sigs <-chan os.Signal) os.Signal {
	for {
		select {
		case <-v.o.after(time.Until(next)):
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

// line polls the files and prints one line, after the header when due.
func (v *view) line(now time.Time) error {
	totals := v.p.poll(now)
	if v.txt == nil {
		v.txt = make([][]byte, len(totals))
	}
	for i := range totals {
		v.txt[i] = totals[i].appendText(v.txt[i][:0])
	}
	if v.tab.observe(v.txt) && v.o.Streams.IsTerminal {
		v.headerDue = true
	}
	v.buf = v.buf[:0]
	if v.headerDue || (v.o.Headers > 0 && v.sinceHeader == v.o.Headers) {
		v.buf = v.header(v.buf)
	}
	v.buf = v.tab.appendLine(v.buf, totals, v.txt, v.o.Streams.Color)
	v.sinceHeader++
	_, err := v.o.Streams.Out.Write(v.buf)
	return err
}
