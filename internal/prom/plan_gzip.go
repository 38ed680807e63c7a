package prom

import (
	"encoding/binary"
	"hash/crc32"
	"math"

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

// gzipState is what AppendGzip keeps from one text to the next.
type gzipState struct {
	piece  int // the text of a piece, about: gzipChunk (less in tests)
	chunks []gzipPiece
	prev   []writtenValue // of each segment, what its piece holds
	zs     [2]compressor  // the second made when first needed
	todo   []int          // the pieces to make again
	texts  [2][]byte      // the text of the pieces being made and compressed, one to a compressor
	made   int            // the pieces compressed, for tests
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
// costs the values that changed. Once the pieces have their sizes, it
// allocates nothing when none changed, and a few objects (a goroutine
// that compresses them, see remake) when some did.
func (p *Plan) AppendGzip(b []byte, src Source) []byte {
	g := p.gz
	if g == nil {
		g = newGzipState(gzipChunk, len(p.segs))
		p.gz = g
	}
	summary, _ := src.(SummarySource)
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
				n += p.segs[to].end - p.start(to) + p.segs[to].valueSize()
				to++
			}
			g.chunks = append(g.chunks, gzipPiece{from: from, to: to})
			if to == len(p.segs) {
				break
			}
			from = to
		}
	}
	g.todo = g.todo[:0]
	for k := range g.chunks {
		if !p.unchanged(g, &g.chunks[k], src, summary) {
			g.todo = append(g.todo, k)
		}
	}
	p.remake(g, src, summary)
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

// remake makes the text of the pieces of g.todo with the values of src
// and compresses them. With two or more, this goroutine reads the
// pieces' histograms (segment.prepare: the only calls of the Source's
// Histogram and ClassicHistogram), piece after piece, and two others
// each make the text of a piece it has prepared (the numbers read with
// Value, on those goroutines) and compress it; a ForkingSource's
// histograms are read on those two goroutines too, each through its
// view: making the text and
// compressing it cost more than reading, and on two cores the answer
// takes about half their sum rather than the sum. A panic of the Source
// on one of them is a panic of AppendGzip, once the others stopped.
func (p *Plan) remake(g *gzipState, src Source, summary SummarySource) {
	if len(g.todo) < 2 {
		for _, k := range g.todo {
			c := &g.chunks[k]
			p.prepare(c, src, summary)
			g.texts[0] = p.pieceText(g, c, g.texts[0][:0], src)
			g.zs[0].compress(c, g.texts[0])
		}
		g.made += g.zs[0].made
		g.zs[0].made = 0
		return
	}
	work := make(chan int, len(g.todo))
	done := make(chan any, len(g.zs))
	forking, _ := src.(ForkingSource)
	for w := range g.zs {
		z := &g.zs[w]
		if z.zw == nil {
			z.zw, _ = flate.NewWriter(nil, flate.BestSpeed) // a valid level: no error
		}
		var view Source
		var viewSummary SummarySource
		if forking != nil {
			view = forking.Fork(w)
			viewSummary, _ = view.(SummarySource)
		}
		go func() {
			var failed any
			defer func() {
				if r := recover(); r != nil {
					failed = r
					for range work { // the others' pieces: not made, left invalid
					}
				}
				done <- failed
			}()
			for k := range work {
				c := &g.chunks[k]
				if view != nil {
					p.prepare(c, view, viewSummary)
				}
				g.texts[w] = p.pieceText(g, c, g.texts[w][:0], src)
				z.compress(c, g.texts[w])
			}
		}()
	}
	finished := false
	defer func() {
		// However this ends, the goroutines have made what they were
		// given, and end, before g is used again.
		if !finished {
			close(work)
		}
		var failed any
		for range g.zs {
			if r := <-done; r != nil && failed == nil {
				failed = r
			}
		}
		for w := range g.zs {
			g.made += g.zs[w].made
			g.zs[w].made = 0
		}
		if failed != nil && finished { // (else this goroutine's own panic goes on)
			panic(failed)
		}
	}()
	for _, k := range g.todo {
		c := &g.chunks[k]
		c.valid = false // until compressed: its prev no longer says what z holds
		if forking == nil {
			p.prepare(c, src, summary)
		}
		work <- k
	}
	close(work)
	finished = true
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
