package reader

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
)

// CoarseHistogram is a histogram group's distribution with its bucket
// counts summed into the buckets of a coarser schema, as a server that
// exports classic buckets (Prometheus's le="…") needs them: 31 sums of
// a Timer's 1,920 counts at schema 0. ReadCoarseHistogram reads one
// straight from the file, without the copy of the counts that
// ReadHistogram makes; Histogram.Coarse sums one that is read.
//
// Coarse bucket k (at CoarseSchema) covers (2^((k-1)/2^CoarseSchema),
// 2^(k/2^CoarseSchema)]: the writer's buckets (k-1)·f+1 to k·f, where
// f = 2^(Schema-CoarseSchema). Its bounds are bounds of the writer's
// buckets, so the count of values at or below any of them is exact.
type CoarseHistogram struct {
	// Schema, Lo and N are the writer's window, as a Histogram's Schema,
	// Lo and len(Counts): a caller that expects a window checks it here.
	Schema, Lo, N int
	// CoarseSchema is the schema of Counts: the one asked for, or the
	// writer's where that is coarser.
	CoarseSchema int
	// CoarseLo is the index at CoarseSchema of the bucket that Counts[0]
	// counts: the one that holds the window's first bucket.
	CoarseLo int
	// Counts[k] is the sum of the counts of the window's buckets that
	// coarse bucket CoarseLo+k covers, to the coarse bucket that holds
	// the window's last one. The first and the last may cover part of
	// the window only: values outside it are in Underflow and Overflow.
	Counts []uint64
	// Underflow and Overflow are the writer's: values at or below the
	// window's lower bound, and above its upper bound.
	Underflow, Overflow uint64
	// Count and Sum are the group's count and .sum (0 when it has no
	// .sum), read in the same snapshot as the counts: in a snapshot of
	// one file Count equals Total().
	Count uint64
	Sum   float64

	loaded int // the counts loaded by the last read, for tests
}

// Total returns Underflow + Overflow + the sum of Counts (wrapping past
// 2^64, as Histogram.Total).
func (c *CoarseHistogram) Total() uint64 {
	n := c.Underflow + c.Overflow
	for _, k := range c.Counts {
		n += k
	}
	return n
}

// coarseWindow returns the coarse schema of a window of schema s and
// buckets [lo, lo+n) summed at schema asked, the factor f between them,
// and the coarse buckets [clo, cend) that hold the window's.
func coarseWindow(s, lo, n, asked int) (cs, f, clo, cend int) {
	cs = min(s, asked)
	f = 1 << (s - cs)
	clo = ceilDivInt(lo, f)
	cend = clo
	if n > 0 {
		cend = ceilDivInt(lo+n-1, f) + 1
	}
	return cs, f, clo, cend
}

// ceilDivInt returns ceil(a/b) for b > 0.
func ceilDivInt(a, b int) int {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}

// Coarse sets c to h's counts summed at schema (0 to h.Schema; a finer
// one gives h's own): what ReadCoarseHistogram would read of the values
// h holds. It panics on a negative schema.
func (h *Histogram) Coarse(schema int, c *CoarseHistogram) {
	if schema < 0 {
		panic(fmt.Sprintf("reader: coarse schema %d", schema))
	}
	cs, f, clo, cend := coarseWindow(h.Schema, h.Lo, len(h.Counts), schema)
	*c = CoarseHistogram{Schema: h.Schema, Lo: h.Lo, N: len(h.Counts), CoarseSchema: cs, CoarseLo: clo,
		Counts:    slices.Grow(c.Counts[:0], cend-clo)[:cend-clo],
		Underflow: h.Underflow, Overflow: h.Overflow, Count: h.Count, Sum: h.Sum}
	clear(c.Counts)
	for k, n := range h.Counts {
		c.Counts[ceilDivInt(h.Lo+k, f)-clo] += n
	}
}

// ReadCoarseHistogram reads into c the histogram of the group that field
// i of layout l (parsed from data) belongs to, with its counts summed at
// schema, as File.ReadCoarseHistogram does.
func ReadCoarseHistogram(data []byte, l *Layout, i, schema int, c *CoarseHistogram) error {
	if i < 0 || i >= len(l.Fields) {
		return fmt.Errorf("reader: field %d of %d", i, len(l.Fields))
	}
	if schema < 0 {
		return fmt.Errorf("reader: coarse schema %d", schema)
	}
	head, end, err := l.groupOf(i)
	if err != nil {
		return err
	}
	wait := maxStringWait
	return readCoarse(data, l, head, end, schema, c, &wait)
}

// ReadCoarseHistogram reads into c the histogram of the group that field
// i (the head or any member) belongs to, as ReadHistogram reads it, with
// its bucket counts summed into the buckets of schema (0 or more; one
// finer than the writer's gives the writer's own) as they are loaded
// from the file: nothing but the sums is copied. The counts, the
// underflow and overflow, the count and the .sum are one consistent
// snapshot under the group's sequence word, so that Count equals
// Total(); a read that cannot take one gives ErrBusy, and a file that
// shrank under the reader ErrFault, as ReadHistogram. The group's .min
// and .max, read in the same snapshot, say where its values are: only
// the coarse buckets between them (and one either side) are loaded when
// the counts there, the underflow and the overflow add up to the count
// (the rest is then empty, counts being never negative), else all of
// them are; a crafted file whose count is not its buckets' total (which
// the writer never writes) may therefore read otherwise than through
// ReadHistogram, never with a fault. c's Counts is reused: reading the
// same group again does not allocate.
func (f *File) ReadCoarseHistogram(i, schema int, c *CoarseHistogram) (err error) {
	return f.readGroupOf(i, nil, c, schema)
}

// readCoarse is readHistogram (histogram.go) summing the counts at
// schema as it loads them; it finds the group's carrier and .sum as
// readHistogram does.
func readCoarse(data []byte, src histSource, head, end, schema int, c *CoarseHistogram, wait *time.Duration) error {
	p, err := partsOf(data, src, head, end)
	if err != nil {
		return err
	}
	return readCoarseParts(data, &p, schema, c, wait)
}

// readCoarseParts is readCoarse of the parts found (p is only read).
func readCoarseParts(data []byte, p *histParts, schema int, c *CoarseHistogram, wait *time.Duration) error {
	b := &p.carrier.Buckets
	cs, factor, clo, cend := coarseWindow(b.Schema, b.Lo, b.N, schema)
	c.Schema, c.Lo, c.N, c.CoarseSchema, c.CoarseLo = b.Schema, b.Lo, b.N, cs, clo
	c.Counts = slices.Grow(c.Counts[:0], cend-clo)[:cend-clo]
	var pair [2]uint64
	return readGroupWords(data, p, wait, func() error {
		cv, err := loadNumber(data, &p.carrier)
		if err != nil {
			return err
		}
		loadWords(pair[:], data, b.Offset)
		c.Count, c.Underflow, c.Overflow = cv.Uint(), pair[0], pair[1]
		// The writer's values lie between its .min and .max: the coarse
		// buckets outside them (one either side aside) are empty, which
		// the count tells, as the counts cannot be negative. If it does
		// not (a value observed while the writer published, a crafted
		// file), all are loaded.
		from, to := extremeBuckets(data, p, cs, clo, cend)
		clear(c.Counts[:from])
		clear(c.Counts[to:])
		part := sumCounts(c.Counts[from:to], data, b.Offset+16, b.Lo, b.N, factor, clo+from)
		c.loaded = max(0, min(b.Lo+b.N, (clo+to-1)*factor+1)-max(b.Lo, (clo+from-1)*factor+1))
		if from > 0 || to < len(c.Counts) {
			if c.Underflow+c.Overflow+part != c.Count {
				sumCounts(c.Counts[:from], data, b.Offset+16, b.Lo, b.N, factor, clo)
				sumCounts(c.Counts[to:], data, b.Offset+16, b.Lo, b.N, factor, clo+to)
				c.loaded = b.N
			}
		}
		c.Sum = 0
		if p.haveSum {
			if v, err := loadNumber(data, &p.sum); err == nil {
				c.Sum = v.Float()
			}
		}
		return nil
	})
}

// maxFactor is the most buckets of a schema that one bucket of a
// coarser one covers: 2^v1.MaxSchema.
const maxFactor = 1 << v1.MaxSchema

// sumCounts sets counts[k] to the sum of the words of the window's
// buckets [lo, lo+n) (whose counts start at off in data) that coarse
// bucket clo+k covers, factor of them to a coarse bucket. The words are
// loaded as loadWords loads them (sumWords, mem.go); words that are not
// aligned in memory (a crafted file's copy) factor at most at a time
// into a buffer on the stack. The caller has checked that off+8n <=
// len(data).
func sumCounts(counts []uint64, data []byte, off, lo, n, factor, clo int) (total uint64) {
	var buf [maxFactor]uint64
	i, end := max(lo, (clo-1)*factor+1), lo+n
	for k := range counts {
		stop := min((clo+k)*factor+1, end) // past the last bucket of coarse bucket clo+k
		s, ok := sumWords(data, off+8*(i-lo), stop-i)
		if !ok {
			w := buf[:stop-i]
			loadWords(w, data, off+8*(i-lo))
			for _, x := range w {
				s += x
			}
		}
		counts[k] = s
		total += s
		i = stop
	}
	return total
}

// extremeBuckets returns the buckets [from, to) (indexes into Counts, of
// the window [clo, cend) at schema cs: the writer's own, or a coarser
// one) that can hold the values between the .min and .max of the group
// of parts p: those of the two, and one more either side (a float's
// rounding), or the whole window when the group has no .min or .max, or
// they cannot be read or are not a range of positive numbers.
func extremeBuckets(data []byte, p *histParts, cs, clo, cend int) (from, to int) {
	from, to = 0, cend-clo
	if !p.haveLo || !p.haveHi {
		return from, to
	}
	lv, err1 := loadNumber(data, &p.lo)
	hv, err2 := loadNumber(data, &p.hi)
	if err1 != nil || err2 != nil {
		return from, to
	}
	mn, mx := lv.Float(), hv.Float()
	if !(mn > 0 && mn <= mx && mx < math.MaxFloat64) {
		return from, to
	}
	// Coarse bucket k holds (2^((k-1)/2^cs), 2^(k/2^cs)].
	scale := float64(int(1) << cs)
	kmin := int(math.Ceil(math.Log2(mn)*scale)) - 1
	kmax := int(math.Ceil(math.Log2(mx)*scale)) + 1
	return min(max(kmin-clo, 0), to), max(min(kmax-clo+1, to), 0)
}

// loadNumber reads an unbuffered 8-byte number (the writer's count and
// .sum) with one word load, and any other field as ReadValue does.
func loadNumber(data []byte, f *Field) (Value, error) {
	if f.Buffered || f.Sig.Size != 8 || f.Sig.ItemSize != 8 || f.Sig.Offset != 0 || f.Value < 0 || f.Value+8 > len(data) {
		return ReadValue(data, f)
	}
	switch f.Sig.Code {
	case 'q', 'Q', 'd':
	default:
		return ReadValue(data, f)
	}
	var w [1]uint64
	loadWords(w[:], data, f.Value)
	return f.Sig.DecodeWord(w[0]), nil
}
