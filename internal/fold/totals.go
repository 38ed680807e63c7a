package fold

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// MaxTotalsSize bounds a totals file: a fold that would make it larger
// fails (the file stays unfolded). Its size is that of the labels it
// holds, whatever the number of files folded into it.
const MaxTotalsSize = 64 << 20

// Errors of a fold.
var (
	// ErrNotTotals means the file at a stats file's sys.totals name is
	// not a totals file (it has sys.pid, or no sys.folded): it is left
	// alone, and nothing is folded into it.
	ErrNotTotals = errors.New("not a totals file (it has sys.pid, or no " + convention.Folded + ")")
	// ErrTooLarge means the totals file would pass MaxTotalsSize.
	ErrTooLarge = errors.New("the totals file would be larger than 64 MiB")
)

// Totals is the content of a totals file: the folded counters and
// histograms by label, and the entries of sys.folded. The zero Totals is
// empty and ready to use.
type Totals struct {
	items   []*item
	byLabel map[string]*item // every label of every item (histogram members too)
	// Folded lists the files folded and perhaps not removed yet.
	Folded []convention.FoldedEntry
	// Skipped counts the fields of added files that could not be folded
	// because the totals hold their label with another shape (a counter
	// where a histogram was, a histogram of another schema).
	Skipped int
}

// item is one folded counter, or one folded histogram group.
type item struct {
	label  string
	meta   reader.Meta      // a counter's (role standalone)
	policy aggregate.Policy // a counter's: Sum, Max or Min
	sum    aggregate.Number // Sum
	best   reader.Value     // Max, Min
	hist   *histItem
}

// histItem is a folded histogram group: its stats, head first, and the
// merged histogram they are computed from.
type histItem struct {
	members []member
	h       reader.Histogram
}

// part says how a histogram group's stat is computed in a totals file.
type part int

const (
	partZero     part = iota // rates and windowed means: 0 (they describe live processes)
	partHead                 // the main stat: the mean, sum/count
	partCount                // the count, with the buckets in its pad bytes
	partSum                  // the sum
	partMin                  // the smallest value
	partMax                  // the largest value
	partQuantile             // a percentile, from the merged buckets
)

type member struct {
	label string
	meta  reader.Meta
	part  part
	q     float64 // partQuantile
}

// scanned is what a file says about itself for folding. A totals file
// has a string labelled sys.folded and no sys.pid.
type scanned struct {
	id       uint64 // sys.id (the last one), 0 if none
	totals   string // sys.totals (the last one)
	folded   string // sys.folded
	isFolded bool   // has a string sys.folded
	hasPID   bool   // has sys.pid
}

// scan reads what a file says about itself: its identity for folding,
// and whether it is a totals file.
func scan(data []byte) (s scanned, err error) {
	var verr error
	err = reader.Scan(data, func(f *reader.Field) bool {
		if f.Label == convention.Folded {
			if v, err := reader.ReadValue(data, f); err == nil && v.Kind() == reader.String {
				s.folded, s.isFolded = v.Str(), true
			}
			return true
		}
		switch convention.DefaultField(f.Label) {
		case convention.PID:
			s.hasPID = true
		case convention.ID:
			v, err := reader.ReadValue(data, f)
			if err != nil {
				verr = err
				return false
			}
			if v.Kind() == reader.Uint {
				s.id = v.Uint()
			}
		case convention.Totals:
			v, err := reader.ReadValue(data, f)
			if err != nil {
				verr = err
				return false
			}
			s.totals = v.Str()
		}
		return true
	})
	if err == nil {
		err = verr
	}
	return s, err
}

// ParseTotals reads the content of a totals file. A file that is not one
// gives ErrNotTotals.
func ParseTotals(data []byte) (*Totals, error) {
	s, err := scan(data)
	if err != nil {
		return nil, err
	}
	if !s.isFolded || s.hasPID {
		return nil, ErrNotTotals
	}
	t := &Totals{}
	if t.Folded, err = convention.ParseFolded(s.folded); err != nil {
		return nil, err
	}
	if err := t.add(data, true); err != nil {
		return nil, err
	}
	return t, nil
}

// Add folds the stats of a stats file, held in data, into t: its
// counters (kind counter) by their policy (sum, max or min) and its
// histogram groups (counts and buckets added, min and max kept).
// Gauges, timestamps, strings and info are not folded.
func (t *Totals) Add(data []byte) error { return t.add(data, false) }

func (t *Totals) add(data []byte, own bool) error {
	l, err := reader.Parse(data)
	if err != nil {
		return err
	}
	if t.byLabel == nil {
		t.byLabel = map[string]*item{}
	}
	var h reader.Histogram
	for i := 0; i < len(l.Fields); i++ {
		f := &l.Fields[i]
		if f.Meta.Role == reader.GroupHead {
			end := i + 1
			carrier := -1
			for end < len(l.Fields) && l.Fields[end].Group == i && l.Fields[end].Meta.Role == reader.GroupMember {
				if l.Fields[end].HasBuckets() && carrier < 0 {
					carrier = end
				}
				end++
			}
			if carrier >= 0 {
				if err := reader.ReadHistogram(data, l, i, &h); err == nil {
					t.addHistogram(l.Fields[i:end], carrier-i, &h)
				} else if own {
					return err
				}
				i = end - 1
				continue
			}
		}
		if f.Meta.Kind != reader.KindCounter {
			continue
		}
		p := aggregate.PolicyOf(f.Meta)
		if p != aggregate.Sum && p != aggregate.Max && p != aggregate.Min {
			continue
		}
		v, err := reader.ReadValue(data, f)
		if err != nil {
			if own {
				return err
			}
			continue
		}
		if k := v.Kind(); k != reader.Uint && k != reader.Int && k != reader.Float {
			continue
		}
		t.addCounter(f.Label, f.Meta, p, v)
	}
	return nil
}

// addCounter folds a counter's value.
func (t *Totals) addCounter(label string, m reader.Meta, p aggregate.Policy, v reader.Value) {
	it := t.byLabel[label]
	if it == nil {
		m.Role = reader.Standalone
		it = &item{label: label, meta: m, policy: p}
		t.items = append(t.items, it)
		t.byLabel[label] = it
	} else if it.hist != nil {
		t.Skipped++
		return
	}
	switch it.policy {
	case aggregate.Sum:
		it.sum.Add(v)
	case aggregate.Max, aggregate.Min:
		sign := 1
		if it.policy == aggregate.Min {
			sign = -1
		}
		if it.best.Kind() == reader.Invalid || aggregate.Compare(v, it.best)*sign > 0 {
			it.best = v
		}
	}
}

// addHistogram folds a histogram group: fields are its stats, head
// first, and fields[carrier] carries the buckets of h.
func (t *Totals) addHistogram(fields []reader.Field, carrier int, h *reader.Histogram) {
	head := fields[0].Label
	it := t.byLabel[head]
	if it != nil && it.hist == nil {
		t.Skipped++
		return
	}
	if it == nil {
		for _, f := range fields {
			if t.byLabel[f.Label] != nil {
				t.Skipped++ // a stat of the group is already a counter
				return
			}
		}
		it = &item{label: head, hist: &histItem{}}
		t.items = append(t.items, it)
	}
	hi := it.hist
	if err := hi.h.Merge(h); err != nil {
		t.Skipped++
		return
	}
	for k, f := range fields {
		if hi.has(f.Label) || t.byLabel[f.Label] != nil {
			continue // known, or another item's label
		}
		m := member{label: f.Label, meta: f.Meta}
		switch rest := strings.TrimPrefix(f.Label, head); {
		case k == 0:
			m.part = partHead
		case k == carrier:
			m.part = partCount
		case rest == ".sum":
			m.part = partSum
		case rest == ".min":
			m.part = partMin
		case rest == ".max":
			m.part = partMax
		case f.Meta.Aggregation == reader.AggrQuantile:
			if _, q, ok := aggregate.QuantileOf(f.Label); ok {
				m.part, m.q = partQuantile, q
			}
		}
		hi.members = append(hi.members, m)
		t.byLabel[f.Label] = it
	}
	if len(hi.members) == 0 || hi.members[0].part != partHead {
		// Cannot happen: the head comes first.
		panic("fold: histogram group without its head")
	}
}

func (hi *histItem) has(label string) bool {
	for _, m := range hi.members {
		if m.label == label {
			return true
		}
	}
	return false
}

// Labels returns the labels of the folded stats, in file order.
func (t *Totals) Labels() []string {
	var out []string
	for _, it := range t.items {
		if it.hist == nil {
			out = append(out, it.label)
			continue
		}
		for _, m := range it.hist.members {
			out = append(out, m.label)
		}
	}
	return out
}

// IsFolded reports whether sys.folded lists the file of sys.id id.
func (t *Totals) IsFolded(id uint64) bool {
	for _, e := range t.Folded {
		if e.ID == id {
			return true
		}
	}
	return false
}

// field is a field of a totals file being written.
type field struct {
	label string
	spec  v1.Spec
	slot  v1.Slot
	value func(mem []byte, at int) // writes the value at at
}

// Bytes returns the totals file: a v1 file of the folded stats, in the
// order they were first folded, then sys.folded. Every field is
// unbuffered; the histograms are groups with their buckets in the pad
// bytes of .count, as the writer makes them, so that readers merge them
// with the live files'.
func (t *Totals) Bytes() ([]byte, error) {
	var fields []field
	add := func(label string, m reader.Meta, s v1.Spec, value func([]byte, int)) error {
		unit, ok := v1.UnitIndex(m.Unit)
		if !ok {
			unit = 0
		}
		role := int(m.Role)
		if len(s.Prefix) > 0 { // the bucket descriptor
			role = v1.RoleBuckets
		}
		prefix, ok := v1.EncodeMeta(v1.Meta{Kind: int(m.Kind), Unit: unit, Role: role, Aggr: int(m.Aggregation)})
		if !ok {
			return fmt.Errorf("fold: %q: metadata %+v out of range", label, m)
		}
		s.Prefix = append(prefix, s.Prefix...)
		fields = append(fields, field{label: label, spec: s, value: value})
		return nil
	}
	for _, it := range t.items {
		if it.hist == nil {
			v := it.best
			if it.policy == aggregate.Sum {
				v = it.sum.Value()
			}
			if err := add(it.label, it.meta, numberSpec(v), putNumber(v)); err != nil {
				return nil, err
			}
			continue
		}
		if err := t.histFields(it.hist, add); err != nil {
			return nil, err
		}
	}
	folded := convention.AppendFolded(nil, t.Folded)
	n := (len(folded) + 15) &^ 15
	if n == 0 {
		n = 16
	}
	fm := reader.Meta{Kind: reader.KindInfo, Aggregation: reader.AggrNone}
	if err := add(convention.Folded, fm, v1.Spec{Code: strconv.Itoa(n) + "s", Size: n},
		func(mem []byte, at int) { copy(mem[at:], folded) }); err != nil {
		return nil, err
	}

	off := 1
	for i := range fields {
		f := &fields[i]
		if len(f.label) == 0 || len(f.label) > math.MaxUint16 {
			return nil, fmt.Errorf("fold: label of %d bytes", len(f.label))
		}
		slot, ok := v1.Place(off, len(f.label), f.spec)
		if !ok || len(slot.Type) > math.MaxUint16 {
			return nil, fmt.Errorf("fold: no layout for %q", f.label)
		}
		f.slot = slot
		off = slot.End
		if off > MaxTotalsSize {
			return nil, ErrTooLarge
		}
	}
	size := (off + 4 + 7) &^ 7 // and a zero label_sz: the end of the fields
	mem := make([]byte, size)
	mem[0] = v1.Version1
	for _, f := range fields {
		v1.WriteHeader(mem, f.slot, f.label, false, false)
		f.value(mem, f.slot.Value)
	}
	return mem, nil
}

// histFields adds the fields of a folded histogram group.
func (t *Totals) histFields(hi *histItem, add func(string, reader.Meta, v1.Spec, func([]byte, int)) error) error {
	h := &hi.h
	desc, ok := v1.EncodeDesc(v1.Desc{Schema: h.Schema, Lo: h.Lo, N: len(h.Counts)})
	if !ok || len(h.Counts) == 0 {
		return fmt.Errorf("fold: %q: histogram window [%d, %d) at schema %d cannot be described",
			hi.members[0].label, h.Lo, h.Lo+len(h.Counts), h.Schema)
	}
	double := func(v float64) (v1.Spec, func([]byte, int)) {
		return v1.Spec{Code: "d", Size: 8}, func(mem []byte, at int) {
			binary.NativeEndian.PutUint64(mem[at:], math.Float64bits(v))
		}
	}
	for k, m := range hi.members {
		meta := m.meta
		meta.Role = reader.GroupMember
		var s v1.Spec
		var put func([]byte, int)
		switch m.part {
		case partHead:
			meta.Role = reader.GroupHead
			mean := 0.0
			if h.Count > 0 {
				mean = h.Sum / float64(h.Count)
			}
			s, put = double(mean)
			s.Seq = true
		case partCount:
			pad := v1.PadSize(len(h.Counts))
			s = v1.Spec{Prefix: desc[:], Code: "Q" + strconv.Itoa(pad) + "x", Size: 8 + pad, Align: 8}
			put = func(mem []byte, at int) {
				binary.NativeEndian.PutUint64(mem[at:], h.Count)
				binary.NativeEndian.PutUint64(mem[at+8:], h.Underflow)
				binary.NativeEndian.PutUint64(mem[at+16:], h.Overflow)
				for i, c := range h.Counts {
					binary.NativeEndian.PutUint64(mem[at+24+8*i:], c)
				}
			}
		case partSum:
			s, put = double(h.Sum)
		case partMin:
			s, put = double(h.Min)
		case partMax:
			s, put = double(h.Max)
		case partQuantile:
			s, put = double(h.Quantile(m.q))
		default:
			s, put = double(0)
		}
		if k == 0 && m.part != partHead {
			return fmt.Errorf("fold: %q: histogram group without its head", m.label)
		}
		if err := add(m.label, meta, s, put); err != nil {
			return err
		}
	}
	return nil
}

// numberSpec is the type of a folded counter's value: "Q", "q" or "d".
func numberSpec(v reader.Value) v1.Spec {
	switch v.Kind() {
	case reader.Uint:
		return v1.Spec{Code: "Q", Size: 8}
	case reader.Int:
		return v1.Spec{Code: "q", Size: 8}
	}
	return v1.Spec{Code: "d", Size: 8}
}

func putNumber(v reader.Value) func([]byte, int) {
	return func(mem []byte, at int) {
		switch v.Kind() {
		case reader.Uint:
			binary.NativeEndian.PutUint64(mem[at:], v.Uint())
		case reader.Int:
			binary.NativeEndian.PutUint64(mem[at:], uint64(v.Int()))
		default:
			binary.NativeEndian.PutUint64(mem[at:], math.Float64bits(v.Float()))
		}
	}
}
