package prom

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// gunzip returns the text of one gzip member, checked (CRC and size)
// by Go's reader, and that nothing follows it.
func gunzip(t *testing.T, z []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	if rest, _ := io.ReadAll(zr); len(rest) != 0 {
		t.Fatal("more than one gzip member")
	}
	return text
}

// TestPlanAppendGzip: at every classic schema, AppendGzip's member is
// the text that WriteTo writes, with a Source that summarizes its
// histograms, one that also sums their counts (a ClassicSource), and one
// that does neither, over files whose text makes many
// pieces: as built, unchanged (no piece made again), after one number
// changed (one piece made again), one histogram, a histogram whose
// summary is older than its buckets, another window, a value of
// another length; on the caller's goroutine alone (AppendGzip) and with
// a Helper (AppendGzipWith). Once made, it does not allocate.
func TestPlanAppendGzip(t *testing.T) {
	h := NewHelper()
	defer h.Close()
	for classic := range MaxClassicSchema + 1 {
		for _, mode := range []string{"summary", "summary and sums", "none", "forked", "summary, alone", "forked, alone"} {
			var helper *Helper
			if !strings.HasSuffix(mode, ", alone") {
				helper = h
			}
			summarized := mode != "none"
			rng := rand.New(rand.NewPCG(9, 10))
			var paths []string
			for k := range 200 {
				paths = append(paths, fmt.Sprintf("/d/w%04d.mmstats", k))
			}
			fs := planFixtureOf(rng, paths)
			var src Source = fs
			sum := &summaryFiles{planFiles: fs, said: map[[2]int][2]float64{}}
			if summarized {
				src = sum
			}
			if mode == "summary and sums" {
				src = &classicFiles{summaryFiles: sum}
			}
			forked := &forkFiles{summaryFiles: sum}
			if strings.HasPrefix(mode, "forked") {
				src = forked
			}
			plan := fs.set(classic).Compile()
			plan.gz = newGzipState(16<<10, len(plan.segs)) // many pieces
			what := fmt.Sprintf("schema %d, %s", classic, mode)
			check := func(step string, made int) {
				t.Helper()
				var want bytes.Buffer
				fs.set(classic).WriteTo(&want)
				before := plan.gz.made
				z := plan.AppendGzipWith(nil, src, helper)
				if got := gunzip(t, z); !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("%s, %s: AppendGzip's text differs from WriteTo's (%d and %d bytes)", what, step, len(got), want.Len())
				}
				if made >= 0 && plan.gz.made-before != made {
					t.Errorf("%s, %s: %d pieces made, want %d (of %d)", what, step, plan.gz.made-before, made, len(plan.gz.chunks))
				}
			}
			check("as built", -1)
			if n := len(plan.gz.chunks); n < 8 {
				t.Fatalf("%s: %d pieces", what, n)
			}
			// Without a summary, every piece that holds a histogram is
			// made again each time.
			histPieces := 0
			for _, c := range plan.gz.chunks {
				for i := c.from; i < c.to; i++ {
					if plan.segs[i].src.group >= 0 {
						histPieces++
						break
					}
				}
			}
			one := 1
			if !summarized {
				one = -1 // the changed number's piece, and those
			}
			unchanged := 0
			if !summarized {
				unchanged = histPieces
			}
			check("unchanged", unchanged)
			fs[70].stats[2].Value = reader.UintValue(12345)
			check("a counter", one)
			fs[70].stats[3].Value = reader.FloatValue(math.Pi * 1e100) // longer
			check("a longer number", one)
			check("unchanged after", unchanged)
			fs[20].groups[0].H = *randomHistogram(rng, 6, -1407+20, 300)
			if summarized {
				check("a histogram", 1)
				sum.said[[2]int{30, 0}] = [2]float64{float64(fs[30].groups[0].H.Count + 1), 12.5}
				fs[30].groups[0].H = *randomHistogram(rng, 6, -1407+30, 300)
				check("a summary older than the buckets", 1)
				delete(sum.said, [2]int{30, 0})
				check("the summary caught up", 1)
				check("unchanged again", 0)
			}
			fs[140].groups[0].H = *randomHistogram(rng, 6, -1000, 77)
			check("another window", -1)
			check("another window, again", -1)
			if src == forked && helper != nil && forked.views[0].reads+forked.views[1].reads == 0 {
				t.Errorf("%s: no histogram read through the views", what)
			}

			// Without a summary, the pieces with histograms are made
			// again each time, with the helper: no allocation either.
			b := make([]byte, 0, 4<<20)
			if n := testing.AllocsPerRun(10, func() { b = plan.AppendGzipWith(b[:0], src, helper) }); n != 0 {
				t.Errorf("%s: AppendGzip: %v allocations", what, n)
			}
		}
	}
}

// forkFiles is summaryFiles as a ForkingSource, whose views are
// classicFiles' own (each its CoarseHistogram, and its count of reads).
type forkFiles struct {
	*summaryFiles
	views [2]forkView
}

type forkView struct {
	fs    *forkFiles
	c     reader.CoarseHistogram
	reads int
}

func (s *forkFiles) Fork(i int) Source { s.views[i].fs = s; return &s.views[i] }

func (v *forkView) Value(file, stat int) reader.Value { return v.fs.Value(file, stat) }
func (v *forkView) Histogram(file, group int) *reader.Histogram {
	v.reads++
	return v.fs.planFiles.Histogram(file, group)
}
func (v *forkView) HistogramSummary(file, group int) (uint64, float64, bool) {
	if said, ok := v.fs.said[[2]int{file, group}]; ok {
		return uint64(said[0]), said[1], true
	}
	h := &v.fs.planFiles[file].groups[group].H
	return h.Count, h.Sum, true
}
func (v *forkView) ClassicHistogram(file, group, schema int) *reader.CoarseHistogram {
	v.reads++
	v.fs.planFiles[file].groups[group].H.Coarse(schema, &v.c)
	return &v.c
}

// TestPlanAppendGzipEmpty: a plan without values (only the text of
// constant series), or without anything, is one valid member.
func TestPlanAppendGzipEmpty(t *testing.T) {
	// Only a PID: the series mmstats_file_info{...} 1, which the Set
	// makes, without a value of the Source.
	fs := planFiles{{path: "/d/a.mmstats", stats: []reader.Stat{
		{Label: "web.sys.pid", Type: "I", Value: reader.UintValue(7), Meta: reader.Meta{Kind: reader.KindInfo}},
		{Label: "web.sys.uid", Type: "I", Value: reader.UintValue(0), Meta: reader.Meta{Kind: reader.KindInfo}},
	}}}
	for _, fs := range []planFiles{fs, nil} {
		var want bytes.Buffer
		fs.set(0).WriteTo(&want)
		plan := fs.set(0).Compile()
		if len(plan.segs) != 0 {
			t.Fatalf("%d values", len(plan.segs))
		}
		for range 2 {
			if got := gunzip(t, plan.AppendGzip(nil, fs)); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("got %q, want %q", got, want.Bytes())
			}
		}
	}
}

// TestPlanAppendGzipGunzip: gzip(1) accepts the member and finds the
// text in it.
func TestPlanAppendGzipGunzip(t *testing.T) {
	gz, err := exec.LookPath("gzip")
	if err != nil {
		t.Skip("no gzip(1) here:", err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var paths []string
	for k := range 60 {
		paths = append(paths, fmt.Sprintf("/d/w%04d.mmstats", k))
	}
	fs := planFixtureOf(rng, paths)
	plan := fs.set(DefaultClassicSchema).Compile()
	plan.AppendGzip(nil, fs)
	fs[3].stats[2].Value = reader.UintValue(7)
	cmd := exec.Command(gz, "-dc")
	cmd.Stdin = bytes.NewReader(plan.AppendGzip(nil, fs))
	out, err := cmd.Output()
	var want bytes.Buffer
	fs.set(DefaultClassicSchema).WriteTo(&want)
	if err != nil || !bytes.Equal(out, want.Bytes()) {
		t.Errorf("gzip -dc: %v; %d bytes, want %d", err, len(out), want.Len())
	}
}

// panicky is a Source that panics when asked for web.requests of file
// 0, whose line is the first of its metric, after those of web.neg.
type panicky struct{ planFiles }

func (s panicky) Value(file, stat int) reader.Value {
	if file == 0 && stat == 2 {
		panic("the source broke")
	}
	return s.planFiles.Value(file, stat)
}

// TestPlanAppendGzipPanic: a Source that panics while the pieces are
// made and compressed, on the caller's goroutine or its helper's, makes
// AppendGzip panic, leaves no goroutine behind (the helper still
// works), and the Plan writes the right text after (a piece whose text
// was being made is made again, not taken for the values it had read).
func TestPlanAppendGzipPanic(t *testing.T) {
	h := NewHelper()
	defer h.Close()
	for _, helper := range []*Helper{nil, h} {
		rng := rand.New(rand.NewPCG(13, 14))
		var paths []string
		for k := range 200 {
			paths = append(paths, fmt.Sprintf("/d/w%04d.mmstats", k))
		}
		fs := planFixtureOf(rng, paths)
		plan := fs.set(0).Compile()
		plan.gz = newGzipState(16<<10, len(plan.segs))
		plan.AppendGzipWith(nil, fs, helper)
		// The piece that ends web.neg and starts web.requests is made again
		// for its web.neg, and breaks at its first web.requests.
		for k := range fs {
			fs[k].stats[4].Value = reader.IntValue(int64(-1000 - k))
		}
		before := runtime.NumGoroutine()
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("helper %v: no panic", helper != nil)
				}
			}()
			plan.AppendGzipWith(nil, panicky{fs}, helper)
		}()
		// The goroutine has compressed all it was given when AppendGzip
		// panics on; its return may come a moment later.
		for start := time.Now(); runtime.NumGoroutine() > before; runtime.Gosched() {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%d goroutines after, %d before", runtime.NumGoroutine(), before)
			}
		}
		var want bytes.Buffer
		fs.set(0).WriteTo(&want)
		if got := gunzip(t, plan.AppendGzipWith(nil, fs, helper)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("helper %v: the text after the panic differs from WriteTo's", helper != nil)
		}
	}
}

// TestPlanAppendGzipFamilyPieces: a family starts a piece once the piece
// before holds gzipChunk/familyCut bytes of text, so that a value that
// changed makes again the pieces of its family alone: a counter of one
// family, and a histogram (with its summary), each make one piece, and
// no piece holds two families' values unless the first one's text was
// small.
func TestPlanAppendGzipFamilyPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var paths []string
	for k := range 300 {
		paths = append(paths, fmt.Sprintf("/d/w%04d.mmstats", k))
	}
	fs := planFixtureOf(rng, paths)
	sum := &summaryFiles{planFiles: fs, said: map[[2]int][2]float64{}}
	const piece = 64 << 10
	plan := fs.set(0).Compile()
	plan.gz = newGzipState(piece, len(plan.segs))
	plan.AppendGzip(nil, sum)
	families := 0
	for i, sg := range plan.segs {
		if sg.first {
			families++
		}
		if i > 0 && sg.first {
			// The piece that ends before i either ends at i, or was small
			// when family i began.
			for _, c := range plan.gz.chunks {
				if c.from < i && i < c.to {
					text := plan.segs[i-1].end - plan.start(c.from)
					if text >= piece/familyCut {
						t.Errorf("family at segment %d is inside piece [%d, %d) after %d bytes of text", i, c.from, c.to, text)
					}
				}
			}
		}
	}
	if families < 5 || len(plan.gz.chunks) < families {
		t.Fatalf("%d families in %d pieces", families, len(plan.gz.chunks))
	}
	check := func(step string, made int) {
		t.Helper()
		var want bytes.Buffer
		fs.set(0).WriteTo(&want)
		before := plan.gz.made
		if got := gunzip(t, plan.AppendGzip(nil, sum)); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s: AppendGzip's text differs from WriteTo's", step)
		}
		if plan.gz.made-before != made {
			t.Errorf("%s: %d pieces made, want %d (of %d)", step, plan.gz.made-before, made, len(plan.gz.chunks))
		}
	}
	check("unchanged", 0)
	for k := range fs {
		fs[k].stats[2].Value = reader.UintValue(fs[k].stats[2].Value.Uint() + 1) // web.requests, every file
	}
	if n := piecesOf(plan, "web_requests"); n < 1 {
		t.Fatal("no piece holds web_requests")
	} else {
		check("every file's counter", n)
	}
	fs[7].groups[0].H = *randomHistogram(rng, 6, -1407+7, 300)
	check("one histogram", 1)
}

// piecesOf returns how many pieces of plan hold a value of the family
// whose name contains name.
func piecesOf(plan *Plan, name string) int {
	n := 0
	for _, c := range plan.gz.chunks {
		for i := c.from; i < c.to; i++ {
			if bytes.Contains(plan.text[plan.start(i):plan.segs[i].end], []byte(name)) {
				n++
				break
			}
		}
	}
	return n
}
