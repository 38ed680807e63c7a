package pollstats

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// webStats is the model of the test files.
type webStats struct {
	OK    mmstats.Counter `mmstats:"status.2XX"`
	Err   mmstats.Counter `mmstats:"status.5XX"`
	Load  mmstats.Float64 `mmstats:"load,kind=counter"` // counted as changes
	Up    mmstats.Bool    `mmstats:"up"`
	Name  mmstats.String  `mmstats:"name,size=16"`
	Level mmstats.Int32   `mmstats:"level,kind=counter"`
	Temp  mmstats.Float64 `mmstats:"temp,unit=celsius"` // a gauge: shown as a value
	Queue mmstats.Int32   `mmstats:"queue"`             // a gauge too
}

// writer is a stats file written by the test.
type writer struct {
	*webStats
	f *mmstats.File
}

// newWriter creates dir/name with the labels web.stats.*.
// quietPoller starts a poller of o over o.Args, its output and its log
// discarded, and closes it when the test ends.
func quietPoller(tb testing.TB, o *Options) *poller {
	tb.Helper()
	o.Streams = &cli.Streams{Out: io.Discard, Err: io.Discard}
	src, err := newSources(cli.NewFileSet(o.Args))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := startPoller(o, src, &logger{w: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.close)
	return p
}

func newWriter(t testing.TB, dir, name string) *writer {
	t.Helper()
	s := new(webStats)
	f, err := mmstats.New(s, mmstats.Options{Dir: dir, Filename: name, LabelPrefix: "web.stats."})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &writer{s, f}
}

// remove deletes the writer's file, as a process does when it exits.
func (w *writer) remove(t testing.TB) {
	t.Helper()
	if err := w.f.Remove(); err != nil {
		t.Fatal(err)
	}
}

// harness runs the command with fake streams and a fake clock: the delay
// between lines does not wait, and step i runs while the command waits
// for line i+1 (after the header and line i were printed), so a test
// changes the files between the command's reads.
type harness struct {
	t      *testing.T
	out    bytes.Buffer
	err    bytes.Buffer
	term   bool // fake a terminal
	color  bool
	width  int
	steps  []func()
	delays []time.Duration // what the command waited for

	sigs    chan os.Signal
	sigSent bool

	now func() time.Time // the clock of a view's rates; nil: time.Now
}

func newHarness(t *testing.T, steps ...func()) *harness {
	return &harness{t: t, steps: steps}
}

// signal delivers sig to the command while it waits.
func (h *harness) signal(sig os.Signal) {
	h.sigs <- sig
	h.sigSent = true
}

// after is the command's clock: it runs the next step and fires at once,
// unless the step sent a signal, which the command must take first.
func (h *harness) after(d time.Duration) <-chan time.Time {
	fired := make(chan time.Time, 1)
	fired <- time.Now()
	if h.sigSent { // the signal was taken: go on waiting for the same line
		h.sigSent = false
		return fired
	}
	h.delays = append(h.delays, d)
	if i := len(h.delays) - 1; i < len(h.steps) {
		h.steps[i]()
	}
	if h.sigSent {
		return nil // never fires: the command takes the signal
	}
	return fired
}

// run runs pollstats with args and returns its exit status.
func (h *harness) run(args ...string) int {
	h.t.Helper()
	h.out.Reset()
	h.err.Reset()
	h.delays = nil
	h.sigs = make(chan os.Signal, 4)
	defer close(h.sigs)
	cmd := NewCmd(h.streams(), func(o *Options) error {
		o.after = h.after
		o.notify = func(c chan<- os.Signal) {
			go func() {
				for s := range h.sigs {
					c <- s
				}
			}()
		}
		o.stop = func(chan<- os.Signal) {}
		o.now = h.now
		return Run(o)
	})
	cmd.SetArgs(args)
	return cli.Main(cmd, &h.err)
}

// streams returns fake streams that record the output.
func (h *harness) streams() *cli.Streams {
	return &cli.Streams{Out: &h.out, Err: &h.err, IsTerminal: h.term, Color: h.color,
		Width: func() int { return h.width }}
}

// rewritten matches a line that the next one replaces on the terminal
// (the cursor moves up over it and clears it).
var rewritten = regexp.MustCompile("[^\n]*\n" + regexp.QuoteMeta(rewriteHeader))

// screen returns what a terminal shows of out: a line rewritten in place
// is gone.
func screen(out string) string { return rewritten.ReplaceAllString(out, "") }

// lines returns the output lines, as the terminal shows them.
func (h *harness) lines() []string {
	s := strings.TrimSuffix(screen(h.out.String()), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

var escapes = regexp.MustCompile("\033\\[[0-9;]*m")

// plain removes the colour escapes.
func plain(s string) string { return escapes.ReplaceAllString(s, "") }

// rows returns the numbers of the lines that are not headers, which
// start with a field name.
func (h *harness) rows(t *testing.T) [][]float64 {
	t.Helper()
	var out [][]float64
	for _, l := range h.lines() {
		f := strings.Fields(plain(l))
		if len(f) == 0 {
			continue
		}
		if _, err := strconv.ParseFloat(f[0], 64); err != nil {
			continue // a header
		}
		row := make([]float64, len(f))
		for i, s := range f {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("line %q: %q is not a number", l, s)
			}
			row[i] = v
		}
		out = append(out, row)
	}
	return out
}

// expectRows runs the checks every run shares and compares the rows.
func (h *harness) expectRows(t *testing.T, want [][]float64) {
	t.Helper()
	got := h.rows(t)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s\nstderr:\n%s", len(got), len(want), h.out.String(), h.err.String())
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d is %v, want %v:\n%s", i, got[i], want[i], h.out.String())
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("row %d is %v, want %v:\n%s", i, got[i], want[i], h.out.String())
				break
			}
		}
	}
}

// maxWidth returns the widest output line, in runes, without escapes.
func (h *harness) maxWidth() int {
	w := 0
	for _, l := range h.lines() {
		w = max(w, utf8.RuneCountInString(plain(l)))
	}
	return w
}

// corrupt writes a file that is not an mmstats file.
func corrupt(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte{9, 9, 9}, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeRaw writes a file of unbuffered Q fields in place (keeping its
// inode if it exists), padded to a page.
func writeRaw(t *testing.T, path string, fields map[string]uint64) {
	t.Helper()
	var fs []v1file.Field
	for label, v := range fields {
		fs = append(fs, v1file.Unbuffered(label, "Q", v1file.U64(v)))
	}
	v1file.Write(t, path, fs...)
}
