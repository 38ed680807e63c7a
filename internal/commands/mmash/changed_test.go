package mmash

import (
	"bytes"
	sflate "compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	kflate "github.com/klauspost/compress/flate"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/testutil/promfile"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// requestWords are the words of a web worker's file that a request
// changes (as toolbench mmash and BenchmarkMetricsChanging change
// them): its 2XX counter, its timer's count and sum, and one of its
// buckets, so that the count stays the buckets' total.
type requestWords struct {
	path                   string
	status, count, sum, b0 int64 // b0: the first bucket of the window
	n                      int   // the buckets of the window
}

// benchDirWords returns the words of a request in each of the n files
// w000000.mmstats… of dir (benchDir's).
func benchDirWords(t testing.TB, dir string, n int) []requestWords {
	t.Helper()
	var words []requestWords
	for i := range n {
		words = append(words, findRequestWords(t, filepath.Join(dir, fmt.Sprintf("w%06d.mmstats", i))))
	}
	return words
}

func findRequestWords(t testing.TB, path string) requestWords {
	t.Helper()
	rf, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	w := requestWords{path: path}
	for _, fl := range rf.Fields() {
		switch {
		case fl.Buffered:
		case fl.Label == "web.stats.status.2XX":
			w.status = int64(fl.Value)
		case fl.Label == "web.stats.timers.request.count" && fl.HasBuckets():
			w.count = int64(fl.Value)
			w.b0, w.n = int64(fl.Buckets.Offset+16), fl.Buckets.N
		case fl.Label == "web.stats.timers.request.sum":
			w.sum = int64(fl.Value)
		}
	}
	if w.status == 0 || w.count == 0 || w.sum == 0 || w.n == 0 {
		t.Fatalf("%s: the words of a request not found: %+v", path, w)
	}
	return w
}

// request changes the file as k requests that took the time of bucket
// j do.
func (w requestWords) request(t testing.TB, k uint64, j int) {
	t.Helper()
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	add := func(off int64, fn func(uint64) uint64) {
		var b [8]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			t.Fatal(err)
		}
		binary.NativeEndian.PutUint64(b[:], fn(binary.NativeEndian.Uint64(b[:])))
		if _, err := f.WriteAt(b[:], off); err != nil {
			t.Fatal(err)
		}
	}
	plus := func(v uint64) uint64 { return v + k }
	add(w.status, plus)
	add(w.count, plus)
	add(w.b0+8*int64(j), plus)
	add(w.sum, func(v uint64) uint64 { return math.Float64bits(math.Float64frombits(v) + 0.001*float64(k)) })
}

// TestMetricsChangedFiles: over hundreds of files of one layout (the
// text in many pieces, their numbers read through one NumberPlan, the
// pieces made again on two goroutines), a share of which change
// between two scrapes (none, a few, one in ten, all), /metrics, gzip
// or not, is the text of a Set made afresh from the files. Among them
// a file of another layout, and one replaced under its name by a file
// of another layout: never read through the layout of the others.
func TestMetricsChangedFiles(t *testing.T) {
	const n = 300
	dir := benchDir(t, n, true)
	plain := benchTemplate(t, false)
	if err := os.WriteFile(filepath.Join(dir, "w000150-plain.mmstats"), plain, 0o644); err != nil {
		t.Fatal(err)
	}
	words := benchDirWords(t, dir, n)
	s, err := newServerConfig(dir, "*.mmstats", defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fresh := func() string { return freshMetrics(t, dir, "") }
	scrape := func(gz bool) string { return scrapeMetrics(t, s, gz) }
	rng := rand.New(rand.NewPCG(15, 16))
	for round, share := range []int{0, 1000, 100, 3, 0, 1000, 500, 100} {
		for i := range words {
			if rng.IntN(1000) < share {
				words[i].request(t, 1+rng.Uint64N(3), rng.IntN(words[i].n))
			}
		}
		if round == 5 {
			// Replaced under its name by a file of another layout.
			tmp := filepath.Join(dir, "new.tmp")
			if err := os.WriteFile(tmp, plain, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, words[40].path); err != nil {
				t.Fatal(err)
			}
			words = slices.Delete(words, 40, 41)
		}
		want := fresh()
		for _, gz := range []bool{true, false} {
			if got := scrape(gz); got != want {
				t.Fatalf("round %d (%d in 1,000 changed), gzip %v: /metrics differs from a Set of the files (%d and %d bytes)\n%s",
					round, share, gz, len(got), len(want), firstDiff(got, want))
			}
		}
	}
}

// TestMetricsHistogramFailsWhileMade: a histogram that cannot be read
// while the pieces are made again on their goroutines (here, read
// through the plan of another layout's group, as if its file had
// changed under the reader) leaves its file out of that answer, which
// is made again without it and is the text of a Set of the other
// files; the next answer has it again.
func TestMetricsHistogramFailsWhileMade(t *testing.T) {
	const n = 300
	dir := benchDir(t, n, true)
	words := benchDirWords(t, dir, n)
	// A timer at another field than the workers' (their 2XX counter's).
	var other struct {
		L mmstats.Timer `mmstats:"lat"`
	}
	odir := t.TempDir()
	ow, err := mmstats.New(&other, mmstats.Options{Dir: odir, Filename: "o.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer ow.Remove()
	of, err := reader.Open(ow.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	i, _, ok := of.Lookup("lat.count")
	if !ok {
		t.Fatal("no lat.count")
	}
	wrong, err := reader.NewCoarsePlan(of, i)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newServerConfig(dir, "*.mmstats", defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fresh := func(without string) string { return freshMetrics(t, dir, without) }
	scrape := func() string { return scrapeMetrics(t, s, true) }
	if got, want := scrape(), fresh(""); got != want {
		t.Fatalf("at first: /metrics differs from a Set of the files\n%s", firstDiff(got, want))
	}
	for _, w := range words {
		w.request(t, 1, 7) // every piece made again
	}
	const bad = "w000123.mmstats"
	e := s.cache.entries[bad]
	if e == nil || len(e.coarse) != 1 || e.coarse[0] == nil {
		t.Fatalf("%s: not read through a CoarsePlan: %+v", bad, e)
	}
	e.coarse[0] = wrong
	if got, want := scrape(), fresh(bad); got != want {
		t.Fatalf("a histogram that fails: /metrics differs from a Set of the other files\n%s", firstDiff(got, want))
	}
	if got, want := scrape(), fresh(""); got != want {
		t.Fatalf("after: /metrics differs from a Set of the files\n%s", firstDiff(got, want))
	}
}

// firstDiff returns the lines around the first difference of a and b.
// freshMetrics is the exposition of the files in dir but the one named
// without, made by a prom.Set from the files as they are now.
func freshMetrics(t *testing.T, dir, without string) string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	set := prom.Set{Classic: defaultConfig().classic}
	for _, p := range paths {
		if filepath.Base(p) != without {
			stats, groups := promfile.Read(t, p)
			set.AddFileGroups(p, "", stats, groups)
		}
	}
	var b bytes.Buffer
	set.WriteTo(&b)
	return b.String()
}

// scrapeMetrics is the text of GET /metrics from s, asked gzipped if gz
// (and decompressed).
func scrapeMetrics(t *testing.T, s http.Handler, gz bool) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("/metrics: %d %s", w.Code, w.Body)
	}
	if !gz {
		return w.Body.String()
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return fmt.Sprintf("got …%s…\nwant …%s…", a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
}

// BenchmarkGzipLevels: what compressing the /metrics text of 1,000 web
// workers' files (each made different by a few dozen requests) costs at
// klauspost/compress's levels and the standard library's BestSpeed, and
// the size of each ("bytes"): the trade-off of AppendGzip's level 1.
func BenchmarkGzipLevels(b *testing.B) {
	const n = 1000
	dir := benchDir(b, n, true)
	rng := rand.New(rand.NewPCG(17, 18))
	for i := range n {
		w := findRequestWords(b, filepath.Join(dir, fmt.Sprintf("w%06d.mmstats", i)))
		for range 1 + rng.IntN(40) {
			w.request(b, 1+rng.Uint64N(5), rng.IntN(w.n))
		}
	}
	s, err := newServerConfig(dir, "*.mmstats", defaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.Bytes()
	for _, c := range []struct {
		name string
		new  func(io.Writer) io.WriteCloser
	}{
		{"klauspost-1", func(w io.Writer) io.WriteCloser { z, _ := kflate.NewWriter(w, 1); return z }},
		{"klauspost-2", func(w io.Writer) io.WriteCloser { z, _ := kflate.NewWriter(w, 2); return z }},
		{"klauspost-huffman-only", func(w io.Writer) io.WriteCloser { z, _ := kflate.NewWriter(w, kflate.HuffmanOnly); return z }},
		{"stdlib-1", func(w io.Writer) io.WriteCloser { z, _ := sflate.NewWriter(w, 1); return z }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				z := c.new(&out)
				z.Write(text)
				z.Close()
			}
			b.ReportMetric(float64(out.Len()), "bytes")
			b.ReportMetric(float64(len(text)), "text-bytes")
		})
	}
}
