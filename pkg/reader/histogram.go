package reader

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
)

// Histogram is the distribution a histogram group publishes: the counts
// of its exponential buckets (see the package documentation) and its
// count, sum, min and max. Bucket i covers (2^((i-1)/2^Schema),
// 2^(i/2^Schema)]; Counts[k] is the count of bucket Lo+k.
//
// ReadHistogram and File.ReadHistogram fill one from a file; Merge adds
// another to it, so that the histograms of many processes give the
// percentiles of all their values together, within the same error as
// one process's: merging adds counts, and buckets do not move.
type Histogram struct {
	Schema    int      // 2^Schema buckets per power of two: 6 for the Go writer
	Lo        int      // the index of the bucket that Counts[0] counts
	Counts    []uint64 // per bucket of the window, from Lo up
	Underflow uint64   // values at or below the window's lower bound, zero included
	Overflow  uint64   // values above the window's upper bound
	// Count is the group's count of values. In a snapshot of one file it
	// equals Underflow + Overflow + the sum of Counts; Quantile relies on
	// the buckets only.
	Count uint64
	// Sum, Min and Max are the group's .sum, .min and .max (0, 0, 0 when
	// it has no value yet). A group without .min reads Min 0; without
	// .max, Max is the window's upper bound.
	Sum, Min, Max float64

	loaded int // the counts loaded by the last read (for tests)
}

// MaxMergedBuckets bounds the window of a merged histogram (512 KiB of
// counts): the writer's windows are 1920 buckets, and a reader must not
// let a crafted file make it hold more.
const MaxMergedBuckets = 1 << 16

// Reset empties h, keeping the capacity of Counts for the next use.
func (h *Histogram) Reset() {
	*h = Histogram{Counts: h.Counts[:0]}
}

// Total returns Underflow + Overflow + the sum of Counts: the number of
// values the buckets hold (wrapping past 2^64, which no writer reaches).
func (h *Histogram) Total() uint64 {
	n := h.Underflow + h.Overflow
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// empty reports whether h holds no value (its Min and Max mean nothing).
func (h *Histogram) empty() bool { return h.Count == 0 && h.Total() == 0 }

// Quantile returns the q-quantile (0 < q <= 1) of the values, by the
// rule the writer uses for its own percentiles: the value of rank
// ceil(q·n) among the n values the buckets hold, taken as the geometric
// midpoint of its bucket and kept within [Min, Max]; Min when the rank
// falls in the underflow, Max in the overflow. Within the window, the
// result is within 2^(1/2^(Schema+1))-1 of the exact value of that rank
// (0.54% at schema 6). It is 0 when the histogram is empty, NaN for a
// schema outside [0, 8]. It does not allocate.
func (h *Histogram) Quantile(q float64) float64 {
	qs := [1]float64{q}
	var out [1]float64
	h.Quantiles(qs[:], out[:])
	return out[0]
}

// Quantiles sets out[j] to Quantile(qs[j]) for ascending qs, in one walk
// over the buckets. It does not allocate.
func (h *Histogram) Quantiles(qs, out []float64) {
	if h.Schema < 0 || h.Schema > v1.MaxSchema {
		for j := range out {
			out[j] = math.NaN()
		}
		return
	}
	v1.Quantiles(h.Schema, h.Lo, h.Underflow, h.Counts, h.Overflow, h.Min, h.Max, qs, out[:len(qs)])
}

// BucketBounds returns the bounds of bucket i at the histogram's schema:
// it holds the values v with lower < v <= upper.
func (h *Histogram) BucketBounds(i int) (lower, upper float64) {
	if h.Schema < 0 || h.Schema > v1.MaxSchema {
		return math.NaN(), math.NaN()
	}
	return v1.BucketUpper(h.Schema, i-1), v1.BucketUpper(h.Schema, i)
}

// Merge adds the values of o to h. Both must have the same schema. When
// their windows differ, h's grows to cover both (at most
// MaxMergedBuckets); the underflow and overflow counts stay those of each
// histogram's own window. Counts past 2^64 stop at 2^64-1 and give an
// error. A histogram without values leaves the other unchanged.
func (h *Histogram) Merge(o *Histogram) error {
	if o.empty() {
		if len(h.Counts) == 0 && h.empty() {
			h.Schema, h.Lo = o.Schema, o.Lo
			h.Counts = append(h.Counts[:0], o.Counts...)
		}
		return nil
	}
	if h.empty() {
		counts := append(h.Counts[:0], o.Counts...)
		*h = *o
		h.Counts = counts
		return nil
	}
	if h.Schema != o.Schema {
		return fmt.Errorf("%w: schema %d and %d", ErrMerge, h.Schema, o.Schema)
	}
	lo := min(h.Lo, o.Lo)
	end := max(h.Lo+len(h.Counts), o.Lo+len(o.Counts))
	if end-lo > MaxMergedBuckets {
		return fmt.Errorf("%w: windows [%d, %d) and [%d, %d) span more than %d buckets",
			ErrMerge, h.Lo, h.Lo+len(h.Counts), o.Lo, o.Lo+len(o.Counts), MaxMergedBuckets)
	}
	if lo < h.Lo || end > h.Lo+len(h.Counts) {
		n := len(h.Counts)
		shift := h.Lo - lo
		h.Counts = slices.Grow(h.Counts, end-lo-n)[:end-lo]
		copy(h.Counts[shift:shift+n], h.Counts[:n])
		clear(h.Counts[:shift])
		clear(h.Counts[shift+n:])
		h.Lo = lo
	}
	var over bool
	add := func(a *uint64, b uint64) {
		s, carry := bits.Add64(*a, b, 0)
		if carry != 0 {
			s, over = math.MaxUint64, true
		}
		*a = s
	}
	// The counts in one tight loop (a poller merges a thousand files'
	// 1,920 counts each second, most of them zeros: runs of 8 zeros are
	// passed over without a store), and those that went past 2^64 set to
	// the most after it: a sum that wrapped is less than what was added.
	dst := h.Counts[o.Lo-h.Lo:][:len(o.Counts)]
	var carries uint64
	k := 0
	for ; k+8 <= len(o.Counts); k += 8 {
		src := o.Counts[k : k+8]
		if src[0]|src[1]|src[2]|src[3]|src[4]|src[5]|src[6]|src[7] == 0 {
			continue
		}
		d := dst[k : k+8]
		for j, c := range src {
			var carry uint64
			d[j], carry = bits.Add64(d[j], c, 0)
			carries |= carry
		}
	}
	for ; k < len(o.Counts); k++ {
		var carry uint64
		dst[k], carry = bits.Add64(dst[k], o.Counts[k], 0)
		carries |= carry
	}
	if carries != 0 {
		over = true
		for k, c := range o.Counts {
			if dst[k] < c {
				dst[k] = math.MaxUint64
			}
		}
	}
	add(&h.Underflow, o.Underflow)
	add(&h.Overflow, o.Overflow)
	add(&h.Count, o.Count)
	h.Sum += o.Sum
	h.Min = math.Min(h.Min, o.Min)
	h.Max = math.Max(h.Max, o.Max)
	if over {
		return fmt.Errorf("%w: counts past 2^64", ErrMerge)
	}
	return nil
}

// ReadHistogram reads into h the histogram of the group that field i of
// layout l (parsed from data) belongs to, as one snapshot under the
// group's sequence word (see File.ReadHistogram).
func ReadHistogram(data []byte, l *Layout, i int, h *Histogram) (err error) {
	if i < 0 || i >= len(l.Fields) {
		return fmt.Errorf("reader: field %d of %d", i, len(l.Fields))
	}
	head, end, err := l.groupOf(i)
	if err != nil {
		return err
	}
	wait := maxStringWait
	return readHistogram(data, l, head, end, h, &wait)
}

// ReadHistogram reads into h the histogram of the group that field i (an
// index into Fields: the head or any member) belongs to: its bucket
// counts, count, sum, min and max, as one consistent snapshot under the
// group's sequence word, so that Count equals Underflow + Overflow + the
// sum of Counts. The group's .min and .max, read in the same snapshot,
// say where its values are: only the counts between them (and one
// either side) are loaded when they, the underflow and the overflow add
// up to the count (the others are then zero, counts being never
// negative, and are set so), else all of them are; a crafted file whose
// count is not its buckets' total (which the writer never writes) may
// therefore read with zeros where it has other counts, never with a
// fault. h's Counts is reused: reading the same group again into
// the same h does not allocate, so a poller can read it every second.
// A group without buckets gives ErrNoHistogram; a group whose buckets
// are unusable (a crafted descriptor) gives ErrBuckets, and its stats
// still read.
func (f *File) ReadHistogram(i int, h *Histogram) (err error) {
	return f.readGroupOf(i, h, nil, 0)
}

// readGroupOf reads the group that field i belongs to whole, into h, or
// into c summed at schema when h is nil: for ReadHistogram and
// ReadCoarseHistogram, a Snapshot's copy settled first, a fault of a
// mapping that shrank turned into ErrFault, and the error given the
// file's path. (A function to call would do, but its closure, which
// holds h or c, would be allocated at every read.)
func (f *File) readGroupOf(i int, h *Histogram, c *CoarseHistogram, schema int) (err error) {
	if f.data == nil {
		return ErrClosed
	}
	if i < 0 || i >= f.ix().len() {
		return fmt.Errorf("reader: field %d of %d", i, f.ix().len())
	}
	if h == nil && schema < 0 {
		return fmt.Errorf("reader: coarse schema %d", schema)
	}
	defer f.wrap(&err)
	if err := f.settle(true); err != nil {
		return err
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	head, end, err := f.groupOf(i)
	if err != nil {
		return err
	}
	wait := maxStringWait
	if h != nil {
		return readHistogram(f.data, f, head, end, h, &wait)
	}
	return readCoarse(f.data, f, head, end, schema, c, &wait)
}

// groupOf returns the fields [head, end) of the group that field i of l
// belongs to, or ErrNoHistogram.
func (l *Layout) groupOf(i int) (head, end int, err error) {
	head = l.Fields[i].Group
	if head < 0 {
		return 0, 0, &FormatError{Offset: l.Fields[i].Offset, Label: l.Fields[i].Label, Err: ErrNoHistogram}
	}
	end = head + 1
	for end < len(l.Fields) && l.Fields[end].Group == head && l.Fields[end].Meta.Role == GroupMember {
		end++
	}
	return head, end, nil
}

// groupOf returns the fields [head, end) of the group that field i of f
// belongs to, or ErrNoHistogram. It reads f's data: the caller catches
// faults.
func (f *File) groupOf(i int) (head, end int, err error) {
	head, end = f.ix().span(i)
	if head < 0 {
		fl, err := f.ix().field(f.data, i, true)
		if err != nil {
			return 0, 0, err
		}
		return 0, 0, &FormatError{Offset: fl.Offset, Label: fl.Label, Err: ErrNoHistogram}
	}
	return head, end, nil
}

// span returns the head of field i's group and the index past its last
// member, or -1, -1.
func (x *index) span(i int) (head, end int) {
	k := sort.Search(len(x.groups), func(k int) bool { return int(x.groups[k].head) > i })
	if k > 0 && i < int(x.groups[k-1].end) {
		return int(x.groups[k-1].head), int(x.groups[k-1].end)
	}
	return -1, -1
}

// histSource gives the fields of a group to readHistogram: a File parses
// them again (without their labels, allocating nothing), a Layout has them.
type histSource interface {
	histField(data []byte, k int) (Field, error)
}

func (f *File) histField(data []byte, k int) (Field, error) {
	if f.shape != nil {
		return f.shape.layout.Fields[k], nil
	}
	return f.ix().field(data, k, false)
}
func (l *Layout) histField(_ []byte, k int) (Field, error) { return l.Fields[k], nil }

// labelOf returns the label bytes of field f in data.
func labelOf(data []byte, f *Field) []byte {
	n := int(binary.NativeEndian.Uint16(data[f.Offset:]))
	return data[f.Offset+2 : f.Offset+2+n]
}

// isPart reports whether label is head followed by suffix.
func isPart(label, head []byte, suffix string) bool {
	return len(label) == len(head)+len(suffix) && bytes.HasPrefix(label, head) && string(label[len(head):]) == suffix
}

// histParts are the fields of a histogram's group that its readers
// load: the head (whose sequence word guards the group), the carrier of
// the buckets, and .sum, .min and .max when the group has them.
type histParts struct {
	head, carrier, sum, lo, hi Field
	label                      []byte // the head's
	haveSum, haveLo, haveHi    bool
	end                        int // the end of the group, in a shape's parts (partsOf)
}

// findHistParts finds the parts of the group of fields [head, end). The
// bucket carrier is the first member with role digit 3; .sum, .min and
// .max are the members labelled so after the head. Only the first
// MaxGroup members are looked at: a writer's groups have a few dozen.
// The fields of a layout (a Layout's, or a File's shared one) are looked
// at where they are: copying each would cost more than reading the
// counts.
func findHistParts(data []byte, src histSource, head, end int) (p histParts, err error) {
	var fields []Field
	switch s := src.(type) {
	case *Layout:
		fields = s.Fields
	case *File:
		if s.shape != nil {
			fields = s.shape.layout.Fields
		}
	}
	var scratch Field
	field := func(k int) (*Field, error) {
		if fields != nil {
			return &fields[k], nil
		}
		var err error
		scratch, err = src.histField(data, k)
		return &scratch, err
	}
	hp, err := field(head)
	if err != nil {
		return p, err
	}
	p.head = *hp
	p.label = labelOf(data, &p.head)
	haveCarrier := false
	for k := head + 1; k < min(end, head+1+MaxGroup); k++ {
		f, err := field(k)
		if err != nil {
			return p, err
		}
		switch {
		case f.HasBuckets() && !haveCarrier:
			p.carrier, haveCarrier = *f, true
		default:
			switch l := labelOf(data, f); {
			case isPart(l, p.label, ".sum"):
				p.sum, p.haveSum = *f, true
			case isPart(l, p.label, ".min"):
				p.lo, p.haveLo = *f, true
			case isPart(l, p.label, ".max"):
				p.hi, p.haveHi = *f, true
			}
		}
	}
	if !haveCarrier {
		return p, &FormatError{Offset: p.head.Offset, Label: utf8Ignore(p.label), Err: ErrNoHistogram}
	}
	b := &p.carrier.Buckets
	if b.bad != badNone {
		return p, b.err(&p.carrier, utf8Ignore(labelOf(data, &p.carrier)))
	}
	return p, bucketsInside(data, &p)
}

// readGroupWords runs load, which loads the group's words, until the
// group's sequence word is even and the same before and after it (the
// writer published nothing meanwhile), within maxCopyTime: a consistent
// copy. It gives up after *wait (taking what it waited from *wait): with
// what load loaded if the word never moved (a writer stopped or dead in
// the middle of an update, whose counts are each whole), else ErrBusy.
// An error of load ends it at once.
func readGroupWords(data []byte, p *histParts, wait *time.Duration, load func() error) error {
	first := time.Now()
	firstSeq, _ := loadSeq(data, p.head.Seq)
	for try := 1; ; try++ {
		start := time.Now()
		s1, ok := loadSeq(data, p.head.Seq)
		if err := load(); err != nil {
			return err
		}
		s2, _ := loadSeq(data, p.head.Seq)
		if !ok || (s1%2 == 0 && s1 == s2 && time.Since(start) < maxCopyTime) {
			*wait -= min(*wait, time.Since(first))
			return nil
		}
		if try%minTries == 0 {
			if waited := time.Since(first); waited > *wait {
				*wait = 0
				if s1 == s2 && s1 == firstSeq {
					// The word never moved: the writer stopped (or died)
					// in the middle of an update. Each count is whole.
					return nil
				}
				return &FormatError{Offset: p.head.Offset, Label: utf8Ignore(p.label), Err: ErrBusy}
			}
			runtime.Gosched()
		}
	}
}

// loadBetweenExtremes loads the counts of the histogram of parts p into
// h.Counts (h's Count, Underflow and Overflow loaded), the group's words
// under one try of its sequence word. The writer's values lie between
// its .min and .max: the buckets outside them (one either side aside)
// are empty, which the count tells, as the counts cannot be negative,
// and are cleared rather than loaded (a Timer's values in a few powers
// of two are a hundred or two of its 1,920 counts). If the count does
// not tell it (a value observed while the writer published, a crafted
// file), all are loaded. A crafted file whose count is not its buckets'
// total (which the writer never writes) may therefore read with zeros
// where its buckets are not, never with a fault.
func loadBetweenExtremes(data []byte, p *histParts, h *Histogram) {
	b := &p.carrier.Buckets
	from, to := extremeBuckets(data, p, b.Schema, b.Lo, b.Lo+b.N)
	clear(h.Counts[:from])
	clear(h.Counts[to:])
	in := h.Counts[from:to]
	loadWords(in, data, b.Offset+16+8*from)
	h.loaded = len(in)
	if len(in) == b.N {
		return
	}
	total := h.Underflow + h.Overflow
	for _, c := range in {
		total += c
	}
	if total != h.Count {
		loadWords(h.Counts, data, b.Offset+16)
		h.loaded = b.N
	}
}

// readHistogram reads the histogram of the group of fields [head, end)
// (findHistParts), consistently (readGroupWords).
func readHistogram(data []byte, src histSource, head, end int, h *Histogram, wait *time.Duration) error {
	p, err := partsOf(data, src, head, end)
	if err != nil {
		return err
	}
	b := &p.carrier.Buckets
	h.Schema, h.Lo = b.Schema, b.Lo
	h.Counts = slices.Grow(h.Counts[:0], b.N)[:b.N]
	read := func(f *Field, have bool, dflt float64) float64 {
		if !have {
			return dflt
		}
		v, err := ReadValue(data, f)
		if err != nil {
			return dflt
		}
		return v.Float()
	}
	var pair [2]uint64
	return readGroupWords(data, &p, wait, func() error {
		cv, err := ReadValue(data, &p.carrier)
		if err != nil {
			return err
		}
		loadWords(pair[:], data, b.Offset)
		h.Count, h.Underflow, h.Overflow = cv.Uint(), pair[0], pair[1]
		loadBetweenExtremes(data, &p, h)
		h.Sum = read(&p.sum, p.haveSum, 0)
		h.Min = read(&p.lo, p.haveLo, 0)
		h.Max = read(&p.hi, p.haveHi, v1.BucketUpper(b.Schema, b.Lo+b.N-1))
		return nil
	})
}
