package pollstats

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/pkg/reader"
)

// A view (--view NAME) is a preset set of columns computed from the Go
// runtime's stats, which a Go writer publishes with
// mmstats.Options{Runtime: true}: jstat for Go processes. Its columns
// read labels as the writer names them (go.gc.cycles.total,
// proc.cpu.user...), each file's under its own label prefix, the prefix
// of its sys.pid (the demo's web.stats.go.gc.cycles.total). The poller
// reads those labels as it reads FIELDS, combined over the files by
// their policies (or a row per file with --each); a view column then
// computes its value from them, such as a rate per second or a CPU
// percentage, and shows it with its unit.

// viewList is the --view that lists the views.
const viewList = "list"

// preset is one view.
type preset struct {
	name string
	doc  string
	cols []viewColumn
	// The labels the columns read, each once, in the order first
	// named: the poller's columns.
	inputs []string
	idx    [][]int // per column: the positions of its inputs in inputs
}

// viewColumn is a column of a view.
type viewColumn struct {
	head string
	doc  string
	in   []string // the labels it reads, without the file's prefix
	calc calc
	unit unit
}

// calc is how a view column's value comes from its inputs, each the
// change of a counter in the interval or a gauge's value, as pollstats
// shows a field.
type calc int

const (
	calcValue      calc = iota // the input itself
	calcChange                 // the input, a counter: its change in the interval
	calcPerSecond              // the inputs' sum, per second of the interval
	calcPercentCPU             // CPU seconds in the interval (the inputs' sum) per second, ×100: 100% is one CPU
	calcShare                  // the first input as a percentage of the second (0 when the second is 0)
)

// unit is how a view column's values print.
type unit int

const (
	unitCount   unit = iota // a number, integers exactly
	unitBytes               // 512B, 445KiB, 12.3MiB
	unitSeconds             // 850ns, 15.3µs, 1.17ms
	unitPercent             // 12.5%
	unitLimit               // bytes, or "off" for no limit (math.MaxInt64: GOMEMLIMIT=off)
)

// The labels the views read: runtime/metrics' as mmstats.Options.Runtime
// publishes them, and the process's stats.
const (
	rtGCCycles     = "go.gc.cycles.total"
	rtHeapLive     = "go.gc.heap.live"
	rtHeapGoal     = "go.gc.heap.goal"
	rtAllocBytes   = "go.gc.heap.allocs.bytes"
	rtGCPauseP99   = "go.sched.pauses.total.gc.p99"
	rtGCCPU        = "go.cpu.classes.gc.total"
	rtTotalCPU     = "go.cpu.classes.total"
	rtGoroutines   = "go.sched.goroutines"
	rtRunnable     = "go.sched.goroutines.runnable"
	rtWaiting      = "go.sched.goroutines.waiting"
	rtCreated      = "go.sched.goroutines-created"
	rtLatencyP50   = "go.sched.latencies.p50"
	rtLatencyP99   = "go.sched.latencies.p99"
	rtGOMAXPROCS   = "go.sched.gomaxprocs"
	rtHeapObjects  = "go.memory.classes.heap.objects"
	rtHeapUnused   = "go.memory.classes.heap.unused"
	rtHeapFree     = "go.memory.classes.heap.free"
	rtHeapReleased = "go.memory.classes.heap.released"
	rtHeapStacks   = "go.memory.classes.heap.stacks"
	rtMemLimit     = "go.gc.gomemlimit"
	procUser       = "proc.cpu.user"
	procSystem     = "proc.cpu.system"
	procRSS        = "proc.rss"
	procThreads    = "proc.threads"
)

// runtimeMarker is the label that tells a file with the runtime's stats,
// under the prefix of its sys.pid: a metric of every Go since go1.16.
const runtimeMarker = rtGoroutines

// The columns that more than one view has.
var (
	colCPU = viewColumn{head: "cpu%", in: []string{procUser, procSystem}, calc: calcPercentCPU, unit: unitPercent,
		doc: "CPU time, user and system, per second: 100% is one CPU"}
	colGoroutines = viewColumn{head: "goroutines", in: []string{rtGoroutines}, unit: unitCount,
		doc: "goroutines that exist"}
	colLive = viewColumn{head: "live", in: []string{rtHeapLive}, unit: unitBytes,
		doc: "heap of live objects, as the last GC marked them"}
	colGoal = viewColumn{head: "goal", in: []string{rtHeapGoal}, unit: unitBytes,
		doc: "heap size the GC cycle aims to end at"}
	colAlloc = viewColumn{head: "alloc/s", in: []string{rtAllocBytes}, calc: calcPerSecond, unit: unitBytes,
		doc: "heap bytes allocated per second"}
)

// presets are the views, in the order --view list shows them.
var presets = []*preset{
	newPreset("gc", "the garbage collector: cycles, CPU share, pauses; the heap; allocation", []viewColumn{
		{head: "gcs", in: []string{rtGCCycles}, calc: calcChange, unit: unitCount,
			doc: "GC cycles ended in the interval"},
		{head: "gc%", in: []string{rtGCCPU, rtTotalCPU}, calc: calcShare, unit: unitPercent,
			doc: "GC's share of Go's CPU time (GOMAXPROCS × time), as the runtime estimates it"},
		{head: "pause.p99", in: []string{rtGCPauseP99}, unit: unitSeconds,
			doc: "99th percentile of the GC's stop-the-world pauses, since start"},
		colLive, colGoal, colAlloc, colGoroutines, colCPU,
	}),
	newPreset("sched", "the scheduler: goroutines and their wait to run; GOMAXPROCS, threads, CPU", []viewColumn{
		colGoroutines,
		{head: "runnable", in: []string{rtRunnable}, unit: unitCount,
			doc: "goroutines ready to run, waiting for a P (go1.26+)"},
		{head: "waiting", in: []string{rtWaiting}, unit: unitCount,
			doc: "goroutines blocked on channels, locks, I/O, timers (go1.26+)"},
		{head: "created", in: []string{rtCreated}, calc: calcChange, unit: unitCount,
			doc: "goroutines created in the interval"},
		{head: "lat.p50", in: []string{rtLatencyP50}, unit: unitSeconds,
			doc: "median time a ready goroutine waited to run, since start"},
		{head: "lat.p99", in: []string{rtLatencyP99}, unit: unitSeconds,
			doc: "99th percentile of that wait, since start"},
		{head: "maxprocs", in: []string{rtGOMAXPROCS}, unit: unitCount,
			doc: "GOMAXPROCS (over processes: the mean)"},
		{head: "threads", in: []string{procThreads}, unit: unitCount,
			doc: "threads, as the kernel counts them (Linux)"},
		colCPU,
	}),
	newPreset("mem", "memory: resident size; the heap by class, its goal and limit; allocation", []viewColumn{
		{head: "rss", in: []string{procRSS}, unit: unitBytes,
			doc: "resident set size (Linux)"},
		{head: "objects", in: []string{rtHeapObjects}, unit: unitBytes,
			doc: "heap of objects, live or not yet swept"},
		{head: "unused", in: []string{rtHeapUnused}, unit: unitBytes,
			doc: "heap reserved for objects, not in use"},
		{head: "free", in: []string{rtHeapFree}, unit: unitBytes,
			doc: "heap free, not returned to the OS"},
		{head: "released", in: []string{rtHeapReleased}, unit: unitBytes,
			doc: "heap free, returned to the OS"},
		{head: "stacks", in: []string{rtHeapStacks}, unit: unitBytes,
			doc: "heap used for goroutine stacks"},
		colLive, colGoal,
		{head: "limit", in: []string{rtMemLimit}, unit: unitLimit,
			doc: "GOMEMLIMIT, off for none (over processes: the mean)"},
		colAlloc,
	}),
}

// newPreset returns a view of cols, with its inputs.
func newPreset(name, doc string, cols []viewColumn) *preset {
	p := &preset{name: name, doc: doc, cols: cols, idx: make([][]int, len(cols))}
	for c, col := range cols {
		for _, l := range col.in {
			i := slices.Index(p.inputs, l)
			if i < 0 {
				i = len(p.inputs)
				p.inputs = append(p.inputs, l)
			}
			p.idx[c] = append(p.idx[c], i)
		}
	}
	return p
}

// findPreset returns the view called name, or a usage error listing the
// views.
func findPreset(name string) (*preset, error) {
	for _, p := range presets {
		if p.name == name {
			return p, nil
		}
	}
	return nil, cli.UsageError("unknown view %q: want %s", name, strings.Join(viewNames(), ", "))
}

// viewNames returns what --view takes: the views' names, and list.
func viewNames() []string {
	var names []string
	for _, p := range presets {
		names = append(names, p.name)
	}
	return append(names, viewList)
}

// validateView checks the options of a view and sets its columns'
// inputs as the fields.
func (o *Options) validateView() error {
	p, err := findPreset(o.View)
	if err != nil {
		return err
	}
	switch {
	case o.Prefix != "":
		return cli.UsageError("--prefix does not apply to --view: a view finds its labels under each file's own prefix")
	case len(o.Filters) > 0:
		return cli.UsageError("--filter does not apply to --view: a view reads the files that have the Go runtime's stats")
	case o.Absolute:
		return cli.UsageError("--absolute does not apply to --view: a view's columns say what they show (--view list)")
	}
	for _, a := range o.Args {
		if looksLikeFields(a) {
			return cli.UsageError("--view takes no FIELDS, only files: %q is no file, directory or glob", a)
		}
	}
	o.preset, o.Fields = p, p.inputs
	return nil
}

// looksLikeFields reports whether an argument of a view is FIELDS given
// by mistake rather than a path: it names nothing, and has no '/', no
// wildcard and no .mmstats suffix (a file of the current directory that
// is gone still has that).
func looksLikeFields(arg string) bool {
	if strings.Contains(arg, "/") || convention.HasMeta(arg) || strings.HasSuffix(arg, ".mmstats") {
		return false
	}
	_, err := os.Lstat(arg)
	return errors.Is(err, fs.ErrNotExist)
}

// heads returns the headers of the view's columns.
func (p *preset) heads() []string {
	h := make([]string, len(p.cols))
	for i, c := range p.cols {
		h[i] = c.head
	}
	return h
}

// writeViews writes --view list: each view, and each of its columns
// with what it shows and the labels it reads.
func writeViews(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range presets {
		fmt.Fprintf(tw, "%s\t%s\n", p.name, p.doc)
		for _, c := range p.cols {
			fmt.Fprintf(tw, "  %s\t%s (%s)\n", c.head, c.doc, c.source())
		}
	}
	return tw.Flush()
}

// source describes where a column's value comes from.
func (c *viewColumn) source() string {
	in := strings.Join(c.in, " + ")
	switch c.calc {
	case calcChange:
		return "Δ" + in
	case calcPerSecond:
		return "Δ" + in + " / s"
	case calcPercentCPU:
		return "Δ(" + in + ") / s × 100"
	case calcShare:
		return "Δ" + c.in[0] + " / Δ" + c.in[1] + " × 100"
	}
	return in
}

// value computes the column from its inputs x, over an interval of dt
// seconds; ok is false when it has no value (an input missing, or no
// interval).
func (c *viewColumn) value(x []float64, dt float64) (v float64, ok bool) {
	sum := 0.0
	for _, v := range x {
		sum += v
	}
	switch c.calc {
	case calcPerSecond:
		if !(dt > 0) {
			return 0, false
		}
		return sum / dt, true
	case calcPercentCPU:
		if !(dt > 0) {
			return 0, false
		}
		return sum / dt * 100, true
	case calcShare:
		if x[1] == 0 {
			return 0, true
		}
		return x[0] / x[1] * 100, true
	}
	return x[0], true
}

// runtimePrefix returns the prefix of the labels of f's runtime stats:
// that of its sys.pid (the Go writer's LabelPrefix), or none. ok is false
// for a file without them.
func runtimePrefix(f *reader.File) (prefix string, ok bool) {
	scanFields(f, func(_ int, fl *reader.Field) bool {
		if convention.DefaultField(fl.Label) != convention.PID {
			return true
		}
		prefix, ok = strings.CutSuffix(fl.Label, convention.PID)
		return false
	})
	if ok {
		if _, _, found := f.Lookup(prefix + runtimeMarker); found {
			return prefix, true
		}
	}
	if _, _, found := f.Lookup(runtimeMarker); found {
		return "", true
	}
	return "", false
}

// runtimeOf finds the runtime stats of t's file, for a view, and reports
// whether it has them; a file without is left out, said once (-v).
func (p *poller) runtimeOf(t *tracked) bool {
	prefix, ok := runtimePrefix(t.f)
	if !ok {
		if !t.noRuntime {
			p.log.warnf("%s: no Go runtime stats (a Go writer's Options.Runtime): left out of the view", cli.Quote(t.path))
			t.noRuntime = true
		}
		t.included, t.partial = false, false
		return false
	}
	t.more().prefix = prefix
	return true
}

// runtimeColumns returns the poller's columns for a view: its inputs, by
// their labels without a prefix. An input that no file has shows no
// value ("-"), not an error: a Go version or a system may not publish
// it. It is an error (exit 1) when no file has runtime stats at all.
func runtimeColumns(inputs []string, files map[string]*tracked) ([]column, error) {
	readable := 0
	for _, t := range files {
		if t.f == nil {
			continue
		}
		readable++
		if _, ok := runtimePrefix(t.f); ok {
			cols := make([]column, len(inputs))
			for i, l := range inputs {
				cols[i] = column{name: l, label: l}
			}
			return cols, nil
		}
	}
	return nil, &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf(
		"none of the %d stats files read has the Go runtime's stats (a Go writer with Options.Runtime, such as mmstats-demo's workers)", readable)}
}

// presetView is the state of a view's lines: the time of the last
// interval, and the inputs of a row.
type presetView struct {
	p    *preset
	last time.Time
	x    []float64 // the inputs of a row
	have []bool
	in   []float64 // a column's inputs
}

func newPresetView(p *preset, start time.Time) *presetView {
	return &presetView{p: p, last: start, x: make([]float64, len(p.inputs)), have: make([]bool, len(p.inputs))}
}

// unitWidths are the widest texts of the units, but for unlikely values
// (1000% and more, 1000 s and more): 1023KiB, 15.3µs, 100.0%.
var unitWidths = [...]int{unitBytes: 7, unitSeconds: 6, unitPercent: 6, unitLimit: 7}

// widen makes the columns of tab after the first labels as wide as
// their units' values from the start, so that the header printed before
// the first line (the only one, piped) lines up with the values.
func (pv *presetView) widen(tab *table, labels int) {
	for c, col := range pv.p.cols {
		tab.valueW[labels+c] = max(tab.valueW[labels+c], unitWidths[col.unit])
	}
	tab.fit(tab.limit)
}

// formatPreset returns the cells of the interval's rows for a view: its
// columns computed from the poller's line, or with --each from each
// file's row, over the interval since the last (now is when the values
// were read).
func (v *view) formatPreset(now time.Time) [][]cell {
	pv := v.preset
	dt := now.Sub(pv.last).Seconds()
	pv.last = now
	n, width, first := 1, len(pv.p.cols), 0
	if v.p.each {
		n, width, first = v.p.nrow, width+1, 1
	}
	for len(v.cells) < n {
		v.cells = append(v.cells, make([]cell, width))
	}
	rows := v.cells[:n]
	for i, cells := range rows {
		if v.p.each {
			r := &v.p.rows[i]
			setLabel(&cells[0], r)
			for k := range r.vals {
				pv.have[k] = !r.vals[k].none()
				pv.x[k] = r.vals[k].float(false, 0)
			}
		} else {
			for k := range v.p.line {
				pv.have[k] = v.p.agg[k].seen && !v.p.line[k].none()
				pv.x[k] = v.p.line[k].float(false, 0)
			}
		}
		for c := range pv.p.cols {
			pv.cell(&cells[first+c], c, dt)
		}
	}
	return rows
}

// cell sets c to view column k over an interval of dt seconds.
func (pv *presetView) cell(c *cell, k int, dt float64) {
	col := &pv.p.cols[k]
	pv.in = pv.in[:0]
	for _, i := range pv.p.idx[k] {
		if !pv.have[i] {
			c.text, c.v, c.none = append(c.text[:0], '-'), 0, true
			return
		}
		pv.in = append(pv.in, pv.x[i])
	}
	val, ok := col.value(pv.in, dt)
	if !ok {
		c.text, c.v, c.none = append(c.text[:0], '-'), 0, true
		return
	}
	c.text = appendUnit(c.text[:0], val, col.unit, false)
	c.short = appendUnit(c.short[:0], val, col.unit, true)
	c.v, c.none = val, false
}

// setLabel sets the first cell of row r, with --each: its PID, or the
// base name of its file where it has none.
func setLabel(label *cell, r *row) {
	label.text, label.none = label.text[:0], false
	if r.pid.Kind() != reader.Invalid {
		label.text = r.pid.AppendText(label.text)
	} else {
		label.text = append(label.text, cli.Quote(filepath.Base(r.path))...)
	}
}

// noLimit is where a memory limit means none: GOMEMLIMIT=off is
// math.MaxInt64 bytes, 2^63 as a float64 (a mean of them too).
const noLimit = 0x1p63 * 0.999

// appendUnit appends v as a view shows a value of unit u; with short,
// in at most compactWidth characters, for a narrow terminal.
func appendUnit(b []byte, v float64, u unit, short bool) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return appendFloat(b, v)
	}
	switch u {
	case unitBytes:
		return appendBytes(b, v, short)
	case unitLimit:
		if v >= noLimit {
			return append(b, "off"...)
		}
		return appendBytes(b, v, short)
	case unitSeconds:
		return appendSeconds(b, v, short)
	case unitPercent:
		return append(appendPercent(b, v, short), '%')
	}
	if short {
		return appendCompact(b, v)
	}
	return appendFloat(b, v)
}

// appendPercent appends a percentage with one decimal, 12.5 and 250.3,
// but two significant digits below 1 (up to 4 decimals), so that a
// small share is not 0.0: 0.50, 0.087, 0.0012; short, in 5 characters
// with its %: 12, 250, 2.5, 0.09.
func appendPercent(b []byte, v float64, short bool) []byte {
	a := math.Abs(v)
	switch {
	case a == 0:
		return append(b, "0.0"...)
	case a < 0.995 && short:
		return appendFixed(b, v, 2)
	case a < 0.995:
		return appendFixed(b, v, min(1-int(math.Floor(math.Log10(a))), 4))
	case short && a >= 9.95:
		return appendFixed(b, v, 0)
	}
	return appendFixed(b, v, 1)
}

// appendSig appends v with sig significant digits, or more where its
// integer part has more: 1.17, 15.3, 426, 1234 for 3.
func appendSig(b []byte, v float64, sig int) []byte {
	a := math.Abs(v)
	dec := max(sig-intDigits(a), 0)
	// 9.996 rounds to 10.00: one decimal fewer, 10.0.
	if dec > 0 && intDigits(roundTo(a, dec)) > intDigits(a) {
		dec--
	}
	return appendFixed(b, v, dec)
}

// intDigits returns the digits of a's integer part, 1 for 0.
func intDigits(a float64) int {
	if a < 10 {
		return 1
	}
	return int(math.Floor(math.Log10(a))) + 1
}

// roundTo rounds v to dec decimals.
func roundTo(v float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	return math.Round(v*p) / p
}

// appendFixed appends v with dec decimals, without a minus sign on a
// value that rounds to zero.
func appendFixed(b []byte, v float64, dec int) []byte {
	if roundTo(v, dec) == 0 {
		v = 0
	}
	return strconv.AppendFloat(b, v, 'f', dec, 64)
}

// appendBytes appends a size with a binary prefix: 512B, 4.0MiB,
// 12.3MiB, 445KiB, 1010KiB; short, in 4 characters or 5: 512B, 4.0M,
// 12M, 445K, 1.0M.
func appendBytes(b []byte, v float64, short bool) []byte {
	const prefixes = "KMGTPE"
	a, p := math.Abs(v), -1
	// Up a prefix where the value would print as 1000 or more; without
	// short, from 1024: 1000KiB to 1023KiB keep 7 characters.
	for p < len(prefixes)-1 && (a >= 1023.5 || short && a >= 999.5) {
		a /= 1024
		p++
	}
	if v < 0 {
		a = -a
	}
	if p < 0 {
		return append(appendFixed(b, a, 0), 'B')
	}
	dec := 1
	switch m := math.Abs(a); {
	case short && m >= 9.95, m >= 99.95:
		dec = 0
	}
	b = append(appendFixed(b, a, dec), prefixes[p])
	if !short {
		b = append(b, "iB"...)
	}
	return b
}

// appendSeconds appends a duration in seconds in the unit that keeps it
// from 1 to 999, with 3 significant digits: 850ns, 15.3µs, 426µs,
// 1.17ms, 2.50s; short, 2: 15µs, 1.2ms.
func appendSeconds(b []byte, v float64, short bool) []byte {
	if v == 0 {
		return append(b, "0s"...)
	}
	sig := 3
	if short {
		sig = 2
	}
	units := [...]struct {
		name  string
		scale float64
	}{{"ns", 1e9}, {"µs", 1e6}, {"ms", 1e3}, {"s", 1}}
	// The largest unit in which the value is 1 or more, or the next
	// larger where it would round to 1000: 999.6µs is 1.00ms.
	a, k := math.Abs(v), len(units)-1
	for k > 0 && a*units[k].scale < 1 && math.Round(a*units[k-1].scale) < 1000 {
		k--
	}
	return append(appendSig(b, v*units[k].scale, sig), units[k].name...)
}
