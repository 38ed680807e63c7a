package prom

import (
	"io"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/reader"
)

// A Plan is the text exposition of a Set whose series stay the same
// while their values change: a server that answers every scrape of the
// same files (mmash) builds the Set and compiles it once, while the
// files keep their layouts, and then only writes the values into the
// text already made (the # HELP and # TYPE lines, each series' name and
// labels). Plan.Append writes exactly what WriteTo would write of a Set
// built with the values that its Source gives, without allocating.
//
// The series of a Plan come from the files added with AddFilePlan, each
// numbered by the caller: a series' value is stat i of file k (its
// index in the stats given to AddFilePlan), and a histogram's is group
// g of file k. What the values decide when a Set is built (the PID and
// info stats that become labels, a group left out because it could not
// be read, a value that is not a number) is the caller's to watch: when
// any of it changes, build the Set again.
//
// A Plan keeps the classic counts it wrote of each histogram, and a
// Source that is a SummarySource saves it reading the buckets of one
// that has not changed since. A Plan is not safe for concurrent use.
type Plan struct {
	text []byte    // the text that does not change, cut by segs
	segs []segment // the values, in the order of the text
	size int       // the length of the last text appended, a hint
	gz   *gzipState
}

// source is where the value of a series of a Plan comes from: stat of
// file, or histogram group of file, or neither (stat and group -1: the
// value the series was added with, such as the 1 of InfoName).
type source struct{ file, stat, group int32 }

// segment is a value of a Plan, after the text that ends at end.
type segment struct {
	end   int
	src   source
	name  string   // a histogram's metric name
	label []byte   // a histogram's labels, as between the braces
	le    *leTable // a histogram's bounds, as the Set saw them
	// classic is a histogram's ClassicSchema, as the Set was told.
	classic ClassicSchema
	last    *written // what was written of a histogram last
	bucket  []byte   // a histogram's bucket lines up to their le value: appendName(nil, "_bucket", true)
	first   bool     // the first value of its family (AppendGzip cuts its pieces there)
}

// written is what a Plan wrote of a histogram last: its classic counts
// at the bounds of its leTable, its count and sum. valid says that they
// are those of the Source's summary count and sum.
type written struct {
	valid bool
	count uint64
	sum   float64
	cum   []uint64
	// odd says that the histogram's window was not its Set's at the last
	// prepare: other is its text.
	odd   bool
	other []byte
}

// leTable is the text of the classic bounds of a histogram's window
// (the le="…" of cumulative buckets first to last at schema cs), made
// once for all the series of one window: formatting a float costs more
// than the rest of a line.
type leTable struct {
	cs, first, last int
	text            []byte
	offs            []int32 // bound j is text[offs[j]:offs[j+1]]
}

// Source gives the values of a Plan's series, by the numbers of
// AddFilePlan.
type Source interface {
	// Value returns the value of stat of file.
	Value(file, stat int) reader.Value
	// Histogram returns histogram group of file.
	Histogram(file, group int) *reader.Histogram
}

// A SummarySource is a Source that tells a histogram's count and sum
// without its buckets (a writer publishes them as numbers of their own,
// which a server reads anyway). A Plan whose last text of a histogram
// had the same count and sum writes that text's buckets again rather
// than call Histogram: the buckets of the writer's histograms only
// grow, and their total is the count, so that with the count the same
// no bucket can have changed. (A crafted file can break that rule: it
// then gets the buckets it had before, whole.)
type SummarySource interface {
	Source
	// HistogramSummary returns the count and sum of histogram group of
	// file, as Histogram would give them now; ok is false if it cannot
	// tell.
	HistogramSummary(file, group int) (count uint64, sum float64, ok bool)
}

// A ClassicSource is a Source that reads a histogram with its counts
// summed at the classic schema (reader.File.ReadCoarseHistogram) rather
// than copied whole: a Plan writes the classic buckets from those sums,
// and calls Histogram only for one whose window is not the one its Set
// saw. (A SummarySource saves the read of a histogram that has not
// changed; this one makes the read of one that has cheaper.)
type ClassicSource interface {
	Source
	// ClassicHistogram returns histogram group of file with its counts
	// summed at schema, as Histogram would give them now.
	ClassicHistogram(file, group, schema int) *reader.CoarseHistogram
}

// A ForkingSource is a Source whose histograms can be read on several
// goroutines at once, each through a view of its own: AppendGzip then
// reads the histograms of the pieces it makes again on the goroutines
// that make their text, rather than all on its own. Fork returns the
// view of goroutine i (0 or 1), a Source (and a SummarySource or a
// ClassicSource if the source is one) whose methods may be called while
// the other view's are, and with the source's Value and
// HistogramSummary, on other goroutines.
type ForkingSource interface {
	Source
	Fork(i int) Source
}

// AddFilePlan is AddFileGroups for a Set to compile into a Plan: k is
// the file's number for the Plan's Source, and the index of each stat
// in stats and of each group in groups is the number of its value.
func (s *Set) AddFilePlan(k int, path, pid string, stats []reader.Stat, groups []Group) {
	s.at = source{file: int32(k), stat: -1, group: -1}
	s.AddFileGroups(path, pid, stats, groups)
	s.at = source{}
}

// Compile returns the Plan of a Set whose files were all added with
// AddFilePlan. It sorts the series as WriteTo does.
func (s *Set) Compile() *Plan {
	p := &Plan{}
	les := map[[3]int]*leTable{}
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(s.families)) {
		f := s.families[name]
		slices.SortFunc(f.series, func(x, y series) int { return compareLabels(x.labels, y.labels) })
		b = appendFamilyHeader(b, name, f)
		first := len(p.segs)
		for i := range f.series {
			sr := &f.series[i]
			switch {
			case sr.hist != nil:
				h := sr.hist
				key := [3]int{h.cschema, h.first, h.first + len(h.cum) - 1}
				t := les[key]
				if t == nil {
					t = &leTable{cs: key[0], first: key[1], last: key[2]}
					for j := range h.cum {
						t.offs = append(t.offs, int32(len(t.text)))
						t.text = strconv.AppendFloat(t.text, h.bound(j), 'g', -1, 64)
					}
					t.offs = append(t.offs, int32(len(t.text)))
					les[key] = t
				}
				p.segs = append(p.segs, segment{end: len(b), src: sr.src, name: name, label: appendLabels(nil, sr.labels), le: t,
					classic: h.classic, last: &written{cum: make([]uint64, 0, len(h.cum))}})
				sg := &p.segs[len(p.segs)-1]
				sg.bucket = sg.appendName(nil, "_bucket", true)
			case sr.src.stat >= 0:
				b = appendPrefix(b, name, "", sr.labels, nil)
				p.segs = append(p.segs, segment{end: len(b), src: sr.src})
			default:
				b = appendSample(b, name, "", sr.labels, nil, AppendValue(nil, sr.value))
			}
		}
		if first < len(p.segs) {
			p.segs[first].first = true
		}
	}
	p.text = b
	return p
}

// appendLabels appends labels as they are written between braces.
func appendLabels(b []byte, labels []Label) []byte {
	for i, l := range labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.Name...)
		b = append(b, `="`...)
		b = appendEscaped(b, l.Value, true)
		b = append(b, '"')
	}
	return b
}

// Bytes returns about what p keeps in memory.
func (p *Plan) Bytes() int {
	n := cap(p.text) + 104*len(p.segs)
	for i := range p.segs {
		n += len(p.segs[i].label) + cap(p.segs[i].bucket)
		if w := p.segs[i].last; w != nil {
			n += 80 + 8*cap(w.cum) + cap(w.other)
		}
	}
	if g := p.gz; g != nil {
		n += g.bytes()
	}
	return n
}

// Append appends the exposition of p with the values of src to b, and
// returns it: what WriteTo writes of the Set with those values.
func (p *Plan) Append(b []byte, src Source) []byte {
	if cap(b)-len(b) < p.size {
		b = slices.Grow(b, p.size)
	}
	start := len(b)
	b, _ = p.write(nil, b, src)
	p.size = len(b) - start
	return b
}

// WriteTo writes the exposition of p with the values of src to w, in
// pieces of about 64 KiB made in buf (which it returns, to be used
// again): what is held at once stays small, however large the text.
func (p *Plan) WriteTo(w io.Writer, src Source, buf []byte) ([]byte, error) {
	if cap(buf) < writeChunk+4096 {
		buf = make([]byte, 0, writeChunk+4096)
	}
	return p.write(w, buf[:0], src)
}

// writeChunk is the size of the pieces of WriteTo.
const writeChunk = 64 << 10

// write appends the text to b, writing it to w (if not nil) whenever it
// passes writeChunk, and at the end.
func (p *Plan) write(w io.Writer, b []byte, src Source) ([]byte, error) {
	flush := func() error {
		if w == nil || len(b) < writeChunk {
			return nil
		}
		_, err := w.Write(b)
		b = b[:0]
		return err
	}
	pos := 0
	summary, _ := src.(SummarySource)
	for i := range p.segs {
		sg := &p.segs[i]
		b = append(b, p.text[pos:sg.end]...)
		pos = sg.end
		b = sg.appendValue(b, src, summary)
		if err := flush(); err != nil {
			return b, err
		}
	}
	b = append(b, p.text[pos:]...)
	if w != nil && len(b) > 0 {
		_, err := w.Write(b)
		return b[:0], err
	}
	return b, nil
}

// appendValue appends the value of sg: a number and its newline, or the
// lines of a histogram.
func (sg *segment) appendValue(b []byte, src Source, summary SummarySource) []byte {
	if sg.src.group >= 0 {
		return sg.appendHistogram(b, src, summary)
	}
	b = AppendValue(b, src.Value(int(sg.src.file), int(sg.src.stat)))
	return append(b, '\n')
}

// appendHistogram appends the lines of a histogram's series as
// appendHistogram (prom.go) does from its histValue: the cumulative
// buckets at the classic bounds, +Inf, _sum and _count. Those of a
// histogram whose summary is that of the last text are written again
// from what that text wrote (see SummarySource). It is prepare, which
// reads, then appendPrepared, which writes.
func (sg *segment) appendHistogram(b []byte, src Source, summary SummarySource) []byte {
	if sg.last == nil {
		// (Never from Compile, which gives every histogram its written.)
		return sg.appendOtherWindow(b, src.Histogram(int(sg.src.file), int(sg.src.group)))
	}
	sg.prepare(src, summary)
	return sg.appendPrepared(b)
}

// prepare reads what appendPrepared writes of sg, a histogram with its
// written (sg.last): its classic counts, count and sum, into it; or,
// for one whose window is not the one its Set saw, its whole text.
// Only prepare calls the Source: AppendGzip prepares the histograms of
// its pieces on one goroutine and writes them on others.
func (sg *segment) prepare(src Source, summary SummarySource) {
	file, group := int(sg.src.file), int(sg.src.group)
	w := sg.last
	w.other = w.other[:0]
	var count uint64
	var sum float64
	known := false
	if summary != nil {
		count, sum, known = summary.HistogramSummary(file, group)
		if known && w.valid && w.count == count && math.Float64bits(w.sum) == math.Float64bits(sum) {
			w.odd = false
			return
		}
	}
	w.odd = false
	if cl, ok := src.(ClassicSource); ok && sg.le != nil {
		c := cl.ClassicHistogram(file, group, int(sg.classic))
		cs, first, last := classicWindowOf(c.Schema, c.Lo, c.N, sg.classic)
		if t := sg.le; t.cs == cs && c.CoarseSchema == cs && t.first == first && t.last == last {
			var total uint64
			w.cum, total = coarseCounts(c, first, last, w.cum[:0])
			w.count, w.sum = total, c.Sum
			w.valid = known && total == count && c.Count == count && math.Float64bits(c.Sum) == math.Float64bits(sum)
			return
		}
	}
	h := src.Histogram(file, group)
	cs, first, last := classicWindow(h, sg.classic)
	if t := sg.le; t != nil && t.cs == cs && t.first == first && t.last == last {
		var total uint64
		w.cum, total = classicCounts(h, cs, first, last, w.cum[:0])
		w.count, w.sum = total, h.Sum
		// Kept for the next text if they are those of the summary: read
		// after it, the buckets may be newer.
		w.valid = known && total == count && h.Count == count && math.Float64bits(h.Sum) == math.Float64bits(sum)
		return
	}
	// Another window than the Set's: its text made here.
	w.valid, w.odd = false, true
	w.other = sg.appendOtherWindow(w.other, h)
}

// appendPrepared appends the lines of a histogram that prepare read.
func (sg *segment) appendPrepared(b []byte) []byte {
	w := sg.last
	if w.odd {
		return append(b, w.other...)
	}
	return sg.appendCounts(b, w.cum, w.count, w.sum)
}

// appendOtherWindow appends the lines of h, whose window is not the one
// the Set saw: the bounds formatted here.
func (sg *segment) appendOtherWindow(b []byte, h *reader.Histogram) []byte {
	cs, first, last := classicWindow(h, sg.classic)
	factor := 1 << (h.Schema - cs)
	acc, i := h.Underflow, h.Lo
	for k := first; k <= last; k++ {
		for ; i <= k*factor && i < h.Lo+len(h.Counts); i++ {
			acc += h.Counts[i-h.Lo]
		}
		b = sg.appendName(b, "_bucket", true)
		b = strconv.AppendFloat(b, v1.BucketUpper(cs, k), 'g', -1, 64)
		b = append(b, `"} `...)
		b = strconv.AppendUint(b, acc, 10)
		b = append(b, '\n')
	}
	return sg.appendTail(b, h.Total(), h.Sum)
}

// classicCounts appends to dst the cumulative counts of h at the bounds
// first to last of schema cs (see classicWindow), and returns it with
// h's total (h.Total()), summed in the same pass.
func classicCounts(h *reader.Histogram, cs, first, last int, dst []uint64) ([]uint64, uint64) {
	factor := 1 << (h.Schema - cs)
	acc, i, end := h.Underflow, h.Lo, h.Lo+len(h.Counts)
	for k := first; k <= last; k++ {
		for stop := min(k*factor+1, end); i < stop; i++ {
			acc += h.Counts[i-h.Lo]
		}
		dst = append(dst, acc)
	}
	for ; i < end; i++ {
		acc += h.Counts[i-h.Lo]
	}
	return dst, acc + h.Overflow
}

// coarseCounts is classicCounts from the counts of c summed at schema
// cs already (c.CoarseSchema): the cumulative counts at the bounds first
// to last, and the total.
func coarseCounts(c *reader.CoarseHistogram, first, last int, dst []uint64) ([]uint64, uint64) {
	acc, j := c.Underflow, 0
	for k := first; k <= last; k++ {
		for ; j < len(c.Counts) && c.CoarseLo+j <= k; j++ {
			acc += c.Counts[j]
		}
		dst = append(dst, acc)
	}
	for ; j < len(c.Counts); j++ {
		acc += c.Counts[j]
	}
	return dst, acc + c.Overflow
}

// appendCounts appends the lines of a histogram whose cumulative counts
// at the bounds of sg.le are cum.
func (sg *segment) appendCounts(b []byte, cum []uint64, count uint64, sum float64) []byte {
	t := sg.le
	for j, c := range cum {
		if sg.bucket != nil {
			b = append(b, sg.bucket...)
		} else {
			b = sg.appendName(b, "_bucket", true)
		}
		b = append(b, t.text[t.offs[j]:t.offs[j+1]]...)
		b = append(b, `"} `...)
		b = strconv.AppendUint(b, c, 10)
		b = append(b, '\n')
	}
	return sg.appendTail(b, count, sum)
}

// appendTail appends a histogram's +Inf bucket, _sum and _count.
func (sg *segment) appendTail(b []byte, count uint64, sum float64) []byte {
	if sg.bucket != nil {
		b = append(b, sg.bucket...)
	} else {
		b = sg.appendName(b, "_bucket", true)
	}
	b = append(b, `+Inf"} `...)
	b = strconv.AppendUint(b, count, 10)
	b = append(b, '\n')
	b = sg.appendName(b, "_sum", false)
	b = AppendValue(b, reader.FloatValue(sum))
	b = append(b, '\n')
	b = sg.appendName(b, "_count", false)
	b = strconv.AppendUint(b, count, 10)
	return append(b, '\n')
}

// appendName appends a histogram line's name+suffix and labels: up to
// the opening quote of its le label if le, else up to its value.
func (sg *segment) appendName(b []byte, suffix string, le bool) []byte {
	b = append(b, sg.name...)
	b = append(b, suffix...)
	switch {
	case le:
		b = append(b, '{')
		b = append(b, sg.label...)
		if len(sg.label) > 0 {
			b = append(b, ',')
		}
		return append(b, `le="`...)
	case len(sg.label) > 0:
		b = append(b, '{')
		b = append(b, sg.label...)
		b = append(b, '}')
	}
	return append(b, ' ')
}
