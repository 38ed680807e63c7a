package aggregate

import (
	"errors"
	"math"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Total is the result of one label over the files fed to an Accumulator.
type Total struct {
	Label  string
	Policy Policy      // the policy applied (never Default)
	Meta   reader.Meta // the metadata of the label in the first file that had it
	Files  int         // the files that had the label
	// Value is the result: for Sum, the exact sum as a reader.Value (a
	// Uint or Int while it fits 64 bits, else a Float; Sum has it
	// exactly); for Avg and WeightedAvg and Quantile a Float; for Max,
	// Min, Latest and None one file's value, as it was. It is the zero
	// Value (kind Invalid) when it cannot be computed: a Quantile without
	// any histogram.
	Value reader.Value
	// Sum is the exact sum, for the policy Sum.
	Sum Number
	// From is the path of the file the value came from, for Max, Min,
	// Latest and None (and for a Sum, Avg or WeightedAvg of values that
	// are not all numbers, which shows the first file's value).
	From string
	// Same reports whether every file had the same value: a None whose
	// files agree (a version) can be shown without naming a file.
	Same bool
	// Missing counts the files that had the label but not what its
	// policy needs: the histogram of a Quantile, the weight of a
	// WeightedAvg (such a mean is then unweighted).
	Missing int
}

// AppendText appends the value as the tools print it: a Sum exactly,
// whatever its size; other values as reader.Value.AppendText.
func (t *Total) AppendText(b []byte) []byte {
	if t.Policy == Sum && t.From == "" && t.Value.Kind() != reader.Invalid {
		return t.Sum.AppendText(b)
	}
	return t.Value.AppendText(b)
}

// Accumulator combines the stats of many files into one Total per label.
// Feed each file with AddFile, or, for a tool that reads only some
// stats, with Begin, Add (each stat), AddHistogram (each histogram
// group, by its head's label) and End; then read Totals. Reset starts
// over and keeps the memory, so that a poller does not allocate once
// warmed up. The zero Accumulator is ready to use; it is not safe for
// concurrent use.
type Accumulator struct {
	entries map[string]*entry
	order   []*entry // the labels of this round, in the order first seen
	hists   map[string]*histEntry
	round   int
	files   int
	totals  []Total

	// The file being fed.
	open      bool
	path      string
	pending   []reader.Stat
	index     map[string]int // label: index in pending
	fileHists []string       // the histograms AddHistogram got for it
	scratch   reader.Histogram
	carriers  []carrier
	key       []byte // a label being looked up
}

// carrier is a group whose member carries histogram buckets.
type carrier struct {
	i    int    // the carrier's field index
	head string // the head's label
}

// histEntry is a merged histogram.
type histEntry struct {
	h     reader.Histogram
	round int
}

// entry accumulates one label.
type entry struct {
	label  string
	policy Policy
	meta   reader.Meta
	round  int
	files  int
	// Sum, Avg, WeightedAvg: the numbers; other is set when a value is
	// not a number (the result is then the first value).
	num   Number
	n     int
	other bool
	// The first value, and whether all are the same.
	first     reader.Value
	firstFrom string
	same      bool
	// Max, Min, Latest: the value kept, its file and that file's
	// sys.created.
	best        reader.Value
	bestFrom    string
	bestCreated float64
	hasBest     bool
	// WeightedAvg: the sums of weight×value, of weights and of values.
	wsum, wtot, usum float64
	missing          int
}

// Reset forgets the files fed so far. Labels that were not seen in the
// round just ended are forgotten for good; the memory of the others is
// kept for the next round.
func (a *Accumulator) Reset() {
	for label, e := range a.entries {
		if e.round != a.round {
			delete(a.entries, label)
		}
	}
	for label, h := range a.hists {
		if h.round != a.round {
			delete(a.hists, label)
		}
	}
	clear(a.order)
	a.order = a.order[:0]
	clear(a.totals)
	a.totals = a.totals[:0]
	a.round++
	a.files = 0
	a.open = false
}

// Files returns the number of files fed since the last Reset.
func (a *Accumulator) Files() int { return a.files }

// Begin starts feeding the file at path (its name is what Total.From
// shows). A file begun before and not ended is ended first.
func (a *Accumulator) Begin(path string) {
	if a.open {
		a.End()
	}
	if a.index == nil {
		a.index = map[string]int{}
		a.entries = map[string]*entry{}
		a.hists = map[string]*histEntry{}
	}
	a.open, a.path = true, path
	clear(a.pending)
	a.pending = a.pending[:0]
	clear(a.index)
	a.fileHists = a.fileHists[:0]
}

// Add adds a stat of the file being fed (Begin). The stat is copied. A
// tool that feeds only some stats feeds the ones Inputs names too. A
// label that comes twice in one file counts once (the first).
func (a *Accumulator) Add(s *reader.Stat) {
	if !a.open {
		a.Begin("")
	}
	if _, dup := a.index[s.Label]; dup {
		return
	}
	a.index[s.Label] = len(a.pending)
	a.pending = append(a.pending, *s)
}

// AddHistogram adds the histogram of the file being fed whose group head
// is labelled label (see reader.File.ReadHistogram): the Quantile stats
// label.pDIGITS are computed from the merge of these. h is not kept. The
// error is the merge's (reader.ErrMerge): a schema that differs from the
// other files', or windows too far apart; the histogram is then left out.
func (a *Accumulator) AddHistogram(label string, h *reader.Histogram) error {
	if !a.open {
		a.Begin("")
	}
	for _, l := range a.fileHists {
		if l == label {
			return nil // the first one of a file counts
		}
	}
	he := a.hists[label]
	if he == nil {
		he = &histEntry{round: a.round}
		a.hists[label] = he
	} else if he.round != a.round {
		he.h.Reset()
		he.round = a.round
	}
	if err := he.h.Merge(h); err != nil {
		return err
	}
	a.fileHists = append(a.fileHists, label)
	return nil
}

// End ends the file being fed: its stats are combined with the other
// files' by their policies.
func (a *Accumulator) End() {
	if !a.open {
		return
	}
	a.open = false
	a.files++
	created := math.Inf(-1)
	for i := range a.pending {
		s := &a.pending[i]
		if strings.HasSuffix(s.Label, "sys.created") && s.Value.Kind().Numeric() {
			created = s.Value.Float()
			break
		}
	}
	for i := range a.pending {
		a.fold(&a.pending[i], created)
	}
}

// entry returns the entry of label for this round.
func (a *Accumulator) entry(label string, m reader.Meta) *entry {
	e := a.entries[label]
	if e == nil {
		e = &entry{label: label}
		a.entries[label] = e
	}
	if e.round != a.round || e.files == 0 {
		*e = entry{label: e.label, round: a.round, policy: PolicyOf(m), meta: m}
		a.order = append(a.order, e)
	}
	return e
}

// fold adds stat s of the current file, whose sys.created is created.
func (a *Accumulator) fold(s *reader.Stat, created float64) {
	e := a.entry(s.Label, s.Meta)
	e.files++
	v := s.Value
	if e.files == 1 {
		e.first, e.firstFrom, e.same = v, a.path, true
	} else if e.same && (v.Kind().Numeric() != e.first.Kind().Numeric() || Compare(v, e.first) != 0) {
		e.same = false
	}
	switch e.policy {
	case Sum, Avg:
		if !e.num.Add(v) {
			e.other = true
		}
		e.n++
	case Max, Min:
		sign := 1
		if e.policy == Min {
			sign = -1
		}
		if !e.hasBest || Compare(v, e.best)*sign > 0 {
			e.keep(v, a.path, created)
		}
	case Latest:
		if !e.hasBest ||
			(s.Meta.Kind == reader.KindTimestamp && Compare(v, e.best) > 0) ||
			(s.Meta.Kind != reader.KindTimestamp && created > e.bestCreated) {
			e.keep(v, a.path, created)
		}
	case WeightedAvg:
		if !v.Kind().Numeric() {
			e.other = true
			return
		}
		f := v.Float()
		e.usum += f
		e.n++
		a.key = appendWeight(a.key[:0], s.Label)
		if wi, ok := a.index[string(a.key)]; ok && a.pending[wi].Value.Kind().Numeric() {
			w := a.pending[wi].Value.Float()
			e.wsum += w * f
			e.wtot += w
		} else {
			e.missing++
		}
	case Quantile:
		head, _, ok := QuantileOf(s.Label)
		have := false
		for _, l := range a.fileHists {
			have = have || ok && l == head
		}
		if !have {
			e.missing++
		}
	}
}

func (e *entry) keep(v reader.Value, from string, created float64) {
	e.best, e.bestFrom, e.bestCreated, e.hasBest = v, from, created, true
}

// Totals returns one Total per label, in the order the labels were first
// seen. The slice is reused by the next call and by Reset.
func (a *Accumulator) Totals() []Total {
	if a.open {
		a.End()
	}
	clear(a.totals)
	a.totals = a.totals[:0]
	for _, e := range a.order {
		a.totals = append(a.totals, a.total(e))
	}
	return a.totals
}

// Total returns the Total of one label.
func (a *Accumulator) Total(label string) (Total, bool) {
	if a.open {
		a.End()
	}
	e := a.entries[label]
	if e == nil || e.round != a.round || e.files == 0 {
		return Total{}, false
	}
	return a.total(e), true
}

// Histogram returns the merged histogram of the groups whose head is
// labelled label, or nil. The caller must not modify it; it stays valid
// until the next Reset.
func (a *Accumulator) Histogram(label string) *reader.Histogram {
	if he := a.hists[label]; he != nil && he.round == a.round {
		return &he.h
	}
	return nil
}

// total computes the Total of e.
func (a *Accumulator) total(e *entry) Total {
	t := Total{Label: e.label, Policy: e.policy, Meta: e.meta, Files: e.files, Same: e.same, Missing: e.missing}
	if e.other {
		t.Value, t.From = e.first, e.firstFrom
		return t
	}
	switch e.policy {
	case Sum:
		t.Sum, t.Value = e.num, e.num.Value()
	case Avg:
		t.Value = reader.FloatValue(e.num.Float() / float64(e.n))
	case Max, Min, Latest:
		t.Value, t.From = e.best, e.bestFrom
	case WeightedAvg:
		if e.missing == 0 && e.wtot > 0 {
			t.Value = reader.FloatValue(e.wsum / e.wtot)
		} else {
			t.Value = reader.FloatValue(e.usum / float64(e.n))
		}
	case Quantile:
		if head, q, ok := QuantileOf(e.label); ok {
			if h := a.Histogram(head); h != nil {
				t.Value = reader.FloatValue(h.Quantile(q))
			}
		}
	default: // None
		t.Value, t.From = e.first, e.firstFrom
	}
	return t
}

// AddFile feeds every stat and histogram of f (Begin, Add, AddHistogram,
// End). It adds what it could read: the error, if any, says what it
// could not (a field that broke, a histogram group whose buckets are
// unusable); the tools print it and exit non-zero, and still show the
// totals.
func (a *Accumulator) AddFile(f *reader.File) error {
	a.Begin(f.Path())
	defer a.End()
	a.carriers = a.carriers[:0]
	head, headIdx := "", -1
	ferr := f.ScanFields(func(i int, fl *reader.Field) bool {
		if fl.Meta.Role == reader.GroupHead {
			head, headIdx = fl.Label, i
		}
		if fl.HasBuckets() && headIdx >= 0 && fl.Group == headIdx {
			a.carriers = append(a.carriers, carrier{i: i, head: head})
		}
		return true
	})
	serr := f.ScanStats(func(s *reader.Stat) bool {
		a.Add(s)
		return true
	})
	errs := []error{serr}
	if serr == nil {
		errs[0] = ferr
	}
	for _, c := range a.carriers {
		err := f.ReadHistogram(c.i, &a.scratch)
		if err == nil {
			err = a.AddHistogram(c.head, &a.scratch)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
