package pollstats

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// fakeRuntime publishes the labels the views read, as
// mmstats.Options.Runtime does (kinds, units and policies too), with
// values the test sets.
type fakeRuntime struct {
	Cycles     mmstats.Counter   `mmstats:"go.gc.cycles.total"`
	GCCPU      mmstats.Float64   `mmstats:"go.cpu.classes.gc.total,kind=counter,unit=seconds"`
	TotalCPU   mmstats.Float64   `mmstats:"go.cpu.classes.total,kind=counter,unit=seconds"`
	Live       mmstats.Uint64    `mmstats:"go.gc.heap.live,unit=bytes"`
	Goal       mmstats.Uint64    `mmstats:"go.gc.heap.goal,unit=bytes"`
	Allocs     mmstats.Counter   `mmstats:"go.gc.heap.allocs.bytes,unit=bytes"`
	Pauses     mmstats.Histogram `mmstats:"go.sched.pauses.total.gc,unit=seconds,windows=none"`
	Goroutines mmstats.Uint64    `mmstats:"go.sched.goroutines"`
	Runnable   mmstats.Uint64    `mmstats:"go.sched.goroutines.runnable"`
	Waiting    mmstats.Uint64    `mmstats:"go.sched.goroutines.waiting"`
	Created    mmstats.Counter   `mmstats:"go.sched.goroutines-created"`
	Latencies  mmstats.Histogram `mmstats:"go.sched.latencies,unit=seconds,windows=none"`
	Procs      mmstats.Uint64    `mmstats:"go.sched.gomaxprocs,aggr=avg"`
	Objects    mmstats.Uint64    `mmstats:"go.memory.classes.heap.objects,unit=bytes"`
	Unused     mmstats.Uint64    `mmstats:"go.memory.classes.heap.unused,unit=bytes"`
	Free       mmstats.Uint64    `mmstats:"go.memory.classes.heap.free,unit=bytes"`
	Released   mmstats.Uint64    `mmstats:"go.memory.classes.heap.released,unit=bytes"`
	Stacks     mmstats.Uint64    `mmstats:"go.memory.classes.heap.stacks,unit=bytes"`
	Limit      mmstats.Uint64    `mmstats:"go.gc.gomemlimit,unit=bytes,aggr=avg"`
	User       mmstats.Float64   `mmstats:"proc.cpu.user,kind=counter,unit=seconds"`
	System     mmstats.Float64   `mmstats:"proc.cpu.system,kind=counter,unit=seconds"`
	RSS        mmstats.Uint64    `mmstats:"proc.rss,unit=bytes"`
	Threads    mmstats.Uint64    `mmstats:"proc.threads"`
}

// newRuntimeWriter creates dir/name with fake runtime stats under
// prefix.
func newRuntimeWriter(t *testing.T, dir, name, prefix string) (*fakeRuntime, *mmstats.File) {
	t.Helper()
	s := new(fakeRuntime)
	f, err := mmstats.New(s, mmstats.Options{Dir: dir, Filename: name, LabelPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return s, f
}

// step is one interval of a fake process: what its counters gain and
// its gauges are.
type step struct {
	cycles, allocs, created uint64
	gcCPU, totalCPU         float64
	user, system            float64
	live, goal, goroutines  uint64
}

func (s *fakeRuntime) apply(st step) {
	s.Cycles.Add(st.cycles)
	s.Allocs.Add(st.allocs)
	s.Created.Add(st.created)
	s.GCCPU.Add(st.gcCPU)
	s.TotalCPU.Add(st.totalCPU)
	s.User.Add(st.user)
	s.System.Add(st.system)
	s.Live.Set(st.live)
	s.Goal.Set(st.goal)
	s.Goroutines.Set(st.goroutines)
}

// tick returns a clock that moves by d at each reading.
func tick(d time.Duration) func() time.Time {
	now := time.Unix(1700000000, 0)
	return func() time.Time {
		now = now.Add(d)
		return now
	}
}

const mib = 1 << 20

// TestViewGC runs --view gc over two processes' files, one under a label
// prefix and one without, and a file without runtime stats: the columns
// are the counters' changes over the interval (2 s on the fake clock),
// per second where they say so, the CPU percentages, the gauges added
// up, and the pause p99 of the merged buckets (not a sum); the file
// without runtime stats is left out, which -v says once.
func TestViewGC(t *testing.T) {
	dir := t.TempDir()
	a, fa := newRuntimeWriter(t, dir, "a.mmstats", "web.stats.")
	b, fb := newRuntimeWriter(t, dir, "b.mmstats", "")
	other := newWriter(t, dir, "c.mmstats")
	for range 100 {
		a.Pauses.Observe(0.001)
		b.Pauses.Observe(0.004)
	}
	fa.Refresh()
	fb.Refresh()
	sa := step{cycles: 2, allocs: 2 * mib, gcCPU: 0.02, totalCPU: 4, user: 0.5, system: 0.3, live: mib, goal: 4 * mib, goroutines: 10}
	sb := step{cycles: 1, allocs: 1 * mib, gcCPU: 0.06, totalCPU: 4, user: 0.2, live: mib / 2, goal: 4 * mib, goroutines: 5}
	interval := func() {
		a.apply(sa)
		b.apply(sb)
		other.OK.Add(100)
	}
	h := newHarness(t, interval, interval)
	h.now = tick(2 * time.Second)
	if code := h.run("--view", "gc", "-c", "2", "-v", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	want := []string{
		"  gcs     gc%  pause.p99     live     goal  alloc/s  goroutines    cpu%",
		"    3    1.0%     4.00ms   1.5MiB   8.0MiB   1.5MiB          15   50.0%",
		"    3    1.0%     4.00ms   1.5MiB   8.0MiB   1.5MiB          15   50.0%",
	}
	if got := h.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if msg := "c.mmstats: no Go runtime stats"; strings.Count(h.err.String(), msg) != 1 {
		t.Errorf("stderr %q, want %q once", h.err.String(), msg)
	}

	// Without -v, nothing on stderr; with --each, each process's own.
	h = newHarness(t, interval)
	h.now = tick(2 * time.Second)
	if code := h.run("--view", "gc", "--each", "-c", "1", dir); code != 0 || h.err.Len() > 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	pid := strconv.Itoa(os.Getpid()) // both files are this process's
	want = []string{
		"pid gcs gc% pause.p99 live goal alloc/s goroutines cpu%",
		pid + " 2 0.50% 1.00ms 1.0MiB 4.0MiB 1.0MiB 10 40.0%",
		pid + " 1 1.5% 4.00ms 512KiB 4.0MiB 512KiB 5 10.0%",
	}
	if got := fieldLines(h.lines()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("--each: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// fieldLines returns the lines with their fields one space apart.
func fieldLines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Join(strings.Fields(l), " ")
	}
	return out
}

// TestViewSchedAndMem checks the other views' columns over the same two
// processes: gauges added up, GOMAXPROCS and GOMEMLIMIT their mean (off
// when no process has a limit), the goroutines created in the interval,
// the scheduling latency percentiles of the merged buckets.
func TestViewSchedAndMem(t *testing.T) {
	dir := t.TempDir()
	a, fa := newRuntimeWriter(t, dir, "a.mmstats", "web.stats.")
	b, fb := newRuntimeWriter(t, dir, "b.mmstats", "")
	for range 100 {
		a.Latencies.Observe(2e-6)
		b.Latencies.Observe(0.0005)
	}
	a.Latencies.Observe(2e-6) // the 101st of 201: the median
	fa.Refresh()
	fb.Refresh()
	for i, s := range []*fakeRuntime{a, b} {
		s.Runnable.Set(uint64(1 + i))
		s.Waiting.Set(uint64(7 + i))
		s.Procs.Set(uint64(2 + 2*i))
		s.Threads.Set(uint64(5 + i))
		s.RSS.Set(uint64(10+i) * mib)
		s.Objects.Set(2 * mib)
		s.Unused.Set(mib)
		s.Free.Set(3 * mib)
		s.Released.Set(uint64(i) * 1024 * mib)
		s.Stacks.Set(256 << 10)
		s.Limit.Set(math.MaxInt64)
	}
	interval := func() {
		a.apply(step{created: 40, user: 0.5, system: 0.5, goroutines: 10, allocs: 3 * mib, live: mib, goal: 4 * mib})
		b.apply(step{created: 2, goroutines: 5, live: mib, goal: 4 * mib})
	}
	h := newHarness(t, interval)
	h.now = tick(2 * time.Second)
	if code := h.run("--view", "sched", "-c", "1", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	want := []string{
		"goroutines runnable waiting created lat.p50 lat.p99 maxprocs threads cpu%",
		"15 3 15 42 2.00µs 500µs 3 11 50.0%",
	}
	if got := fieldLines(h.lines()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sched: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	h = newHarness(t, interval)
	h.now = tick(2 * time.Second)
	if code := h.run("--view", "mem", "-c", "1", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	want = []string{
		"rss objects unused free released stacks live goal limit alloc/s",
		"21.0MiB 4.0MiB 2.0MiB 6.0MiB 1.0GiB 512KiB 2.0MiB 8.0MiB off 1.5MiB",
	}
	if got := fieldLines(h.lines()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mem: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestViewMissingStats: a column whose stats no file has (an older Go,
// a system without /proc) shows "-", and a view over files of which
// none has runtime stats is an error (exit 1) that says so.
func TestViewMissingStats(t *testing.T) {
	dir := t.TempDir()
	type oldRuntime struct {
		Goroutines mmstats.Uint64  `mmstats:"go.sched.goroutines"`
		Cycles     mmstats.Counter `mmstats:"go.gc.cycles.total"`
	}
	s := new(oldRuntime)
	f, err := mmstats.New(s, mmstats.Options{Dir: dir, Filename: "old.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s.Goroutines.Set(4)
	h := newHarness(t, func() { s.Cycles.Add(3) })
	if code := h.run("--view", "gc", "-c", "1", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got, want := fieldLines(h.lines())[1], "3 - - - - - 4 -"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	dir = t.TempDir()
	newWriter(t, dir, "web.mmstats")
	h = newHarness(t)
	if code := h.run("--view", "gc", "-c", "1", dir); code != cli.ExitFailure || !strings.Contains(h.err.String(), "none of the 1 stats files read has the Go runtime's stats") {
		t.Errorf("exit %d, stderr %q; want 1 and why", code, h.err.String())
	}
}

// TestViewNarrowTerminal: on a terminal too narrow for a view, the
// values take their short forms, with their units.
func TestViewNarrowTerminal(t *testing.T) {
	dir := t.TempDir()
	a, fa := newRuntimeWriter(t, dir, "a.mmstats", "")
	for range 10 {
		a.Pauses.Observe(0.00123)
	}
	fa.Refresh()
	h := newHarness(t, func() {
		a.apply(step{cycles: 1, allocs: 30 * mib, gcCPU: 0.5, totalCPU: 4, user: 0.25, live: 12 * mib, goal: 40 * mib, goroutines: 123})
	})
	h.term, h.width = true, 44
	h.now = tick(2 * time.Second)
	if code := h.run("--view", "gc", "-c", "1", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if w := h.maxWidth(); w > h.width {
		t.Errorf("lines %d wide on a terminal of %d:\n%s", w, h.width, h.out.String())
	}
	lines := fieldLines(h.lines())
	if got, want := lines[len(lines)-1], "1 12.5% 1.2ms 12M 40M 15M 123 12.5%"; got != want {
		t.Errorf("got %q, want %q:\n%s", got, want, h.out.String())
	}
}

// TestViewColumnValue checks the column math: a counter's change, a
// rate per second, a CPU percentage, a share.
func TestViewColumnValue(t *testing.T) {
	for _, tt := range []struct {
		calc   calc
		x      []float64
		dt     float64
		want   float64
		wantOK bool
	}{
		{calcValue, []float64{42}, 2, 42, true},
		{calcChange, []float64{3}, 2, 3, true},
		{calcPerSecond, []float64{3 * mib}, 2, 1.5 * mib, true},
		{calcPerSecond, []float64{3}, 0, 0, false},
		{calcPercentCPU, []float64{0.5, 0.3}, 2, 40, true}, // user+system over 2 s
		{calcPercentCPU, []float64{3, 1}, 1, 400, true},    // four CPUs busy
		{calcPercentCPU, []float64{1, 0}, -1, 0, false},    // no interval
		{calcShare, []float64{0.08, 8}, 2, 1, true},
		{calcShare, []float64{0, 0}, 2, 0, true}, // no GC ended: nothing counted
	} {
		c := viewColumn{calc: tt.calc}
		got, ok := c.value(tt.x, tt.dt)
		if ok != tt.wantOK || ok && math.Abs(got-tt.want) > 1e-9*math.Abs(tt.want) {
			t.Errorf("calc %d of %v over %v s = %v, %v; want %v, %v", tt.calc, tt.x, tt.dt, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestAppendUnit checks how a view prints values: exact and short.
func TestAppendUnit(t *testing.T) {
	for _, tt := range []struct {
		v           float64
		u           unit
		full, short string
	}{
		{0, unitBytes, "0B", "0B"},
		{512, unitBytes, "512B", "512B"},
		{999, unitBytes, "999B", "999B"},
		{1000, unitBytes, "1000B", "1.0K"},
		{1023.6, unitBytes, "1.0KiB", "1.0K"},
		{1536, unitBytes, "1.5KiB", "1.5K"},
		{445 * 1024, unitBytes, "445KiB", "445K"},
		{99.96 * 1024, unitBytes, "100KiB", "100K"},
		{1010 * 1024, unitBytes, "1010KiB", "1.0M"},
		{4 * mib, unitBytes, "4.0MiB", "4.0M"},
		{12.34 * mib, unitBytes, "12.3MiB", "12M"},
		{9.96 * mib, unitBytes, "10.0MiB", "10M"},
		{3 << 30, unitBytes, "3.0GiB", "3.0G"},
		{math.MaxInt64, unitLimit, "off", "off"},
		{1 << 30, unitLimit, "1.0GiB", "1.0G"},
		{0, unitSeconds, "0s", "0s"},
		{850e-9, unitSeconds, "850ns", "850ns"},
		{15.34e-6, unitSeconds, "15.3µs", "15µs"},
		{426.4e-6, unitSeconds, "426µs", "426µs"},
		{999.4e-6, unitSeconds, "999µs", "999µs"},
		{999.6e-6, unitSeconds, "1.00ms", "1.0ms"},
		{1.17e-3, unitSeconds, "1.17ms", "1.2ms"},
		{9.996e-3, unitSeconds, "10.0ms", "10ms"},
		{2.5, unitSeconds, "2.50s", "2.5s"},
		{1234, unitSeconds, "1234s", "1234s"},
		{0, unitPercent, "0.0%", "0.0%"},
		{0.5, unitPercent, "0.50%", "0.50%"},
		{0.0872, unitPercent, "0.087%", "0.09%"},
		{0.00123, unitPercent, "0.0012%", "0.00%"},
		{0.00001, unitPercent, "0.0000%", "0.00%"},
		{0.996, unitPercent, "1.0%", "1.0%"},
		{2.46, unitPercent, "2.5%", "2.5%"},
		{12.46, unitPercent, "12.5%", "12%"},
		{250.26, unitPercent, "250.3%", "250%"},
		{42, unitCount, "42", "42"},
		{1234567, unitCount, "1234567", "1.2M"},
		{2.5, unitCount, "2.5", "2.5"},
		{math.NaN(), unitBytes, "NaN", "NaN"},
	} {
		if got := string(appendUnit(nil, tt.v, tt.u, false)); got != tt.full {
			t.Errorf("appendUnit(%v, unit %d) = %q, want %q", tt.v, tt.u, got, tt.full)
		}
		got := string(appendUnit(nil, tt.v, tt.u, true))
		if got != tt.short {
			t.Errorf("appendUnit(%v, unit %d, short) = %q, want %q", tt.v, tt.u, got, tt.short)
		}
		if n := len([]rune(got)); n > compactWidth {
			t.Errorf("appendUnit(%v, unit %d, short) = %q: %d characters, more than %d", tt.v, tt.u, got, n, compactWidth)
		}
	}
}

// TestViewList: --view list lists every view and its columns, with the
// labels they read, and needs no file.
func TestViewList(t *testing.T) {
	h := newHarness(t)
	if code := h.run("--view", "list"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	out := h.out.String()
	for _, p := range presets {
		if !strings.Contains(out, "\n"+p.name+" ") && !strings.HasPrefix(out, p.name+" ") {
			t.Errorf("view %s not listed:\n%s", p.name, out)
		}
		for _, c := range p.cols {
			if !strings.Contains(out, "  "+c.head+" ") {
				t.Errorf("column %s of view %s not listed:\n%s", c.head, p.name, out)
			}
			for _, l := range c.in {
				if !strings.Contains(out, l) {
					t.Errorf("label %s of column %s not listed:\n%s", l, c.head, out)
				}
			}
		}
	}
}

// TestViewUsage: what a view does not take is a usage error (exit 2),
// said in one line, before any file is read.
func TestViewUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--view", "nope", dir}, `unknown view "nope": want gc, sched, mem, list`},
		{[]string{"--view", "gc", "2XX,5XX", dir}, `--view takes no FIELDS, only files: "2XX,5XX" is no file, directory or glob`},
		{[]string{"--view", "gc", "go.sched.goroutines"}, `--view takes no FIELDS`},
		{[]string{"--view", "gc", "-p", "web.stats", dir}, "--prefix does not apply to --view"},
		{[]string{"--view", "gc", "-f", "web", dir}, "--filter does not apply to --view"},
		{[]string{"--view", "gc", "-a", dir}, "--absolute does not apply to --view"},
		{[]string{"--view", "list", dir}, "--view list takes no arguments"},
		{nil, "missing FIELDS, a comma-separated list of labels, or --view VIEW"},
	} {
		h := newHarness(t)
		code := h.run(tt.args...)
		if code != cli.ExitUsage || !strings.Contains(h.err.String(), tt.want) || strings.Count(h.err.String(), "\n") > 2 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, h.err.String(), tt.want)
		}
		if h.out.Len() > 0 {
			t.Errorf("%q: output %q", tt.args, h.out.String())
		}
	}
	// A path that is gone is still a path: not a usage error.
	h := newHarness(t)
	if code := h.run("--view", "gc", "-c", "1", dir+"/gone.mmstats"); code != cli.ExitFailure {
		t.Errorf("a file that is gone: exit %d, want 1; stderr %q", code, h.err.String())
	}
}
