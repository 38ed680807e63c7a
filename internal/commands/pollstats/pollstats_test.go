//go:build unix

package pollstats

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

const status = "web.stats.status"

func TestDeltasSummedOverFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	a.OK.Add(100) // before the start: not shown
	b.OK.Add(50)
	h := newHarness(t,
		func() { a.OK.Add(3); b.OK.Add(4); b.Err.Inc() },
		func() { a.OK.Inc() },
		func() {},
	)
	if code := h.run("-c", "3", "-p", status, "2XX,5XX", a.f.Path(), b.f.Path()); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got := h.lines()[0]; got != "  2XX    5XX" {
		t.Errorf("header %q, want the fields without the prefix", got)
	}
	h.expectRows(t, [][]float64{{7, 1}, {1, 0}, {0, 0}})

	h = newHarness(t)
	if code := h.run("--absolute", "-c", "2", "-p", status, "2XX,5XX", a.f.Path(), b.f.Path()); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{158, 1}, {158, 1}})
}

func TestPrefixJoins(t *testing.T) {
	dir := t.TempDir()
	var m struct {
		Glued  mmstats.Counter `mmstats:"a.bx"`
		Dotted mmstats.Counter `mmstats:"a.b.x"`
		Only   mmstats.Counter `mmstats:"a.b.y"`
	}
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "m.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	step := func() { m.Glued.Add(1); m.Dotted.Add(2); m.Only.Add(3) }
	tests := []struct {
		prefix, fields string
		header         string
		want           []float64
	}{
		{"a.b", "x,y", "    x      y", []float64{1, 3}}, // a.bx exists: tried first
		{"a.b.", "x,y", "    x      y", []float64{2, 3}},
		{"a", "b.x,b.y", "  b.x    b.y", []float64{2, 3}},
		{"", "a.b.x,a.bx", "a.b.x   a.bx", []float64{2, 1}},
	}
	for _, tt := range tests {
		h := newHarness(t, step)
		if code := h.run("-c", "1", "-p", tt.prefix, tt.fields, f.Path()); code != 0 {
			t.Fatalf("-p %q %s: exit %d: %s", tt.prefix, tt.fields, code, h.err.String())
		}
		if got := h.lines()[0]; got != tt.header {
			t.Errorf("-p %q %s: header %q, want %q", tt.prefix, tt.fields, got, tt.header)
		}
		h.expectRows(t, [][]float64{tt.want})
	}
}

// argStyles are the three ways to name the files: a fixed list, a
// directory, and a quoted glob, which pollstats expands itself.
func argStyles(dir string, paths ...string) map[string][]string {
	return map[string][]string{
		"files": paths,
		"dir":   {dir},
		"glob":  {filepath.Join(dir, "*.mmstats")},
	}
}

func TestFileDisappears(t *testing.T) {
	for style := range argStyles("", "") {
		t.Run(style, func(t *testing.T) {
			dir := t.TempDir()
			a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
			b.OK.Add(1000)
			args := argStyles(dir, a.f.Path(), b.f.Path())[style]
			h := newHarness(t,
				func() { a.OK.Add(2); b.OK.Add(5) },
				func() { a.OK.Add(1); b.OK.Add(5); b.remove(t) },
				func() { a.OK.Add(4) },
			)
			code := h.run(append([]string{"-vv", "-c", "3", "-p", status, "2XX"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, h.err.String())
			}
			// The file that went counts nothing for its last interval.
			h.expectRows(t, [][]float64{{7}, {1}, {4}})
			if !strings.Contains(h.err.String(), "removed "+b.f.Path()) {
				t.Errorf("-vv does not report the file gone:\n%s", h.err.String())
			}

			a.OK.Set(10)
			b = newWriter(t, dir, "b.mmstats")
			b.OK.Set(5)
			h = newHarness(t, func() { b.remove(t) })
			if code := h.run(append([]string{"-a", "-c", "1", "-p", status, "2XX"}, args...)...); code != 0 {
				t.Fatalf("exit %d: %s", code, h.err.String())
			}
			h.expectRows(t, [][]float64{{10}})
		})
	}
}

func TestFileAppearsAndIsReplaced(t *testing.T) {
	// A fixed list does not take new files: see TestFixedListKeepsItsPaths.
	for _, style := range []string{"dir", "glob"} {
		t.Run(style, func(t *testing.T) {
			dir := t.TempDir()
			a := newWriter(t, dir, "a.mmstats")
			var c *writer
			h := newHarness(t,
				func() { // c starts after pollstats, with 50 counted before it is seen: shown, its writer began since
					c = newWriter(t, dir, "c.mmstats")
					c.OK.Add(50)
					a.OK.Add(1)
				},
				func() { c.OK.Add(5) },
				func() { // replaced by a new file: counted from its start too
					c.remove(t)
					c = newWriter(t, dir, "c.mmstats")
					c.OK.Add(7)
				},
				func() { c.OK.Add(3) },
			)
			args := argStyles(dir, a.f.Path())[style]
			if code := h.run(append([]string{"-vv", "-c", "4", "-p", status, "2XX"}, args...)...); code != 0 {
				t.Fatalf("exit %d: %s", code, h.err.String())
			}
			h.expectRows(t, [][]float64{{51}, {5}, {7}, {3}})
			for _, msg := range []string{"added " + c.f.Path(), "replaced " + c.f.Path()} {
				if !strings.Contains(h.err.String(), msg) {
					t.Errorf("-vv does not say %q:\n%s", msg, h.err.String())
				}
			}
		})
	}
}

func TestFixedListKeepsItsPaths(t *testing.T) {
	// 20 files of one directory: the directory is listed instead of each
	// file looked up (listThreshold).
	dir := t.TempDir()
	var ws []*writer
	var paths []string
	for i := range 20 {
		w := newWriter(t, dir, fmt.Sprintf("w%02d.mmstats", i))
		ws = append(ws, w)
		paths = append(paths, w.f.Path())
	}
	other := newWriter(t, dir, "other.mmstats") // not in the list
	h := newHarness(t,
		func() {
			for _, w := range ws {
				w.OK.Add(2)
			}
			other.OK.Add(100)
			ws[3].remove(t)
		},
		func() { // w03 comes back: a new file, counted from its start
			ws[3] = newWriter(t, dir, "w03.mmstats")
			ws[3].OK.Add(1000)
			ws[0].OK.Add(1)
		},
		func() { ws[3].OK.Add(6) },
	)
	if code := h.run(append([]string{"-c", "3", "-p", status, "2XX"}, paths...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{38}, {1001}, {6}})
}

func TestUnreadableFileDropsOut(t *testing.T) {
	dir := t.TempDir()
	a := newWriter(t, dir, "a.mmstats")
	raw := filepath.Join(dir, "raw.mmstats")
	const label = status + ".2XX"
	writeRaw(t, raw, map[string]uint64{label: 5})
	h := newHarness(t,
		func() { // truncated under the mapping: reading it faults
			a.OK.Inc()
			if err := os.Truncate(raw, 0); err != nil {
				t.Fatal(err)
			}
		},
		func() { writeRaw(t, raw, map[string]uint64{label: 100}) }, // back: a new baseline
		func() { writeRaw(t, raw, map[string]uint64{label: 104}) },
	)
	if code := h.run("-v", "-c", "3", "-p", status, "2XX", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{1}, {0}, {4}})
	for _, want := range []string{raw + ": file changed while being read", raw + ": readable again"} {
		if !strings.Contains(h.err.String(), want) {
			t.Errorf("-v does not say %q:\n%s", want, h.err.String())
		}
	}
}

func TestCounterGoingBackIsANewBaseline(t *testing.T) {
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	a.OK.Add(100)
	a.Level.Set(3)
	h := newHarness(t,
		func() { a.OK.Set(10); a.Level.Set(-5); b.OK.Add(4) },
		func() { a.OK.Add(2); a.Level.Add(1) },
	)
	if code := h.run("-c", "2", "-p", "web.stats", "status.2XX,level", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{4, 0}, {2, 1}})
}

// TestGaugesShowValues: fields whose metadata says gauge show their
// current value summed, counters their change, with no flag.
func TestGaugesShowValues(t *testing.T) {
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	a.OK.Add(100)
	a.Temp.Set(20.5)
	b.Temp.Set(21)
	a.Queue.Set(3)
	h := newHarness(t,
		func() { a.OK.Add(5); b.Queue.Set(4) },
		func() { a.Temp.Set(19) },
	)
	if code := h.run("-c", "2", "-p", "web.stats", "status.2XX,temp,queue", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{5, 41.5, 7}, {0, 40, 7}})
	// --absolute shows the counter's value too.
	h = newHarness(t, func() {})
	if code := h.run("-a", "-c", "1", "-p", "web.stats", "status.2XX,temp", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{105, 40}})
}

func TestBoolCountsTrueFiles(t *testing.T) {
	dir := t.TempDir()
	a, b, c := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats"), newWriter(t, dir, "c.mmstats")
	a.Up.Set(true)
	b.Up.Set(true)
	c.Up.Set(false)
	h := newHarness(t, func() {}, func() { b.Up.Set(false) })
	if code := h.run("-c", "2", "-p", "web.stats", "up", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{2}, {1}})
}

func TestFloats(t *testing.T) {
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	a.Load.Set(1)
	h := newHarness(t,
		func() { a.Load.Set(1.1); b.Load.Set(0.2) },
		func() { a.Load.Set(0.5) }, // went down: a new baseline
	)
	if code := h.run("-c", "2", "-p", "web.stats", "load", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	// 0.1 + 0.2 shows as 0.3, not 0.30000000000000004.
	if got := h.lines()[1:]; got[0] != "  0.3" || got[1] != "    0" {
		t.Errorf("lines %q, want 0.3 and 0", got)
	}
}

func TestFieldAppendedLater(t *testing.T) {
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	var extraA, extraB mmstats.Counter
	if err := a.f.Add("extra", &extraA); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t,
		func() {
			extraA.Add(1)
			if err := b.f.Add("extra", &extraB); err != nil {
				t.Fatal(err)
			}
			extraB.Add(10) // before pollstats sees the field: not counted
		},
		func() { extraB.Add(2) },
	)
	if code := h.run("-c", "2", "-p", "web.stats", "extra", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{1}, {2}})
}

func TestFieldErrors(t *testing.T) {
	dir := t.TempDir()
	newWriter(t, dir, "a.mmstats")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-p", status, "2XY"}, []string{`no file has the field "2XY" (web.stats.status2XY or web.stats.status.2XY); did you mean "2XX"?`}},
		{[]string{"-p", "web.stats", "stauts.2XX,lod"}, []string{`"stauts.2XX"`, `did you mean "status.2XX"?`, `"lod"`, `did you mean "load"?`}},
		{[]string{"request"}, []string{`no file has the field "request"`, `the closest labels are`}},
		{[]string{"2XX"}, []string{`did you mean "web.stats.status.2XX"?`}},
		{[]string{"-p", "web.stats", "name"}, []string{`field "name" (web.stats.name) is a string`}},
	}
	for _, tt := range tests {
		h := newHarness(t)
		code := h.run(append(tt.args, dir)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(h.err.String(), w) {
				t.Errorf("%v: stderr does not say %s:\n%s", tt.args, w, h.err.String())
			}
		}
		if h.out.Len() != 0 {
			t.Errorf("%v: printed %q", tt.args, h.out.String())
		}
	}
}

func TestUsageAndStartErrors(t *testing.T) {
	dir := t.TempDir()
	newWriter(t, dir, "a.mmstats")
	bad := t.TempDir()
	corrupt(t, bad, "x.mmstats")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "missing FIELDS"},
		{[]string{"a,,b", dir}, 2, "empty field name"},
		{[]string{"-c", "-1", "x", dir}, 2, "--count"},
		{[]string{"-n", "-1", "x", dir}, 2, "--headers"},
		{[]string{"-d", "0", "x", dir}, 2, "delay"},
		{[]string{"-d", "soon", "x", dir}, 2, "not a number of seconds"},
		{[]string{"-f", "=x", "x", dir}, 2, "bad --filter"},
		{[]string{"x", filepath.Join(dir, "[")}, 2, "bad pattern"},
		{[]string{"x", filepath.Join(dir, "*.none")}, 1, "no stats files match"},
		{[]string{"x", filepath.Join(dir, "missing.mmstats")}, 1, "no stats files match"},
		{[]string{"x", bad}, 1, "cannot read any stats file:\n  " + filepath.Join(bad, "x.mmstats")},
	}
	for _, tt := range tests {
		h := newHarness(t)
		if code := h.run(tt.args...); code != tt.code || !strings.Contains(h.err.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, h.err.String(), tt.code, tt.want)
		}
	}
}

func TestOutputForPipesAndTerminals(t *testing.T) {
	dir := t.TempDir()
	a := newWriter(t, dir, "a.mmstats")
	step := func() { a.OK.Add(3) }
	args := []string{"-c", "2", "-p", status, "2XX,5XX", dir}

	for _, term := range []bool{false, true} { // a pipe, and NO_COLOR on a terminal
		h := newHarness(t, step, step)
		h.term, h.width = term, 80
		if code := h.run(args...); code != 0 {
			t.Fatalf("exit %d: %s", code, h.err.String())
		}
		if strings.Contains(h.out.String(), "\033") {
			t.Errorf("terminal %v without colour: escape codes in %q", term, h.out.String())
		}
		h.expectRows(t, [][]float64{{3, 0}, {3, 0}})
	}

	h := newHarness(t, step, step)
	h.term, h.color, h.width = true, true, 80
	if code := h.run(args...); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	lines := h.lines()
	if want := bold + "  2XX    5XX" + reset; lines[0] != want {
		t.Errorf("header %q, want it bold: %q", lines[0], want)
	}
	if want := "    " + yellow + "3" + reset + "      0"; lines[1] != want {
		t.Errorf("line %q, want the non-zero value coloured: %q", lines[1], want)
	}
	for _, l := range lines {
		if i := strings.LastIndex(l, "\033["); i >= 0 && !strings.HasPrefix(l[i:], reset) {
			t.Errorf("line %q ends with an attribute set", l)
		}
	}
}

func TestColumnsFitTheTerminal(t *testing.T) {
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	fields := "status.2XX,status.5XX,load,up,level,sys.pid,sys.uid,sys.gid"
	h := newHarness(t,
		func() { a.OK.Add(123456789012); b.Err.Add(3); a.Load.Set(0.25) },
		func() { a.OK.Add(2) },
		func() { b.Err.Add(1234567) },
	)
	h.term, h.color, h.width = true, true, 40
	if code := h.run("-a", "-c", "3", "-p", "web.stats", fields, dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if w := h.maxWidth(); w > 40 {
		t.Errorf("a line is %d columns wide in a 40-column terminal:\n%s", w, plain(h.out.String()))
	}
	// The first line's values widen the columns: the header printed at
	// start is rewritten in place, not printed twice.
	if lines := h.lines(); len(lines) < 2 || !strings.Contains(lines[0], "2XX") || strings.Contains(lines[1], "2XX") {
		t.Errorf("the header is not shown once at the start:\n%s", plain(screen(h.out.String())))
	}
	if !strings.Contains(h.out.String(), rewriteHeader) {
		t.Errorf("the header was not rewritten in place: %q", h.out.String())
	}
	out := plain(screen(h.out.String()))
	for _, want := range []string{"123G", "1.2M", "0.25"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the fitted output:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "2XX") || !strings.Contains(out, "~") && !strings.Contains(out, "pid") {
		t.Errorf("headers not abbreviated as documented:\n%s", out)
	}

	// Piped, the same values print in full.
	h = newHarness(t, func() { a.OK.Add(1) })
	if code := h.run("-a", "-c", "1", "-p", "web.stats", fields, dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if !strings.Contains(h.out.String(), "123456789015") {
		t.Errorf("piped output is not exact:\n%s", h.out.String())
	}
}

func TestResizeRefits(t *testing.T) {
	dir := t.TempDir()
	a := newWriter(t, dir, "a.mmstats")
	var h *harness
	h = newHarness(t,
		func() { a.OK.Add(1) },
		func() { h.width = 20; h.signal(syscall.SIGWINCH) },
		func() {},
	)
	h.term, h.width = true, 80
	if code := h.run("-c", "3", "-p", "web.stats", "status.2XX,status.5XX,load", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	lines := h.lines() // header, line, the header fitted again, line, line
	if len(lines) != 5 || lines[0] != "status.2XX  status.5XX   load" {
		t.Fatalf("before the resize:\n%s", h.out.String())
	}
	if lines[2] == lines[0] || !strings.Contains(lines[2], "2XX") {
		t.Errorf("no fitted header after the resize:\n%s", h.out.String())
	}
	for _, l := range lines[2:] {
		if len(l) > 20 {
			t.Errorf("line %q is wider than the 20 columns after the resize", l)
		}
	}
}

func TestInterrupted(t *testing.T) {
	dir := t.TempDir()
	a := newWriter(t, dir, "a.mmstats")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		var h *harness
		h = newHarness(t, func() { a.OK.Inc() }, func() { h.signal(sig) })
		h.term, h.color = true, true
		if code := h.run("-p", status, "2XX", dir); code != 0 {
			t.Errorf("%v: exit %d, want 0; stderr: %s", sig, code, h.err.String())
		}
		want := bold + "  2XX" + reset + "\n    " + yellow + "1" + reset + "\n"
		if sig == syscall.SIGINT {
			want += "\n" // past the ^C
		}
		if h.out.String() != want {
			t.Errorf("%v: output %q, want %q", sig, h.out.String(), want)
		}
	}
}

func TestHeaderRepeats(t *testing.T) {
	dir := t.TempDir()
	newWriter(t, dir, "a.mmstats")
	for _, tt := range []struct {
		n       string
		headers []int
	}{{"2", []int{0, 3, 6}}, {"0", []int{0}}, {"20", []int{0}}} {
		h := newHarness(t)
		if code := h.run("-n", tt.n, "-c", "5", "-p", status, "2XX", dir); code != 0 {
			t.Fatalf("exit %d: %s", code, h.err.String())
		}
		var at []int
		for i, l := range h.lines() {
			if strings.TrimSpace(l) == "2XX" {
				at = append(at, i)
			}
		}
		if fmt.Sprint(at) != fmt.Sprint(tt.headers) || len(h.lines()) != 5+len(tt.headers) {
			t.Errorf("-n %s: headers at lines %v, want %v:\n%s", tt.n, at, tt.headers, h.out.String())
		}
	}
}

func TestFilters(t *testing.T) {
	dir := t.TempDir()
	newWriter(t, dir, "a.mmstats")
	var m struct {
		Thing mmstats.Counter `mmstats:"other.thing"`
		Tag   mmstats.String  `mmstats:"other.tag"`
	}
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "other.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m.Thing.Add(5)
	m.Tag.Set("blue")
	for _, tt := range []struct {
		filters []string
		summing int
	}{
		{nil, 1},
		{[]string{"other"}, 2},         // a label prefix
		{[]string{"oth"}, 2},           // any prefix, not only whole parts
		{[]string{"nothing"}, 1},       // matches no label
		{[]string{"other.thing=5"}, 2}, // the value's text
		{[]string{"other.thing=6"}, 1},
		{[]string{"other.tag=blue"}, 2},
		{[]string{"other.ta=blue"}, 1}, // KEY=VALUE wants the whole label
		{[]string{"nothing", "other.tag=blue"}, 2},
	} {
		var args []string
		for _, f := range tt.filters {
			args = append(args, "-f", f)
		}
		h := newHarness(t)
		if code := h.run(append(args, "-vv", "-c", "1", "-p", status, "2XX", dir)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.filters, code, h.err.String())
		}
		if want := fmt.Sprintf("reading 2 files, combining %d", tt.summing); !strings.Contains(h.err.String(), want) {
			t.Errorf("%v: stderr %q, want %q", tt.filters, h.err.String(), want)
		}
	}
}

func TestFractionalDelay(t *testing.T) {
	dir := t.TempDir()
	newWriter(t, dir, "a.mmstats")
	for _, d := range []string{"0.25", "250ms"} {
		h := newHarness(t)
		if code := h.run("-d", d, "-c", "2", "-p", status, "2XX", dir); code != 0 {
			t.Fatalf("exit %d: %s", code, h.err.String())
		}
		// The fake clock does not move: only the first wait is a whole delay.
		if got := h.delays[0]; got <= 150*time.Millisecond || got > 250*time.Millisecond {
			t.Errorf("-d %s: waited %v for the first line, want about 250ms", d, got)
		}
	}

	// With the real clock.
	start := time.Now()
	h := newHarness(t)
	cmd := NewCmd(h.streams(), nil)
	cmd.SetArgs([]string{"-d", "0.05", "-c", "3", "-p", status, "2XX", dir})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 150*time.Millisecond || took > 5*time.Second {
		t.Errorf("3 lines at -d 0.05 took %v", took)
	}
	if got := len(h.lines()); got != 4 {
		t.Errorf("%d lines, want a header and 3:\n%s", got, h.out.String())
	}
}

func TestParseDelay(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"1", time.Second}, {"0.2", 200 * time.Millisecond}, {".5", 500 * time.Millisecond},
		{"1e-3", time.Millisecond}, {"2s", 2 * time.Second}, {"1m", time.Minute},
		{"0", 0}, {"-1", 0}, {"NaN", 0}, {"inf", 0}, {"1e-12", 0}, {"100000", 0}, {"-1s", 0}, {"x", 0},
	} {
		got, err := parseDelay(tt.in)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("parseDelay(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
