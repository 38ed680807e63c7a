package pollstats

import (
	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// tracked is one path pollstats knows about, and the file it names.
type tracked struct {
	// What each interval reads, first: the lines of memory it touches in
	// every file, every interval, are the fewer (the files' structures go
	// cold between intervals).
	f        *reader.File // nil while the file cannot be read (see err), and while cold
	cold     bool         // past the mapping budget: read through the poller's Snapshot (cold.go)
	included bool         // has a field or matches a filter: read each interval
	partial  bool         // a column has no field yet: updated first each interval
	// The other flags, here where they take no room of their own (each
	// would take 8 bytes of a tracked entry, 100,000 of them).
	noRuntime bool  // with --view: said to have no runtime stats
	hasFID    bool  // fid is set
	totals    bool  // a totals file (totals.go)
	folded    bool  // a totals file holds it: left out
	phase     uint8 // spreads the cold files' full looks over the polls (cold.go)
	updated   int32 // the poll that last updated it (poller.tick)
	// seen is the generation of the last scan that found it (poller.gen,
	// modulo 2^16: a file not found is gone at that scan).
	seen uint16
	// newborn: its sys.created is since pollstats started (see joined).
	newborn bool
	// wfd is a descriptor held on a cold file to read its words, plus 1
	// (0: none) (cold.go); below 0, the file's slot of the mapping
	// helper, -1 - slot (mapper.go).
	wfd int32
	// slot is the row of its baselines in bases, plus 1 (0: none, before
	// the first bind): see prev (bases.go).
	slot  int32
	bases *baseStore
	// bindings are how the file's fields make the columns: shared with
	// the files of the same layout (shared.go), never modified (bind
	// makes new ones), and never nil (unbound: not bound).
	*bindings

	path string
	id   fileID
	// x holds what few files have (an error, a view's prefix, a totals
	// file's folds), made when first set: nil for most (see ex, more).
	x *extra

	// Folding (totals.go): the file's sys.id (hasFID), whether it is a
	// totals file (totals), and whether a totals file holds this one
	// (folded: it is left out); the rest in x.
	fid uint64

	// layout is the shared layout a cold file's columns were found in.
	layout *reader.Layout
}

// extra is what a tracked file rarely has, apart from its entry, which
// 100,000 files each have (96 bytes each: 9.2 MiB).
type extra struct {
	err     string       // why it cannot be read, as last reported
	pid     reader.Value // sys.pid, for --each (Invalid if the file has none)
	histErr string       // the last histogram problem warned about
	// With --view: the prefix of the file's runtime stats, before every
	// label it is bound to (noRuntime: it has none).
	prefix string
	// Folding (totals.go): the sys.id of the files a totals file holds
	// (sorted); which totals file holds this one (folded); for a totals
	// file that replaced another, what that one held, until its baseline
	// is settled.
	foldedIDs []uint64
	heldBy    string
	old       *totalsOld
}

// ex returns what t rarely has, to read.
func (t *tracked) ex() extra {
	if t.x == nil {
		return extra{}
	}
	return *t.x
}

// more returns what t rarely has, to set: made if t had none.
func (t *tracked) more() *extra {
	if t.x == nil {
		t.x = &extra{}
	}
	return t.x
}

// bindings are the parts of a tracked file that its layout decides.
// idx holds the indexes of the fields read each interval, in one call
// (reader.File.Values): the columns' (-1 where the file lacks one), then
// the other stats that their policies need (a weight, sys.created),
// which aggregate.Inputs names; they are read into the poller's scratch
// buffer.
type bindings struct {
	idx   []int
	delta []bool    // per column: a counter, whose change is shown (hot: apart from cols)
	cols  []binding // per column: how the file's field counts
	// hists are the histogram groups of the file's percentile columns,
	// one per group, read when a column needs its merged buckets.
	hists   []histRef
	created int    // the position of sys.created in idx, or -1
	createL string // its label (a writer's prefix may come before sys.created)
	strs    []int  // the columns that are strings in the layout (left out, warned)
	// fast, when set, reads the values of idx as words (words.go).
	fast *wordRead
}

// unbound are the bindings of a file not bound (idx nil).
var unbound = &bindings{created: -1}

// newTracked returns the entry of the file at path whose ID is id.
func newTracked(path string, id fileID) *tracked {
	return &tracked{bindings: unbound, path: path, id: id}
}

// binding is how one column's field in one file counts.
type binding struct {
	policy  aggregate.Policy // how it combines with the other files'
	meta    reader.Meta
	weight  int    // the position of its weight in idx (a weighted mean), or -1
	weightL string // the weight's label
	hist    int    // its histogram in hists (a percentile), or -1
}

// histRef is a histogram group of a file: the label of its head, and
// the index of a field of it (for reader.File.ReadHistogram).
type histRef struct {
	head string
	i    int
}

// bind finds the columns' fields in the file, and the stats their
// policies need, and decides whether the file is read. A column whose
// field is new (or the file is) gets its baseline, the value that its
// changes are counted from; the others keep theirs, so that fields a
// writer appends join without disturbing the rest. A column that is a
// string in this file is left out of it (warned). The fields are looked
// up by label (reader.File.Lookup), after t.prefix (a view's), never
// held: a file of millions of fields costs its mapping and 4 bytes a
// field. With each, the file's PID is read for its row's label.
func (t *tracked) bind(cols []column, filters []filter, each bool, log *logger) {
	old := t.idx
	t.bindLayout(cols)
	t.settle(old, cols, filters, each, log)
}

// rebind is bind with the bindings b that another file of t's layout
// was bound to (shared.go): what bind would make of t, made once for
// all the files of a layout rather than once each (100,000 files: 140
// MB of garbage at start).
func (t *tracked) rebind(b *bindings, cols []column, filters []filter, each bool, log *logger) {
	old := t.idx
	t.bindings = b
	t.settle(old, cols, filters, each, log)
}

// bindLayout makes t's bindings: what its layout decides.
func (t *tracked) bindLayout(cols []column) {
	n := len(cols)
	prefix := t.ex().prefix
	t.bindings = &bindings{idx: make([]int, n, n+2), cols: make([]binding, n), delta: make([]bool, n), created: -1}
	offs := make([]spot, n, n+2) // where each of idx is a word (wordAt)
	needCreated := false
	for c, col := range cols { // an error shows on the next read
		b := &t.cols[c]
		b.weight, b.hist = -1, -1
		i, f, ok := t.f.Lookup(prefix + col.label)
		switch {
		case !ok:
			t.idx[c], offs[c] = -1, absentSpot
			continue
		case reader.KindOf(f.Sig.Code) == reader.String:
			t.idx[c], offs[c] = -1, absentSpot
			t.strs = append(t.strs, c)
			continue
		}
		t.idx[c], offs[c] = i, wordAt(&f)
		t.delta[c] = isCounter(f.Meta.Kind)
		b.policy, b.meta = aggregate.PolicyOf(f.Meta), f.Meta
		weight, created, head := aggregate.Inputs(col.label, f.Meta)
		if weight != "" {
			if wi, wf, ok := t.f.Lookup(prefix + weight); ok {
				b.weight, b.weightL = len(t.idx), weight
				t.idx = append(t.idx, wi)
				offs = append(offs, wordAt(&wf))
			}
		}
		needCreated = needCreated || created
		if head != "" {
			b.hist = t.histOf(head, i)
		}
	}
	if needCreated {
		scanFields(t.f, func(i int, f *reader.Field) bool {
			if convention.DefaultField(f.Label) == convention.Created {
				t.created, t.createL = len(t.idx), f.Label
				t.idx = append(t.idx, i)
				offs = append(offs, wordAt(f))
				return false
			}
			return true
		})
	}
	t.fast = newWordRead(t, offs)
}

// settle sets what t's file has of its own once bound (its bindings
// were old before): a column that is a string in it is warned about,
// a column whose field is new gets its baseline, and its PID, whether
// it lacks a column and whether it is read.
func (t *tracked) settle(old []int, cols []column, filters []filter, each bool, log *logger) {
	for _, c := range t.strs {
		log.warnf("%s: %s is a string here, not counted", cli.Quote(t.path), cli.Quote(cols[c].label))
	}
	if t.x != nil {
		t.x.pid = reader.Value{}
	}
	if each {
		t.more().pid = readPID(t.f)
	}
	t.partial, t.included = false, false
	prev := t.prev()
	for c := range cols {
		switch i := t.idx[c]; {
		case i < 0:
			t.partial = true
			prev.set(c, base{})
		case old == nil || old[c] != i:
			t.included = true
			v, _ := t.f.Value(i) // an error shows on the next read
			prev.set(c, baseOf(v))
		default:
			t.included = true
		}
	}
	t.included = t.included || matchAny(t.f, filters)
}

// histOf returns the position in t.hists of the histogram whose head is
// labelled head, adding it with field i if new.
func (t *tracked) histOf(head string, i int) int {
	for k, h := range t.hists {
		if h.head == head {
			return k
		}
	}
	t.hists = append(t.hists, histRef{head: head, i: i})
	return len(t.hists) - 1
}

// readPID returns the value of the file's sys.pid (under any prefix),
// or the zero Value.
func readPID(f *reader.File) reader.Value {
	var pid reader.Value
	scanFields(f, func(i int, fl *reader.Field) bool {
		if convention.DefaultField(fl.Label) != convention.PID {
			return true
		}
		if v, err := f.Value(i); err == nil && v.Kind().Numeric() && v.Kind() != reader.Bool {
			pid = v
		}
		return false
	})
	return pid
}

// isCounter reports whether a field counts (pollstats shows its change)
// rather than holds a current value (a gauge, a timestamp or an info
// field, shown as it is). Fields without metadata count as counters, as
// the Python pollstats had them (a bool always shows, see share).
func isCounter(k reader.Kind) bool {
	return k == reader.KindCounter || k == reader.KindUnknown
}

// read reads the file's values; next then gives its share of each
// column. On an error the values are not changed.
func (t *tracked) read(cur []reader.Value, words []uint64) error {
	if t.fast != nil {
		return t.fast.read(t.f, cur, words)
	}
	return t.f.Values(t.idx, cur)
}

// next returns the file's share of column c from the values read last
// (see share), and keeps the value as the baseline of the next change:
// the zero Value when the file lacks the column.
func (t *tracked) next(c int, absolute bool, cur []reader.Value) reader.Value {
	if t.idx[c] < 0 {
		return reader.Value{}
	}
	v, prev := cur[c], t.prev()
	s := share(prev.get(c).value(), v, t.delta[c] && !absolute)
	prev.set(c, baseOf(v))
	return s
}

// share returns a file's share of a column: the change of a counter
// since the previous read, else its value; a bool is 1 when true, else
// 0. A change is counted only when the value went up: a value that went
// down (a restarted process, a replaced file) is a new baseline, and
// counts 0, never a negative change. It is the zero Value for a value
// that is not a number.
func share(prev, cur reader.Value, delta bool) reader.Value {
	same := prev.Kind() == cur.Kind()
	switch cur.Kind() {
	case reader.Bool:
		if cur.Bool() {
			return reader.UintValue(1)
		}
		return reader.UintValue(0)
	case reader.Int:
		switch c, p := cur.Int(), prev.Int(); {
		case !delta:
			return cur
		case same && c >= p:
			return reader.UintValue(uint64(c) - uint64(p))
		}
		return reader.UintValue(0)
	case reader.Uint:
		switch c, p := cur.Uint(), prev.Uint(); {
		case !delta:
			return cur
		case same && c >= p:
			return reader.UintValue(c - p)
		}
		return reader.UintValue(0)
	case reader.Float:
		switch c, p := cur.Float(), prev.Float(); {
		case !delta:
			return cur
		case same && c > p: // false for NaN; an unchanged ±Inf is no change, not Inf-Inf
			return reader.FloatValue(c - p)
		}
		return reader.FloatValue(0)
	}
	return reader.Value{}
}

// close unmaps the file, if open.
func (t *tracked) close() {
	if t.wfd > 0 {
		closeWords(int(t.wfd) - 1)
	}
	t.wfd = 0 // below 0: a slot of the mapping helper, which mapSync frees
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}
