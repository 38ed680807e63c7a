package pollstats

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// poller keeps the files open between intervals and combines their
// columns. A file is parsed once, when it is first seen; each interval
// then costs one stat per directory (see sources) and one load per value
// (and a copy of the buckets of a histogram whose percentiles are shown).
type poller struct {
	cols     []column
	filters  []filter
	absolute bool
	each     bool // --each: a row per file, not one line over the files
	runtime  bool // --view: the columns are runtime stats, under each file's prefix (views.go)
	src      *sources
	log      *logger

	files map[string]*tracked // by path; the ID tells a replaced file
	bases baseStore           // their baselines (bases.go)
	gen   int                 // scan generation, to find the files gone
	tick  int                 // poll count, to update each file once a poll

	// The files by what each interval does with them, rebuilt when dirty.
	active  []*tracked // read and combined, sorted (see rebuild)
	refresh []*tracked // lacking a column or a filter match: updated first
	failed  []*tracked // cannot be read: opened again
	dirty   bool

	// Folding (totals.go): the totals files, the files they hold (by
	// sys.id, to the totals file's path), the files that left lately
	// (by sys.id), and whether a totals file replaced another.
	totals   []*tracked
	heldIDs  map[uint64]string
	departed map[uint64]departed
	foldsDue bool

	snap       reader.Snapshot // reads the cold files (cold.go)
	mapper     mapper          // and the helper that maps some (mapper.go)
	dirs       dirFDs          // their directories, to open those past the descriptor budget
	bound      map[bindKey]*bindings
	checked    map[*bindings]int // files found bound as bound's (share)
	cur        []reader.Value    // the values of the file being read (scratch)
	hot        hotState          // whether the hot loop runs (hot.go)
	fds, fdMax int               // descriptors held on cold files (counted again by rebuild), and how many may be
	opened     int               // files opened, for their phases
	coldBuf    []byte            // a cold file's words (scratch)
	recs       hotRecs
	words      []uint64 // and their words (scratch, words.go)
	warnedCold bool
	started    float64 // when pollstats first looked, in seconds since the epoch (for joined)

	// Combining the files of one interval. A column whose policy is sum
	// (counters, most gauges, and every field of a file without
	// metadata) is added up in its Number; the other columns go through
	// the Accumulator, with what their policies need: weights,
	// sys.created, histograms.
	agg    []colAgg
	acc    aggregate.Accumulator
	hist   reader.Histogram // the histogram being read
	warned []bool           // per column: said why it shows no value

	line []result // the interval's line: a result per column
	rows []row    // with --each: a row per file
	nrow int      // the rows of this interval
}

// colAgg is a column of one interval: its policy, that of the first
// file that has its field (the files go in order), and its sum.
type colAgg struct {
	seen   bool
	policy aggregate.Policy
	meta   reader.Meta
	sum    aggregate.Number
}

// result is what a column shows: a sum, or another value (the zero
// Value: nothing to show).
type result struct {
	isSum bool
	sum   aggregate.Number
	value reader.Value
	stamp bool // a timestamp: shown as an age on a terminal
}

// row is one file's line with --each.
type row struct {
	pid  reader.Value // its label: the file's PID
	path string       // the file, where it has no PID
	vals []result
}

// startPoller finds and opens the files, resolves the fields against
// their labels, and reads the first values. Its errors are exit errors:
// 1 when no file can be read, 2 for unknown and string fields.
func startPoller(o *Options, src *sources, log *logger) (*poller, error) {
	p := &poller{filters: parseFilters(o.Filters), absolute: o.Absolute, each: o.Each, runtime: o.preset != nil,
		src: src, log: log, files: map[string]*tracked{}, fdMax: fdLimit()}
	start := time.Now()
	p.started = float64(start.UnixNano()) / 1e9
	p.src.scan(start, p.warnErr)
	p.gen++
	// Made at their size: 100,000 files' map and list grown step by step
	// were 11 MB of garbage at start, at the peak of its memory.
	count := 0
	p.src.paths(func(string, fileID) { count++ }, p.warnErr)
	p.files = make(map[string]*tracked, count)
	found := make([]*tracked, 0, count)
	p.src.paths(func(path string, id fileID) {
		if p.files[path] != nil {
			return // named twice
		}
		t := newTracked(path, id)
		t.seen = uint16(p.gen)
		p.files[path] = t
		found = append(found, t)
	}, p.warnErr)
	// Opened in the order they are read (rebuild's, by path), so that
	// their mappings, and their entries on the heap, lie in that order:
	// each interval then goes through memory in order, where the
	// processor's caches of page tables serve one file after another.
	slices.SortFunc(found, func(a, b *tracked) int { return strings.Compare(a.path, b.path) })
	for _, t := range found {
		p.open(t)
	}
	for _, path := range src.missing() {
		p.log.warnf("%s: no such file", cli.Quote(path))
	}
	// The labels that the fields may mean, and whether a file has each
	// (as a string?). Only those are kept: a file of millions of labels
	// costs no memory here.
	wanted := labelSet{}
	for _, f := range o.Fields {
		for _, l := range joins(o.Prefix, f) {
			if !p.runtime { // a view's labels go under each file's prefix
				wanted[l] = false
			}
		}
	}
	labels := labelSet{}
	var failed []string
	// The labels are looked up in one file of each shared layout: the
	// others have them where it has them (a cold file is not even read).
	looked := map[*reader.Layout]bool{}
	for _, t := range p.files {
		if t.cold && looked[t.layout] {
			continue
		}
		tf := p.fileOf(t)
		if tf == nil {
			failed = append(failed, t.ex().err)
			continue
		}
		if l := tf.SharedLayout(); l != nil {
			if looked[l] {
				continue
			}
			looked[l] = true
		}
		for l := range wanted { // errors show when the file is read
			if _, f, ok := tf.Lookup(l); ok {
				labels[l] = labels[l] || reader.KindOf(f.Sig.Code) == reader.String
			}
		}
	}
	if len(p.files) == 0 {
		return nil, &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("no stats files match %s", strings.Join(src.names, " "))}
	}
	if len(failed) == len(p.files) {
		sort.Strings(failed)
		return nil, &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("cannot read any stats file:\n  " + strings.Join(failed, "\n  "))}
	}
	var cols []column
	var err error
	if p.runtime {
		cols, err = runtimeColumns(o.Fields, p.files)
	} else {
		cols, err = resolveColumns(o.Fields, o.Prefix, labels, p.allLabels)
	}
	if err != nil {
		return nil, err
	}
	p.cols = cols
	p.agg, p.line, p.warned = make([]colAgg, len(cols)), make([]result, len(cols)), make([]bool, len(cols))
	p.bases.n = len(cols)
	p.bases.reserve(len(found))
	for _, t := range found { // in the order read: the rows too
		if t.f != nil || t.cold {
			p.bind(t)
		}
	}
	p.rebuild()
	p.log.infof("reading %d files, combining %d", len(p.files), len(p.active))
	return p, nil
}

// maxSuggested bounds the labels that an unknown field is compared with,
// for its suggestions: a hostile file can have millions.
const maxSuggested = 100000

// allLabels returns the labels of the files, up to maxSuggested, to
// suggest the closest to an unknown field.
func (p *poller) allLabels() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range p.files {
		f := p.fileOf(t)
		if f == nil {
			continue
		}
		scanFields(f, func(_ int, f *reader.Field) bool {
			if !seen[f.Label] {
				seen[f.Label] = true
				out = append(out, f.Label)
			}
			return len(out) < maxSuggested
		})
		if len(out) >= maxSuggested {
			break
		}
	}
	return out
}

// poll reads every file once and sets the interval's results: p.line,
// or with --each, p.rows[:p.nrow]. They stay valid until the next poll.
func (p *poller) poll(now time.Time) {
	changed := p.src.scan(now, p.warnErr)
	if !changed && p.quiet() && p.heat() && p.nothingDue() {
		p.tick++
		p.mapBegin()
		p.acc.Reset()
		clear(p.agg)
		p.nrow = 0
		switch k, err := p.hotLoop(); {
		case k == len(p.active):
		case err == errSlow:
			p.readFiles(k)
		default:
			p.fail(p.active[k], err)
			p.readFiles(k + 1)
		}
		p.finish()
		return
	}
	p.cool()
	if changed {
		p.reconcile()
	}
	if p.dirty {
		p.rebuild()
	}
	for _, t := range p.failed {
		if p.open(t) {
			t.bindings = unbound // counted again from now, as a new file
			p.bind(t)
			p.dirty = true
			p.foldsDue = p.foldsDue || t.totals && t.ex().old != nil
		}
	}
	p.tick++
	for _, t := range p.refresh {
		p.update(t)
		t.warm()
	}
	if p.dirty {
		p.rebuild()
	}
	p.settleFolds()
	if p.dirty {
		p.rebuild()
	}
	p.mapBegin()
	p.acc.Reset()
	clear(p.agg)
	p.nrow = 0
	p.readFiles(0)
	p.finish()
}

// readFiles reads and combines the files of p.active from position k.
func (p *poller) readFiles(k int) {
	for _, t := range p.active[k:] {
		switch {
		case t.cold && p.quick(t): // p.cur read
		case t.cold && !p.look(t):
			continue
		case !t.cold && t.updated != int32(p.tick) && p.due(t) && !p.update(t):
			continue
		default:
			if err := t.read(p.scratch(len(t.idx)), p.wordScratch(len(t.idx))); err != nil {
				p.fail(t, err)
				continue
			}
		}
		if p.each {
			p.addRow(t)
		} else {
			p.combine(t)
		}
		t.warm()
	}
}

// finish ends an interval: the lists made again if files failed, and
// the line's results set.
func (p *poller) finish() {
	p.mapWait()
	p.dirs.reset()
	if p.dirty {
		p.rebuild()
	}
	if !p.each {
		p.results()
	}
}

// combine adds file t's shares of the columns to the interval's. A
// column takes its policy from the first file that has it.
func (p *poller) combine(t *tracked) {
	fed := false
	for c := range p.cols {
		v := t.next(c, p.absolute, p.cur)
		if v.Kind() == reader.Invalid {
			continue
		}
		a, b := &p.agg[c], &t.cols[c]
		if !a.seen {
			a.seen, a.policy, a.meta = true, b.policy, b.meta
		}
		if a.policy == aggregate.Sum {
			a.sum.Add(v)
			continue
		}
		if !fed {
			p.acc.Begin(t.path)
			fed = true
		}
		s := reader.Stat{Label: p.cols[c].label, Value: v, Meta: b.meta}
		p.acc.Add(&s)
		if b.weight >= 0 {
			s = reader.Stat{Label: b.weightL, Value: p.cur[b.weight]}
			p.acc.Add(&s)
		}
	}
	if !fed {
		return
	}
	if t.created >= 0 {
		s := reader.Stat{Label: t.createL, Value: p.cur[t.created], Meta: reader.Meta{Kind: reader.KindTimestamp}}
		p.acc.Add(&s)
	}
	for k := range t.hists {
		if p.needsHist(t, k) {
			p.addHist(t, k)
		}
	}
	p.acc.End()
}

// needsHist reports whether a column of file t goes by the merged
// buckets of its histogram k.
func (p *poller) needsHist(t *tracked, k int) bool {
	for c := range p.cols {
		if t.cols[c].hist == k && p.agg[c].policy == aggregate.Quantile {
			return true
		}
	}
	return false
}

// addHist reads histogram k of file t and adds it to the merge. A group
// whose buckets cannot be read or merged is left out of the percentiles
// (warned once); the file's other stats still count.
func (p *poller) addHist(t *tracked, k int) {
	h := &t.hists[k]
	err := t.f.ReadHistogram(h.i, &p.hist)
	if err == nil {
		err = p.acc.AddHistogram(h.head, &p.hist)
	}
	if err == nil {
		return
	}
	if msg := cli.Quote(t.path) + ": " + cli.Quote(h.head) + ": " + err.Error(); msg != t.ex().histErr {
		p.log.warnf("%s", msg)
		t.more().histErr = msg
	}
}

// results sets the line of the interval from its columns.
func (p *poller) results() {
	for c := range p.cols {
		a, r := &p.agg[c], &p.line[c]
		*r = result{stamp: a.meta.Kind == reader.KindTimestamp}
		if !a.seen || a.policy == aggregate.Sum {
			r.isSum, r.sum = true, a.sum
			continue
		}
		tot, _ := p.acc.Total(p.cols[c].label)
		switch {
		case tot.Policy == aggregate.Sum && tot.From == "":
			r.isSum, r.sum = true, tot.Sum
		case tot.Policy == aggregate.None && !tot.Same:
			if !p.warned[c] {
				p.log.warnf("%s differs between files and is not combined (policy none): --each shows each file's", cli.Quote(p.cols[c].label))
				p.warned[c] = true
			}
		default:
			r.value = tot.Value
		}
	}
}

// addRow adds file t's row, with --each.
func (p *poller) addRow(t *tracked) {
	if p.nrow == len(p.rows) {
		p.rows = append(p.rows, row{vals: make([]result, len(p.cols))})
	}
	r := &p.rows[p.nrow]
	p.nrow++
	r.pid, r.path = t.ex().pid, t.path
	for c := range p.cols {
		r.vals[c] = result{stamp: t.cols[c].meta.Kind == reader.KindTimestamp, value: t.next(c, p.absolute, p.cur)}
	}
}

// bind binds t's file to the columns; for a view, under the prefix of
// its runtime stats, unless it has none.
func (p *poller) bind(t *tracked) {
	p.bases.alloc(t) // the row its baselines are set in
	if t.cold && t.f == nil {
		if t.f = p.fileOf(t); t.f == nil {
			return
		}
		defer t.warm()
	}
	if p.runtime && !p.runtimeOf(t) {
		return
	}
	if b := p.sharedBindings(t); b != nil && p.checked[b] >= checkShared {
		t.rebind(b, p.cols, p.filters, p.each, p.log)
		if t.fast != nil && t.f != nil {
			t.f.Forget() // read as words from now on
		}
		return
	}
	t.bind(p.cols, p.filters, p.each, p.log)
	p.share(t)
}

// wordScratch returns the words read from one file, up to n of them.
func (p *poller) wordScratch(n int) []uint64 {
	if len(p.words) < n {
		p.words = make([]uint64, n)
	}
	return p.words
}

// reconcile brings the files in line with what the sources found: new
// paths are opened, paths gone are closed, and a path whose ID changed
// is read as a new file.
func (p *poller) reconcile() {
	p.gen++
	p.src.paths(func(path string, id fileID) {
		t := p.files[path]
		var old *totalsOld
		var was *identity
		switch {
		case t == nil:
			t = newTracked(path, id)
			p.files[path] = t
			p.log.infof("added %s", cli.Quote(path))
		case t.id != id:
			old, was = t.keepOld(), t.keepIdentity()
			t.close()
			p.bases.release(t)
			*t = *newTracked(path, id)
			p.log.infof("replaced %s", cli.Quote(path))
		default:
			t.seen = uint16(p.gen)
			return
		}
		t.seen = uint16(p.gen)
		if p.open(t) {
			p.bind(t)
		}
		p.joined(t, was)
		p.sinceJoined(t, old)
		p.dirty = true
	}, p.warnErr)
	for path, t := range p.files {
		if t.seen != uint16(p.gen) {
			p.depart(t)
			t.close()
			p.bases.release(t)
			delete(p.files, path)
			p.log.infof("removed %s", cli.Quote(path))
			p.dirty = true
		}
	}
}

// open opens t's file and reports whether it could.
func (p *poller) open(t *tracked) bool {
	f, cold, err := p.openFile(t.path)
	if err != nil {
		p.fail(t, err)
		return false
	}
	if t.ex().err != "" {
		p.log.warnf("%s: readable again", cli.Quote(t.path))
	}
	t.f = f
	if t.x != nil {
		t.x.err = ""
	}
	t.phase = uint8(p.opened % updateEvery)
	p.opened++
	p.identify(t)
	if cold {
		t.f, t.cold, t.layout = nil, true, f.SharedLayout()
		return true
	}
	p.chill(t)
	return true
}

// updateEvery is how many polls a mapped file that has every column
// goes without Update (see due).
const updateEvery = 16

// due reports whether t's file is updated (reader.File.Update) this
// poll before it is read. A copy is, to read its values again, and so is
// a file that lacks a column, which its writer may append. A mapped file
// that has them all shows its writer's values as they are written; what
// Update would find there is a file grown into a larger copy at its
// path, or replaced, which the look at the sources each poll finds too
// (the path's inode changed: reconcile), so it is checked only every
// updateEvery polls. That saves touching the end of its fields, a page
// of its own, in every file every interval: a third of an interval.
func (p *poller) due(t *tracked) bool {
	return t.cold || t.f.IsCopy() || t.partial || p.tick%updateEvery == 0
}

// update brings t's file up to date (reader.File.Update: fields
// appended, the file grown by its writer, a copy read again) and reports
// whether t is read this interval. A file that another took the place of
// is read as a new file.
func (p *poller) update(t *tracked) bool {
	if t.cold {
		return p.look(t)
	}
	t.updated = int32(p.tick)
	changed, err := t.f.Update()
	switch {
	case errors.Is(err, reader.ErrReplaced):
		old, was := t.keepOld(), t.keepIdentity()
		t.close()
		p.bases.release(t)
		id, _ := lstatID(t.path) // what the next scan will find
		*t = tracked{bindings: unbound, path: t.path, id: id, seen: t.seen, updated: int32(p.tick)}
		p.log.infof("replaced %s", cli.Quote(t.path))
		if p.open(t) {
			p.bind(t)
		}
		p.joined(t, was)
		p.sinceJoined(t, old)
		p.dirty = true
		return false
	case err != nil:
		p.fail(t, err)
		return false
	case changed:
		p.bind(t)
		p.dirty = true
	}
	return t.included
}

// fail closes t's file after err, warning once per distinct error.
func (p *poller) fail(t *tracked, err error) {
	reason := err.Error()
	var pe *reader.PathError
	if errors.As(err, &pe) && pe.Path == t.path {
		reason = pe.Err.Error()
	}
	msg := cli.Quote(t.path) + ": " + reason
	if msg != t.ex().err {
		p.log.warnf("%s", msg)
	}
	if t.f != nil || t.cold {
		t.close()
		t.cold = false // opened again as any file that failed
		p.dirty = true
	}
	t.more().err = msg
}

// warnErr reports a problem with a source.
func (p *poller) warnErr(err error) { p.log.warnf("%v", err) }

// rebuild sorts the files into the lists each interval goes through.
// The files read go in order: by path, so that the first file to have a
// column (whose policy the column takes) is always the same one; with
// --each, by PID, the order of the rows.
func (p *poller) rebuild() {
	p.cool() // the hot records follow p.active
	p.hot = hotUnknown
	p.held()
	p.active, p.refresh, p.failed = p.active[:0], p.refresh[:0], p.failed[:0]
	if cap(p.active) < len(p.files) { // made at its size, not grown
		p.active = make([]*tracked, 0, len(p.files))
	}
	p.fds = 0
	for _, t := range p.files {
		if t.wfd > 0 {
			p.fds++
		}
		switch {
		case t.f == nil && !t.cold:
			p.failed = append(p.failed, t)
		case t.folded: // its values are in a totals file
			continue
		case t.included:
			p.active = append(p.active, t)
		}
		if (t.f != nil || t.cold) && (t.partial || !t.included) {
			p.refresh = append(p.refresh, t)
		}
	}
	slices.SortFunc(p.active, func(a, b *tracked) int {
		if p.each { // the files without a PID last
			pa, pb := a.ex().pid, b.ex().pid
			noA, noB := pa.Kind() == reader.Invalid, pb.Kind() == reader.Invalid
			if c := cmp.Or(cmpBool(noA, noB), aggregate.Compare(pa, pb)); c != 0 {
				return c
			}
		}
		// The totals files last, as aggregate.Arrange reads them.
		return cmp.Or(cmpBool(a.totals, b.totals), strings.Compare(a.path, b.path))
	})
	p.dirty = false
	p.mapSync(false)
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// close closes every file.
func (p *poller) close() {
	for _, t := range p.files {
		t.close()
	}
	p.mapStop()
	p.snap.Close()
	p.dirs.reset()
	p.src.close()
}
