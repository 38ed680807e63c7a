package pollstats

import (
	"math"

	"github.com/mmstats/mmstats/pkg/aggregate"

	"github.com/mmstats/mmstats/pkg/reader"
)

// The hot loop. In most intervals nothing happens but the values: no
// file came, left or was replaced, none is due an update, lacks a
// column or failed. When moreover every file read is mapped and read as
// words whose columns are all sums (wordRead.summed: counters, most
// gauges), the interval goes through three arrays in the order of
// p.active: each file's mapping (reader.Words), how it is read (shared
// by the files of a layout), and its baselines as words, n a file. Each
// file then costs the loads of its values and 40 bytes of records read
// in order, which the processor fetches ahead, rather than the tracked
// entries and reader.Files scattered on the heap: at 1,000 files, most
// of an interval's CPU was the cache misses on those.
//
// While the hot loop runs, the baselines are its own; any other
// interval first gives them back to the tracked entries (cool), so that
// everything else (binding, totals, departures) sees them as always.

// hotState says whether the hot loop can run over p.active.
type hotState uint8

const (
	hotUnknown hotState = iota // not tried since the last rebuild
	hotOn                      // the records are built and hold the baselines
	hotOff                     // some file cannot go through it
)

// hotRecs are the records of the hot loop, in the order of p.active.
type hotRecs struct {
	words []reader.Words
	reads []*wordRead
	loads [][]int  // per file: reads[k].load, for reader.LoadEach
	prev  []uint64 // per file, per column: the baseline, as its word
	cur   []uint64 // per file, per column: the words loaded this interval
}

// quiet reports whether this interval can go through the hot loop,
// given that the sources did not change.
func (p *poller) quiet() bool {
	return !p.dirty && !p.each && !p.foldsDue && len(p.failed) == 0 && len(p.refresh) == 0 &&
		len(p.departed) == 0 && (p.tick+1)%updateEvery != 0 // departed: expired by settleFolds
}

// heat builds the records of the hot loop from p.active, and reports
// whether it can run.
func (p *poller) heat() bool {
	switch p.hot {
	case hotOn:
		return true
	case hotOff:
		return false
	}
	n := len(p.cols)
	p.hot = hotOff
	for _, t := range p.active { // before a record is made: at 100,000 files, some are cold
		if t.cold || t.f == nil || t.fast == nil || !t.fast.summed || len(t.prev) != n {
			return false
		}
	}
	h := &p.recs
	h.words, h.reads, h.loads = h.words[:0], h.reads[:0], h.loads[:0]
	h.prev = append(h.prev[:0], make([]uint64, n*len(p.active))...)
	h.cur = append(h.cur[:0], make([]uint64, n*len(p.active))...)
	for k, t := range p.active {
		w, ok := t.f.Words()
		if !ok {
			return false
		}
		for c := range n {
			if t.idx[c] < 0 {
				continue
			}
			pw, ok := wordOf(&t.fast.sigs[c], t.prev[c])
			if !ok {
				return false
			}
			h.prev[k*n+c] = pw
		}
		h.words, h.reads, h.loads = append(h.words, w), append(h.reads, t.fast), append(h.loads, t.fast.load)
	}
	p.hot = hotOn
	return true
}

// wordOf returns the word that sig decodes as v, if there is one.
func wordOf(sig *reader.Signature, v reader.Value) (uint64, bool) {
	var w uint64
	switch v.Kind() {
	case reader.Uint:
		w = v.Uint()
	case reader.Int:
		w = uint64(v.Int())
	case reader.Float:
		w = math.Float64bits(v.Float())
	default:
		return 0, false
	}
	return w, sig.DecodeWord(w) == v
}

// cool gives the baselines of the hot loop back to the tracked entries,
// and drops its records: the next quiet interval builds them again.
func (p *poller) cool() {
	if p.hot != hotOn {
		return
	}
	n := len(p.cols)
	for k, t := range p.active {
		r := p.recs.reads[k]
		for c := range n {
			if t.idx[c] >= 0 {
				t.prev[c] = r.sigs[c].DecodeWord(p.recs.prev[k*n+c])
			}
		}
	}
	clear(p.recs.words) // no mapping held past its File
	p.recs.words = p.recs.words[:0]
	clear(p.recs.loads)
	p.recs.loads = p.recs.loads[:0]
	p.hot = hotUnknown
}

// hotLoop reads the files of p.active through the hot records, and
// combines their columns (all sums): first the words of every file, in
// one pass (reader.LoadEach), then their shares. It returns the position
// in p.active of a file that failed, with the error (the records are
// cooled then; the caller goes on from there), or len(p.active).
func (p *poller) hotLoop() (int, error) {
	n := len(p.cols)
	h := &p.recs
	end, err := reader.LoadEach(h.words, h.loads, h.cur, n)
	for k := range end {
		r := h.reads[k]
		prev, words := h.prev[k*n:k*n+n], h.cur[k*n:k*n+n]
		for c := range n {
			at := r.at[c]
			if at < 0 {
				continue
			}
			sig := &r.sigs[c]
			s := share(sig.DecodeWord(prev[c]), sig.DecodeWord(words[at]), r.delta[c] && !p.absolute)
			prev[c] = words[at]
			a := &p.agg[c]
			if !a.seen {
				a.seen, a.policy, a.meta = true, aggregate.Sum, r.meta[c]
			}
			a.sum.Add(s)
		}
	}
	if err != nil {
		p.cool()
	}
	return end, err
}
