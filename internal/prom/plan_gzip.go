package prom

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// A Plan's text compressed, as mmash sends it to Prometheus: one gzip
// member whose deflate stream is made of pieces (chunks) of about
// gzipChunk bytes of text, each compressed on its own and ended by a
// sync flush, so that a piece whose values have not changed since the
// last text is sent again as it was compressed, without being made or
// compressed again: a scrape of files of which few changed costs the
// values that changed. The pieces are cut between series, at the first
// text, and stay so for the Plan's life.
//
// A piece compressed on its own refers to nothing before it (deflate's
// back-references reach 32 KiB), so the pieces follow one another in
// one stream; what each costs is that its first 32 KiB find no match
// in the piece before, and its own code tables: at gzipChunk, 3% more
// bytes than one stream for the web worker's files with their Timer
// (182 KB for 1,000 files where one stream is 176 KB), 10% at
// --classic-schema 3 (1.31 MB, 1.19), 13% at 128 KiB, 4% at 512 KiB
// (measured with the standard library's deflate; klauspost/compress's,
// used here, gives 180 KB and 1.22 MB). The gzip trailer's CRC of the
// whole text is combined from the pieces' own (crc.go).

// gzipChunk is about the text of one piece of AppendGzip.
const gzipChunk = 256 << 10

// familyCut says where else the pieces are cut: before the first series
// of a family, once a piece holds gzipChunk/familyCut bytes of text (32
// KiB). The values of one family change together more often than not
// (a worker's requests change its 2XX counter and its Timer, not its
// 5XX counter, its start time or its info): a family whose values did
// not change is not made again with a neighbour's that did. For a
// thousand web workers' files that each saw a request (their 2XX counter
// and Timer changed), 17 of 29 pieces (3.7 of the 4.8 MB of text) are
// made again, not all 17 of 17; the Timer's pieces, whose histograms are
// read, cost most of the time, which stays about the same. The text
// compresses 1.6% smaller (178 KB, was 181 KB): a piece of one family
// finds its matches in it. (A family whose values are constants, such
// as the files' info, has no value to start a piece at: it goes with
// the family after it.)
const familyCut = 8

// gzipState is what AppendGzip keeps from one text to the next.
type gzipState struct {
	piece  int // the text of a piece, about: gzipChunk (less in tests)
	chunks []gzipPiece
	prev   []writtenValue // of each segment, what its piece holds
	zs     [2]compressor  // the second made when first needed
	all    []int          // the index of each piece
	todo   []int          // the pieces to make again, of a Source that is not a ForkingSource
	texts  [2][]byte      // the text of the pieces being made and compressed, one to a compressor
	made   int            // the pieces compressed, for tests

	// What the goroutines of remake share while it runs.
	workers [2]gzipWorker
	plan    *Plan
	src     Source // the Source of AppendGzipWith
	summary SummarySource
	list    []int        // the pieces to take: all, or todo
	check   bool         // make only the pieces whose values changed
	next    atomic.Int32 // the index in list of the next piece to take
}

// newGzipState returns the state of AppendGzip for a Plan of segs
// segments, cut in pieces of about piece bytes of text. Its compressor
// is klauspost/compress's deflate at level 1: on the text of a thousand
// Timers, the same output (176 KB of 4.8 MB) in 3.9 ms where the
// standard library's BestSpeed takes 6.8 ms.
func newGzipState(piece, segs int) *gzipState {
	g := &gzipState{piece: piece, prev: make([]writtenValue, segs)}
	g.zs[0].zw, _ = flate.NewWriter(nil, flate.BestSpeed) // a valid level: no error
	return g
}

// gzipPiece is a piece of the text: the segments [from, to), each with
// the text before it, and after the last piece the text after the last
// segment.
type gzipPiece struct {
	from, to int
	z        []byte // its compressed text, ended by a sync flush
	crc      uint32 // the CRC-32 of its text
	n        int    // the length of its text
	valid    bool   // z is the text of the values in prev
}

// writtenValue is the value of a segment that a piece holds: a number
// (its kind and bits), or a histogram's count and sum bits. ok is false
// for a value that cannot be told apart this way (a string; a
// histogram not written from its summary): its piece is made again.
type writtenValue struct {
	bits, sum uint64
	kind      reader.ValueKind
	ok        bool
}

// current returns the value of segment sg now, as writtenValue tells it.
func (sg *segment) current(src Source, summary SummarySource) writtenValue {
	if sg.src.group >= 0 {
		if summary == nil || sg.last == nil {
			return writtenValue{}
		}
		count, sum, ok := summary.HistogramSummary(int(sg.src.file), int(sg.src.group))
		return writtenValue{bits: count, sum: math.Float64bits(sum), ok: ok}
	}
	return numberValue(src.Value(int(sg.src.file), int(sg.src.stat)))
}

// numberValue returns the writtenValue of a number.
func numberValue(v reader.Value) writtenValue {
	w := writtenValue{kind: v.Kind(), ok: true}
	switch w.kind {
	case reader.Int:
		w.bits = uint64(v.Int())
	case reader.Uint, reader.Bool:
		w.bits = v.Uint()
	case reader.Float:
		w.bits = math.Float64bits(v.Float())
	default:
		w.ok = false
	}
	return w
}

// written returns what sg's text holds after appendValue: the number
// written, or the histogram's count and sum if it was written as its
// summary tells.
func (sg *segment) written(src Source) writtenValue {
	if sg.src.group >= 0 {
		w := sg.last
		if w == nil || !w.valid {
			return writtenValue{}
		}
		return writtenValue{bits: w.count, sum: math.Float64bits(w.sum), ok: true}
	}
	return numberValue(src.Value(int(sg.src.file), int(sg.src.stat)))
}

// AppendGzip appends the exposition of p with the values of src to b,
// as one gzip member (RFC 1952) of the text that Append appends, and
// returns it. The pieces of the text whose values are those of the last
// call are not made again (see SummarySource for histograms): the call
// costs the values that changed. It makes and compresses the pieces on
// the caller's goroutine alone (AppendGzipWith makes them on two). Once
// the pieces have their sizes, it allocates nothing.
func (p *Plan) AppendGzip(b []byte, src Source) []byte { return p.AppendGzipWith(b, src, nil) }

// AppendGzipWith is AppendGzip with h, if not nil, making and
// compressing pieces beside the caller (see remake): on two cores, the
// answer of many changed values takes about half as long. It wakes h
// only when a piece is made again, and allocates nothing once the
// pieces have their sizes. A panic of the Source on h's goroutine is a
// panic of AppendGzipWith, once both goroutines stopped.
func (p *Plan) AppendGzipWith(b []byte, src Source, h *Helper) []byte {
	g := p.gz
	if g == nil {
		g = newGzipState(gzipChunk, len(p.segs))
		p.gz = g
	}
	b = append(b, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255) // deflate, no name, no time, unknown OS
	var crc uint32
	var size uint32
	add := func(c *gzipPiece) {
		b = append(b, c.z...)
		crc = crcCombine(crc, c.crc, c.n)
		size += uint32(c.n) // modulo 2^32, as the trailer has it
	}
	if g.chunks == nil {
		// The first text: cut into pieces of about g.piece bytes of text,
		// as the values' text is estimated, for the Plan's life.
		for from := 0; ; {
			to, n := from, 0
			for to < len(p.segs) && n < g.piece {
				if to > from && p.segs[to].first && n >= g.piece/familyCut {
					break // a family starts a piece, unless the piece is small
				}
				n += p.segs[to].end - p.start(to) + p.segs[to].valueSize()
				to++
			}
			g.chunks = append(g.chunks, gzipPiece{from: from, to: to})
			g.all = append(g.all, len(g.all))
			if to == len(p.segs) {
				break
			}
			from = to
		}
	}
	p.remake(g, src, h)
	for k := range g.chunks {
		add(&g.chunks[k])
	}
	b = append(b, 3, 0) // an empty final block, fixed codes
	b = binary.LittleEndian.AppendUint32(b, crc)
	return binary.LittleEndian.AppendUint32(b, size)
}

// valueSize is about the length of the text of sg's value.
func (sg *segment) valueSize() int {
	if sg.last == nil {
		return 24
	}
	return (cap(sg.last.cum)+3)*(len(sg.name)+len(sg.label)+40) + 16
}

// start returns where the text before segment i starts.
func (p *Plan) start(i int) int {
	if i == 0 {
		return 0
	}
	return p.segs[i-1].end
}

// unchanged reports whether the values of c's segments are those its
// compressed text holds.
func (p *Plan) unchanged(g *gzipState, c *gzipPiece, src Source, summary SummarySource) bool {
	if !c.valid {
		return false
	}
	for i := c.from; i < c.to; i++ {
		if prev := g.prev[i]; !prev.ok || prev != p.segs[i].current(src, summary) {
			return false
		}
	}
	return true
}

// remake makes again the text of the pieces whose values are not those
// their compressed text holds, and compresses it. The pieces are taken
// in order from a counter (g.next) by the caller and, once the caller
// has found a piece to make and more remain, by h's goroutine too, each
// with its compressor: a piece whose values have not changed is left
// as it is, another has its histograms read (segment.prepare), its text
// made (the numbers read with Value) and compressed, by the goroutine
// that took it. A ForkingSource's histograms are read on both, each
// through its view; a Source that is not one is read by the caller
// only: it finds and prepares every piece to make first, and then both
// make their text and compress them. Making the text and compressing it
// cost more than reading: on two cores the answer takes about half
// their sum rather than the sum. An answer of which no value changed
// wakes no goroutine.
func (p *Plan) remake(g *gzipState, src Source, h *Helper) {
	summary, _ := src.(SummarySource)
	forking, _ := src.(ForkingSource)
	g.plan, g.src, g.summary = p, src, summary
	g.list, g.check = g.all, true
	g.next.Store(0)
	g.workers[0] = gzipWorker{g: g, i: 0, src: src, summary: summary}
	g.workers[1] = gzipWorker{g: g, i: 1}
	w := &g.workers[0]
	if h != nil && len(g.chunks) >= 2 {
		w.h = h
		if forking != nil {
			for i := range g.workers {
				v := forking.Fork(i)
				g.workers[i].src = v
				g.workers[i].summary, _ = v.(SummarySource)
			}
		} else {
			// Only this goroutine reads the histograms: the pieces to
			// make found and prepared first.
			g.todo = g.todo[:0]
			for k := range g.chunks {
				if c := &g.chunks[k]; !p.unchanged(g, c, src, summary) {
					p.prepare(c, src, summary)
					g.todo = append(g.todo, k)
				}
			}
			g.list, g.check = g.todo, false
		}
	}
	finished := false
	defer func() {
		// However this ends, the helper has made the pieces it took
		// before g is used again, and g keeps nothing of the Source.
		var failed any
		if w.started {
			failed = h.Wait()
		}
		for i := range g.workers {
			g.made += g.zs[i].made
			g.zs[i].made = 0
			g.workers[i] = gzipWorker{}
		}
		g.plan, g.src, g.summary, g.list = nil, nil, nil, nil
		if failed != nil && finished { // (else this goroutine's own panic goes on)
			panic(failed)
		}
	}()
	w.Run()
	finished = true
}

// gzipWorker is a goroutine of remake: the caller (i 0) or its helper
// (i 1), with its compressor and text (g.zs[i], g.texts[i]) and the
// Source it reads histograms from.
type gzipWorker struct {
	g       *gzipState
	i       int
	src     Source
	summary SummarySource
	h       *Helper // the caller's: started at the first piece it makes
	started bool
}

// Run takes pieces of g.list until none is left, and makes those whose
// values changed (all of them if not g.check).
func (w *gzipWorker) Run() {
	g := w.g
	p, z := g.plan, &g.zs[w.i]
	for {
		n := int(g.next.Add(1)) - 1
		if n >= len(g.list) {
			return
		}
		k := g.list[n]
		c := &g.chunks[k]
		if g.check && p.unchanged(g, c, g.src, g.summary) {
			continue
		}
		if w.h != nil && !w.started && n+1 < len(g.list) {
			// A piece to make, and more to look at: the helper joins.
			if z1 := &g.zs[1]; z1.zw == nil {
				z1.zw, _ = flate.NewWriter(nil, flate.BestSpeed) // a valid level: no error
			}
			w.h.Start(&g.workers[1])
			w.started = true
		}
		if g.check {
			p.prepare(c, w.src, w.summary)
		}
		g.texts[w.i] = p.pieceText(g, c, g.texts[w.i][:0], g.src)
		z.compress(c, g.texts[w.i])
	}
}

// prepare reads the histograms of c (segment.prepare).
func (p *Plan) prepare(c *gzipPiece, src Source, summary SummarySource) {
	c.valid = false
	for i := c.from; i < c.to; i++ {
		if sg := &p.segs[i]; sg.src.group >= 0 && sg.last != nil {
			sg.prepare(src, summary)
		}
	}
}

// pieceText appends the text of c with the values of src to t (its
// histograms prepared), and notes in g.prev the values it holds.
func (p *Plan) pieceText(g *gzipState, c *gzipPiece, t []byte, src Source) []byte {
	c.valid = false // until compressed: its prev no longer says what z holds
	for i := c.from; i < c.to; i++ {
		sg := &p.segs[i]
		t = append(t, p.text[p.start(i):sg.end]...)
		switch {
		case sg.src.group < 0:
			// (appendValue and written, with one Value.)
			v := src.Value(int(sg.src.file), int(sg.src.stat))
			t = append(AppendValue(t, v), '\n')
			g.prev[i] = numberValue(v)
			continue
		case sg.last != nil:
			t = sg.appendPrepared(t)
		default:
			t = sg.appendHistogram(t, src, nil) // (never from Compile)
		}
		g.prev[i] = sg.written(src)
	}
	if c.to == len(p.segs) {
		t = append(t, p.text[p.start(c.to):]...)
	}
	return t
}

// compressor is a deflate compressor of AppendGzip's pieces, one to a
// goroutine.
type compressor struct {
	zw   *flate.Writer
	out  appender // what zw writes to: the piece's z
	made int      // the pieces compressed since remake last counted
}

// compress compresses t, the text of c, into c.z.
func (z *compressor) compress(c *gzipPiece, t []byte) {
	c.crc, c.n = crc32.ChecksumIEEE(t), len(t)
	z.out.b = c.z[:0]
	z.zw.Reset(&z.out)
	z.zw.Write(t) // to an appender: no error
	z.zw.Flush()
	c.z, c.valid = z.out.b, true
	z.out.b = nil
	z.made++
}

// bytes is about what g keeps.
func (g *gzipState) bytes() int {
	n := 24 * cap(g.prev)
	for i := range g.zs {
		if g.zs[i].zw != nil {
			n += 700 << 10 // a compressor's tables, about
		}
	}
	for _, t := range g.texts {
		n += cap(t)
	}
	for i := range g.chunks {
		n += 200 + cap(g.chunks[i].z)
	}
	return n
}

// appender is an io.Writer that appends to b.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}
