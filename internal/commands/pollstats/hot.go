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
// holds what the every-hotUpdateEvery look checks), runs of files read
// the same way (the files of one layout share their wordRead), the
// baselines (p.bases, whose rows heat puts in the order of p.active),
// and the words loaded, n a file, for hotChunk files at a time. Each
// file then costs the loads of its values and a few words of records
// read in order, rather than the tracked entries and reader.Files
// scattered on the heap; the loads of a chunk's files go first, in one
// tight pass (reader.LoadSame), so that the processor has many files'
// pages under way at once, and the changes are added up in a second
// pass over the words, by operations chosen once per layout (hotOp),
// not by decoding each value, each word then stored as the baseline.

// hotState says whether the hot loop can run over p.active.
type hotState uint8

const (
	hotUnknown hotState = iota // not tried since the last rebuild
	hotOn                      // the records are built, the baselines in their order
	hotOff                     // some file cannot go through it
)

// hotRecs are the records of the hot loop, in the order of p.active.
type hotRecs struct {
	words []reader.Words // of the mapped files only (hotRun.at)
	runs  []hotRun
	cur   []uint64 // per file of a chunk, per word loaded (wordRead.load): the words loaded this interval
}

// hotChunk is how many files the hot loop loads before it adds their
// shares: enough for the loads of many files to be under way at once,
// few enough that their words stay in the processor's cache (32 KiB at
// 4 columns) and cost no memory per file. (A variable for the tests,
// whose chunks are of a few files.)
var hotChunk = 1024

// hotRun is a run of consecutive files of p.active read the same way.
type hotRun struct {
	from int // the files [from, end)
	end  int
	at   int // the position in hotRecs.words of its first file, when not cold
	read *wordRead
	ops  []hotOp
	cold bool // files past the mapping budget, read with pread (cold.go)
}

// hotOp adds one column's share of a file, from its word.
type hotOp struct {
	col   int   // the column (its baseline's position in a row of p.bases)
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

// heat builds the records of the hot loop from p.active, puts the rows
// of the baselines in its order, and reports whether it can run.
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
		if t.fast == nil || !t.fast.summed || t.slot == 0 || !t.cold && t.f == nil || t.cold && !quickable(t) {
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
	if p.bases.n != n || !p.bases.order(p.active) {
		return false
	}
	for k, t := range p.active {
		if !t.cold {
			w, ok := t.f.Words()
			if !ok {
				return false
			}
			h.words = append(h.words, w)
		}
		r := t.fast
		if len(h.runs) == 0 || h.runs[len(h.runs)-1].read != r || h.runs[len(h.runs)-1].cold != t.cold {
			at := len(h.words)
			if !t.cold {
				at--
			}
			h.runs = append(h.runs, hotRun{from: k, read: r, ops: hotOps(r, p.absolute), cold: t.cold, at: at})
		}
		h.runs[len(h.runs)-1].end = k + 1
		for _, op := range h.runs[len(h.runs)-1].ops {
			if want, ok := op.baseKind(); ok && p.bases.kinds[k*n+op.col] != want {
				return false // a baseline the operation does not read as its word
			}
		}
	}
	h.cur = sized(h.cur, hotChunk*n)
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

// baseKind returns the kind of baseline that operation op reads as a
// word (the bits of its value: that of its field's words), and false
// for opDecode, which reads any.
func (op hotOp) baseKind() (reader.ValueKind, bool) {
	switch op.kind {
	case opUintDelta, opUint:
		return reader.Uint, true
	case opIntDelta, opInt:
		return reader.Int, true
	case opFloatDelta, opFloat:
		return reader.Float, true
	}
	return reader.Invalid, false
}

// cool drops the records of the hot loop: the next quiet interval
// builds them again (the baselines stay where they are, in p.bases).
func (p *poller) cool() {
	if p.hot != hotOn {
		return
	}
	h := &p.recs
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
// combines their columns (all sums), hotChunk files at a time: first the
// words of the chunk's files, in one pass per run (reader.LoadSame; a
// pread each for the cold files), then their shares, each word then the
// file's baseline. It returns the position in p.active of a file that
// failed, with the error (errSlow: a cold file to read the slow way; the
// records are cooled then, and the caller goes on from there), or
// len(p.active). A file that failed, and those after it, keep their
// baselines.
func (p *poller) hotLoop() (int, error) {
	n := len(p.cols)
	h := &p.recs
	end := len(p.active)
	var err error
	first := 0 // the first run of the chunk
	for c0 := 0; c0 < end; c0 += hotChunk {
		c1 := min(c0+hotChunk, end)
		got := c1 // the chunk's files read, to got
		for _, run := range h.runs[first:] {
			from, to := max(run.from, c0), min(run.end, c1)
			if from >= to {
				break
			}
			var k int
			if run.cold {
				k = p.coldRun(from, to, h.cur[(from-c0)*n:], n)
				if from+k < to {
					err = errSlow
				}
			} else {
				at := run.at + from - run.from
				k, err = reader.LoadSame(h.words[at:at+to-from], run.read.load, h.cur[(from-c0)*n:], n)
			}
			if err != nil {
				got = from + k
				break
			}
		}
		for _, run := range h.runs[first:] {
			from, to := max(run.from, c0), min(run.end, got)
			if from >= to {
				break
			}
			cur := h.cur[(from-c0)*n : (to-c0)*n]
			words, kinds := p.bases.words[from*n:to*n], p.bases.kinds[from*n:to*n]
			for _, op := range run.ops {
				a := &p.agg[op.col]
				if !a.seen {
					a.seen, a.policy, a.meta = true, aggregate.Sum, run.read.meta[op.col]
				}
				hotSum(op, &a.sum, cur, words, kinds, n)
			}
		}
		if err != nil {
			end = got
			break
		}
		for first < len(h.runs) && h.runs[first].end <= c1 {
			first++
		}
	}
	if err != nil {
		p.cool()
	}
	return end, err
}

// errSlow is hotLoop's error for a cold file that is read the slow way
// (look says why: it changed, failed, or is another file).
var errSlow = errors.New("read the slow way")

// coldRun reads the words of the cold files [from, to) of p.active into
// cur, n a file from its start, and returns how many it read before one
// that must be read the slow way: at its phase, each is looked at whole,
// its layout checked (lookWords); else its words read with one pread
// (coldWords).
func (p *poller) coldRun(from, to int, cur []uint64, n int) int {
	for k := from; k < to; k++ {
		t := p.active[k]
		dst := cur[(k-from)*n : (k-from)*n+len(t.fast.load)]
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

// hotSum adds the shares of column op of the files whose words are cur,
// n a file (the column's at op.word), to sum: what share and
// aggregate.Number.Add make of them and of their baselines (words and
// kinds, n a file, the column's at op.col), in the order of the files;
// and sets each baseline to the value read.
func hotSum(op hotOp, sum *aggregate.Number, cur, words []uint64, kinds []reader.ValueKind, n int) {
	j, c := op.word, op.col
	files := len(cur) / n
	if files == 0 {
		return
	}
	// One bounds check for each loop.
	_, _, _ = cur[(files-1)*n+j], words[(files-1)*n+c], kinds[(files-1)*n+c]
	// The unsigned shares are added up here, in registers (a sum through
	// the pointer is a store a file), and to sum at the end: exactly the
	// same 128-bit sum. The native words are their values' bits: each is
	// stored as it is, the baseline's kind that of the operation (heat).
	var lo, carries uint64
	switch op.kind {
	case opUintDelta:
		for f := range files {
			w := cur[f*n+j]
			if b := words[f*n+c]; w >= b {
				var carry uint64
				lo, carry = bits.Add64(lo, w-b, 0)
				carries += carry
			}
			words[f*n+c] = w
		}
	case opUint:
		for f := range files {
			w := cur[f*n+j]
			var carry uint64
			lo, carry = bits.Add64(lo, w, 0)
			carries += carry
			words[f*n+c] = w
		}
	case opIntDelta:
		for f := range files {
			w := cur[f*n+j]
			if v, b := int64(w), int64(words[f*n+c]); v >= b {
				var carry uint64
				lo, carry = bits.Add64(lo, uint64(v)-uint64(b), 0)
				carries += carry
			}
			words[f*n+c] = w
		}
	case opInt:
		for f := range files {
			w := cur[f*n+j]
			sum.AddInt(int64(w))
			words[f*n+c] = w
		}
	case opFloatDelta:
		for f := range files {
			w := cur[f*n+j]
			v, b := math.Float64frombits(w), math.Float64frombits(words[f*n+c])
			if v > b { // false for NaN; an unchanged ±Inf is no change, not Inf-Inf
				sum.AddFloat(v - b)
			} else {
				sum.AddFloat(0)
			}
			words[f*n+c] = w
		}
	case opFloat:
		for f := range files {
			w := cur[f*n+j]
			sum.AddFloat(math.Float64frombits(w))
			words[f*n+c] = w
		}
	default:
		for f := range files {
			v := op.sig.DecodeWord(cur[f*n+j])
			sum.Add(share(base{kinds[f*n+c], words[f*n+c]}.value(), v, op.delta))
			b := baseOf(v)
			words[f*n+c], kinds[f*n+c] = b.bits, b.kind
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
