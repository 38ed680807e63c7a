package pollstats

import (
	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/reader"
)

// tracked is one path pollstats knows about, and the file it names.
type tracked struct {
	path string
	id   fileID
	f    *reader.File // nil while the file cannot be read (see err)
	err  string       // why it cannot be read, as last reported

	included bool           // has a field or matches a filter: summed
	idx      []int          // per column: the field's index, or -1
	gauge    []bool         // per column: the field is a gauge, shown as a value
	prev     []reader.Value // per column: the value read last
	cur      []reader.Value // per column: scratch for the values read now
	partial  bool           // a column has no field yet: updated first each interval
	seen     int            // generation of the last scan that found it
	updated  int            // the poll that last updated it (poller.tick)
}

// bind finds the columns' fields in the file and decides whether it is
// summed. A column whose field is new (or the file is) gets its baseline,
// the value that its changes are counted from; the others keep theirs,
// so that fields a writer appends join without disturbing the rest. A
// column that is a string in this file is left out of it (warned). The
// fields are looked up by label (reader.File.Lookup), never held: a file
// of millions of fields costs its mapping and 4 bytes a field.
func (t *tracked) bind(cols []column, filters []filter, log *logger) {
	old := t.idx
	t.idx = make([]int, len(cols))
	t.gauge = make([]bool, len(cols))
	if t.prev == nil {
		t.prev = make([]reader.Value, len(cols))
		t.cur = make([]reader.Value, len(cols))
	}
	for c, col := range cols { // an error shows on the next read
		i, f, ok := t.f.Lookup(col.label)
		switch {
		case !ok:
			t.idx[c] = -1
		case reader.KindOf(f.Sig.Code) == reader.String:
			t.idx[c] = -1
			log.warnf("%s: %s is a string here, not counted", cli.Quote(t.path), cli.Quote(col.label))
		default:
			t.idx[c] = i
			t.gauge[c] = isGauge(f.Meta.Kind)
		}
	}
	t.partial, t.included = false, false
	for c := range cols {
		switch i := t.idx[c]; {
		case i < 0:
			t.partial = true
			t.prev[c] = reader.Value{}
		case old == nil || old[c] != i:
			t.included = true
			t.prev[c], _ = t.f.Value(i) // an error shows on the next read
		default:
			t.included = true
		}
	}
	t.included = t.included || matchAny(t.f, filters)
}

// isGauge reports whether a field's metadata says it holds a current
// value (a gauge, a timestamp or an info field) rather than a count:
// pollstats shows its value, not its change. Fields without metadata are
// counted as counters, as the Python pollstats did.
func isGauge(k reader.Kind) bool {
	return k == reader.KindGauge || k == reader.KindTimestamp || k == reader.KindInfo
}

// read adds the file's share of each column to totals (changes since the
// last read, or current values when absolute or for gauges) and keeps the
// values for the next read. On an error it adds nothing.
func (t *tracked) read(totals, scratch []total, absolute bool) error {
	for c := range scratch {
		scratch[c] = total{}
	}
	if err := t.f.Values(t.idx, t.cur); err != nil {
		return err
	}
	for c, i := range t.idx {
		if i < 0 {
			continue
		}
		v := t.cur[c]
		add(&scratch[c], t.prev[c], v, absolute || t.gauge[c])
		t.prev[c] = v
	}
	for c := range scratch {
		totals[c].addTotal(&scratch[c])
	}
	return nil
}

// add adds one file's share of a column to t. A bool counts 1 when true.
// A change is counted only when the value went up: a value that went
// down (a restarted process, a replaced file) is a new baseline, not a
// negative change.
func add(t *total, prev, cur reader.Value, absolute bool) {
	same := prev.Kind() == cur.Kind()
	switch cur.Kind() {
	case reader.Bool:
		if cur.Bool() {
			t.addInt(1)
		}
	case reader.Int:
		switch c, p := cur.Int(), prev.Int(); {
		case absolute:
			t.addInt(c)
		case same && c >= p:
			t.addUint(uint64(c) - uint64(p))
		}
	case reader.Uint:
		switch c, p := cur.Uint(), prev.Uint(); {
		case absolute:
			t.addUint(c)
		case same && c >= p:
			t.addUint(c - p)
		}
	case reader.Float:
		t.float = true
		switch c, p := cur.Float(), prev.Float(); {
		case absolute:
			t.addFloat(c)
		case same && c > p: // false for NaN; an unchanged ±Inf is no change, not Inf-Inf
			t.addFloat(c - p)
		}
	}
}

// close unmaps the file, if open.
func (t *tracked) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}
