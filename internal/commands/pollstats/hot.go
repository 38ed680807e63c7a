package pollstats

import (
	"errors"
	"math"
	"math/bits"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// The hot loop. In most intervals nothing happens but the values: no
// file came, left or was replaced, none lacks a column or failed, and
// at every hotUpdateEvery-th poll none has anything new for its update
// (reader.File.Unchanged). When moreover every file read is mapped and read as words
// whose columns are all sums (wordRead.summed: counters, most gauges),
// the interval goes through flat arrays in the order of p.active: each
// mapped file's mapping (reader.Words, one record of 32 bytes that also
// holds what the every-hotUpdateEvery look checks), runs of files read the same way (the
// files of one layout share their wordRead), and two arrays of words, n
// a file: those loaded this interval and those of the one before (the
// baselines), which swap after each interval. Each file then costs the
// loads of its values and 24 bytes of records read in order, rather
// than the tracked entries and reader.Files scattered on the heap; the
// loads of every file go first, in one tight pass (reader.LoadSame), so
// that the processor has many files' pages under way at once, and the
// changes are added up in a second pass over the words, by operations
// chosen once per layout (hotOp), not by decoding each value.
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
	words []reader.Words // of the mapped files only (hotRun.at)
	runs  []hotRun
	prev  []uint64 // per file, per word loaded (wordRead.load): the baseline
	cur   []uint64 // per file, per word loaded: the words loaded this interval
}

// hotRun is a run of consecutive files of p.active read the same way.
type hotRun struct {
	end  int // the files [previous run's end, end)
	at   int // the position in hotRecs.words of its first file, when not cold
	read *wordRead
	ops  []hotOp
	cold bool // files past the mapping budget, read with pread (cold.go)
}

// hotOp adds one column's share of a file, from its word.
type hotOp struct {
	col   int   // the column
	word  int   // the word's position in wordRead.load
	kind  uint8 // how: one of the op constants
	delta bool  // opDecode: a change is shown
	sig   *reader.Signature
}

// The operations of hotOp: a native-endian word read as it is, for a
// counter (its change) or a gauge (its value); any other (a word of the
// other byte order) decoded and shared as the files read one by one do.
const (
	opUintDelta uint8 = iota
	opUint
	opIntDelta
	opInt
	opFloatDelta
	opFloat
	opDecode
)

// hotOps returns the operations of the columns that files read by w
// have.
func hotOps(w *wordRead, absolute bool) []hotOp {
	var ops []hotOp
	for c, a := range w.at {
		if a < 0 {
			continue
		}
		sig := &w.sigs[c]
		delta := w.delta[c] && !absolute
		op := hotOp{col: c, word: a, kind: opDecode, delta: delta, sig: sig}
		if v1.NativeOrder(sig.Order) {
			switch sig.Code {
			case 'Q':
				op.kind = opUint
			case 'q':
				op.kind = opInt
			case 'd':
				op.kind = opFloat
			}
			if delta && op.kind != opDecode {
				op.kind-- // the delta of each is just before it
			}
		}
		ops = append(ops, op)
	}
	return ops
}

// quiet reports whether this interval can go through the hot loop,
// given that the sources did not change.
func (p *poller) quiet() bool {
	return !p.dirty && !p.each && !p.foldsDue && len(p.failed) == 0 && len(p.refresh) == 0 &&
		len(p.departed) == 0 // departed: expired by settleFolds
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
	for _, t := range p.active { // before a record is made
		if t.fast == nil || !t.fast.summed || len(t.prev()) != n || !t.cold && t.f == nil || t.cold && !quickable(t) {
			return false
		}
	}
	h := &p.recs
	h.words, h.runs = h.words[:0], h.runs[:0]
	mapped := 0
	for _, t := range p.active {
		if !t.cold {
			mapped++
		}
	}
	if cap(h.words) < mapped {
		h.words = make([]reader.Words, 0, mapped) // made once, not grown
	}
	h.prev = sized(h.prev, n*len(p.active))
	h.cur = sized(h.cur, n*len(p.active))
	for k, t := range p.active {
		if !t.cold {
			w, ok := t.f.Words()
			if !ok {
				return false
			}
			h.words = append(h.words, w)
		}
		r := t.fast
		for c := range n {
			if r.at[c] < 0 {
				continue
			}
			pw, ok := wordOf(&r.sigs[c], t.prev()[c].value())
			if !ok {
				return false
			}
			h.prev[k*n+r.at[c]] = pw
		}
		if len(h.runs) == 0 || h.runs[len(h.runs)-1].read != r || h.runs[len(h.runs)-1].cold != t.cold {
			at := len(h.words)
			if !t.cold {
				at--
			}
			h.runs = append(h.runs, hotRun{read: r, ops: hotOps(r, p.absolute), cold: t.cold, at: at})
		}
		h.runs[len(h.runs)-1].end = k + 1
	}
	p.hot = hotOn
	return true
}

// sized returns b with length n, reusing its array when large enough.
func sized(b []uint64, n int) []uint64 {
	if cap(b) < n {
		return make([]uint64, n)
	}
	return b[:n]
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
	h := &p.recs
	from := 0
	for _, run := range h.runs {
		r := run.read
		for k := from; k < run.end; k++ {
			t := p.active[k]
			for c, a := range r.at {
				if a >= 0 {
					t.prev()[c] = baseOf(r.sigs[c].DecodeWord(h.prev[k*n+a]))
				}
			}
		}
		from = run.end
	}
	clear(h.words) // no mapping held past its File
	h.words = h.words[:0]
	clear(h.runs)
	h.runs = h.runs[:0]
	p.hot = hotUnknown
}

// hotUpdateEvery is how many hot polls go by between two looks at
// whether the files have anything new for their update (unchanged): a
// multiple of updateEvery, so that a poll due that look is due the
// files' updates (see due) when it is not hot. What the look finds is a
// field appended, which a file that has every column does not need, or
// a file replaced by a larger copy, which the look at its directory
// finds first (the path's inode changed); it is a safety net, as the
// listing every relistEvery looks is, at the same rate. The look costs
// what the loads of the interval cost (two more places in each file, one
// of them another page), so every updateEvery polls it was a fifth of
// the hot loop.
const hotUpdateEvery = 4 * updateEvery

// nothingDue reports whether the coming poll can be hot as far as the
// files' updates go: it is not due the look at them, or they have
// nothing new (Update would change nothing).
func (p *poller) nothingDue() bool {
	return (p.tick+1)%hotUpdateEvery != 0 || p.unchanged()
}

// unchanged reports whether every file of p.active has nothing new for
// its update (reader.UnchangedWords, in one pass over the hot records;
// the cold files are looked at in coldRun).
func (p *poller) unchanged() bool {
	return reader.UnchangedWords(p.recs.words) == len(p.recs.words)
}

// hotLoop reads the files of p.active through the hot records, and
// combines their columns (all sums): first the words of every file, in
// one pass per run (reader.LoadSame; a pread each for the cold files),
// then their shares. It returns the position in p.active of a file that
// failed, with the error (errSlow: a cold file to read the slow way; the
// records are cooled then, and the caller goes on from there), or
// len(p.active).
func (p *poller) hotLoop() (int, error) {
	n := len(p.cols)
	h := &p.recs
	end, from := len(p.active), 0
	var err error
	for _, run := range h.runs {
		var k int
		if run.cold {
			k = p.coldRun(from, run.end, h.cur, n)
			if from+k < run.end {
				err = errSlow
			}
		} else {
			k, err = reader.LoadSame(h.words[run.at:run.at+run.end-from], run.read.load, h.cur[from*n:], n)
		}
		if err != nil {
			end = from + k
			break
		}
		from = run.end
	}
	from = 0
	for _, run := range h.runs {
		if from >= end {
			break
		}
		to := min(run.end, end)
		for _, op := range run.ops {
			a := &p.agg[op.col]
			if !a.seen {
				a.seen, a.policy, a.meta = true, aggregate.Sum, run.read.meta[op.col]
			}
			hotSum(op, &a.sum, h.cur[from*n:to*n], h.prev[from*n:to*n], n)
		}
		from = run.end
	}
	// The words loaded are the baselines of the next interval: those of
	// the files read, that is; a file that failed, and those after it,
	// keep theirs.
	copy(h.cur[end*n:], h.prev[end*n:])
	h.cur, h.prev = h.prev, h.cur
	if err != nil {
		p.cool()
	}
	return end, err
}

// errSlow is hotLoop's error for a cold file that is read the slow way
// (look says why: it changed, failed, or is another file).
var errSlow = errors.New("read the slow way")

// coldRun reads the words of the cold files [from, to) of p.active into
// cur, n a file, and returns how many it read before one that must be
// read the slow way: at its phase, each is looked at whole, its layout
// checked (lookWords); else its words read with one pread (coldWords).
func (p *poller) coldRun(from, to int, cur []uint64, n int) int {
	for k := from; k < to; k++ {
		t := p.active[k]
		dst := cur[k*n : k*n+len(t.fast.load)]
		if p.dueLook(t) {
			if !p.lookWords(t, dst) {
				return k - from
			}
		} else if !p.coldWords(t, dst) {
			return k - from
		}
		t.updated = int32(p.tick)
	}
	return to - from
}

// hotSum adds the shares of column op of the files whose words are cur
// (and their baselines prev), n words a file, to sum: what share and
// aggregate.Number.Add make of them, in the order of the files.
func hotSum(op hotOp, sum *aggregate.Number, cur, prev []uint64, n int) {
	j := op.word
	// The unsigned shares are added up here, in registers (a sum through
	// the pointer is a store a file), and to sum at the end: exactly the
	// same 128-bit sum.
	var lo, carries uint64
	switch op.kind {
	case opUintDelta:
		for k := j; k < len(cur); k += n {
			if c, b := cur[k], prev[k]; c >= b {
				var carry uint64
				lo, carry = bits.Add64(lo, c-b, 0)
				carries += carry
			}
		}
	case opUint:
		for k := j; k < len(cur); k += n {
			var carry uint64
			lo, carry = bits.Add64(lo, cur[k], 0)
			carries += carry
		}
	case opIntDelta:
		for k := j; k < len(cur); k += n {
			if c, b := int64(cur[k]), int64(prev[k]); c >= b {
				var carry uint64
				lo, carry = bits.Add64(lo, uint64(c)-uint64(b), 0)
				carries += carry
			}
		}
	case opInt:
		for k := j; k < len(cur); k += n {
			sum.AddInt(int64(cur[k]))
		}
	case opFloatDelta:
		for k := j; k < len(cur); k += n {
			c, b := math.Float64frombits(cur[k]), math.Float64frombits(prev[k])
			if c > b { // false for NaN; an unchanged ±Inf is no change, not Inf-Inf
				sum.AddFloat(c - b)
			} else {
				sum.AddFloat(0)
			}
		}
	case opFloat:
		for k := j; k < len(cur); k += n {
			sum.AddFloat(math.Float64frombits(cur[k]))
		}
	default:
		for k := j; k < len(cur); k += n {
			sum.Add(share(op.sig.DecodeWord(prev[k]), op.sig.DecodeWord(cur[k]), op.delta))
		}
	}
	if lo != 0 || carries != 0 {
		sum.AddUint(lo)
		for range carries { // 2^64 each
			sum.AddUint(1 << 63)
			sum.AddUint(1 << 63)
		}
	}
}
