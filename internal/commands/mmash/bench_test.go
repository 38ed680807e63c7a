package mmash

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// benchStats is what a web worker publishes (mmstats-demo's model, as
// toolbench's files): a few counters, a timer with its buckets, a
// string.
type benchStats struct {
	S2XX     mmstats.Counter `mmstats:"status.2XX"`
	S3XX     mmstats.Counter `mmstats:"status.3XX"`
	S4XX     mmstats.Counter `mmstats:"status.4XX"`
	S5XX     mmstats.Counter `mmstats:"status.5XX"`
	LastHit  mmstats.Float64 `mmstats:"timers.last_hit,kind=timestamp,unit=seconds"`
	Request  mmstats.Timer   `mmstats:"timers.request"`
	Working  mmstats.Bool    `mmstats:"working"`
	LastPath mmstats.String  `mmstats:"last_path,size=64"`
}

// plainStats is benchStats without its timer, whose histogram is 32
// bucket lines of /metrics a file at the default classic schema (242 at
// --classic-schema 3).
type plainStats struct {
	S2XX     mmstats.Counter `mmstats:"status.2XX"`
	S3XX     mmstats.Counter `mmstats:"status.3XX"`
	S4XX     mmstats.Counter `mmstats:"status.4XX"`
	S5XX     mmstats.Counter `mmstats:"status.5XX"`
	LastHit  mmstats.Float64 `mmstats:"timers.last_hit,kind=timestamp,unit=seconds"`
	Working  mmstats.Bool    `mmstats:"working"`
	LastPath mmstats.String  `mmstats:"last_path,size=64"`
}

// benchTemplate returns the bytes of one file written by the real
// writer: a web worker's stats, with its timer if timer.
func benchTemplate(tb testing.TB, timer bool) []byte {
	tb.Helper()
	dir := tb.TempDir()
	var s benchStats
	var p plainStats
	var model any = &s
	if !timer {
		model = &p
	}
	f, err := mmstats.New(model, mmstats.Options{Dir: dir, Filename: "t.mmstats", LabelPrefix: "web.stats."})
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Remove()
	now := float64(time.Now().UnixNano()) / 1e9
	s.S2XX.Add(1234)
	s.S3XX.Add(56)
	s.LastHit.Set(now)
	p.S2XX.Add(1234)
	p.S3XX.Add(56)
	p.LastHit.Set(now)
	for i := range 1000 {
		s.Request.Observe(time.Duration(100+i*7) * time.Microsecond)
	}
	s.Working.Set(true)
	s.LastPath.Set("/index.html")
	p.Working.Set(true)
	p.LastPath.Set("/index.html")
	f.Refresh()
	b, err := os.ReadFile(f.Path())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// benchDir writes n copies of the template into a new directory.
func benchDir(tb testing.TB, n int, timer bool) string {
	tb.Helper()
	data := benchTemplate(tb, timer)
	dir := tb.TempDir()
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%06d.mmstats", i)), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// BenchmarkMetrics: GET /metrics (gzip, as Prometheus asks) over 100
// and 1,000 copies of a web worker's file, with the files already open
// (the first request): plain, without the timer (2.2 KB of text a file),
// and with it (30 KB: its histogram's bucket lines). The allocations of
// a request do not grow with the files (TestMetricsAllocations checks).
func BenchmarkMetrics(b *testing.B) {
	for _, kind := range []string{"plain", "timer"} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				benchMetrics(b, benchDir(b, n, kind == "timer"), "/metrics")
			})
		}
	}
}

// benchMetrics measures GET target of a server of dir.
func benchMetrics(b *testing.B, dir, target string) { benchMetricsConfig(b, dir, target, false) }

// benchMetricsConfig is benchMetrics, of --aggregate if aggregate.
func benchMetricsConfig(b *testing.B, dir, target string, aggregate bool) {
	cfg := defaultConfig()
	cfg.aggregate = aggregate
	s, err := newServerConfig(dir, "*.mmstats", cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	size := 0
	s.ServeHTTP(httptest.NewRecorder(), req) // the files opened, the text made
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkStatsAggr: GET /stats/NAME?aggr=sum over 1,000 plain files.
func BenchmarkStatsAggr(b *testing.B) {
	benchMetrics(b, benchDir(b, 1000, false), "/stats/web.stats.status?aggr=sum")
}

// BenchmarkAggregate: GET /metrics of --aggregate over 1,000 files,
// without and with the timer.
func BenchmarkAggregate(b *testing.B) {
	for _, kind := range []string{"plain", "timer"} {
		b.Run(kind, func(b *testing.B) {
			benchMetricsConfig(b, benchDir(b, 1000, kind == "timer"), "/metrics", true)
		})
	}
}

// BenchmarkMetricsChanging: GET /metrics (gzip) over 1,000 copies of
// the web worker's file with its timer, a share of which see a request
// between two scrapes (their 2XX counter, their timer's count and sum
// and one bucket change, as a live worker's do, and as toolbench mmash
// changes them): the pieces of the compressed text
// that hold a changed value are compressed again, the others sent as
// they were (prom.Plan.AppendGzip). The files that change are spread
// over the 1,000 (every 100th, every 10th, all).
func BenchmarkMetricsChanging(b *testing.B) {
	for _, changing := range []int{0, 10, 100, 1000} {
		b.Run(fmt.Sprintf("%d-of-1000", changing), func(b *testing.B) {
			dir := benchDir(b, 1000, true)
			type word struct {
				f     *os.File
				off   int64
				v     uint64
				float bool
			}
			var words []word
			for i := range changing {
				// Spread over the files, as the busy workers are.
				path := filepath.Join(dir, fmt.Sprintf("w%06d.mmstats", i*(1000/changing)))
				rf, err := reader.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				for _, fl := range rf.Fields() {
					if (fl.Label == "web.stats.status.2XX" || fl.Label == "web.stats.timers.request.count" ||
						fl.Label == "web.stats.timers.request.sum") && !fl.Buffered {
						f, err := os.OpenFile(path, os.O_RDWR, 0)
						if err != nil {
							b.Fatal(err)
						}
						defer f.Close()
						offs := []int64{int64(fl.Value)}
						if fl.HasBuckets() {
							// The count stays the buckets' total, as the
							// writer keeps it: one more in bucket 1,000
							// of the window (about 5 ms).
							offs = append(offs, int64(fl.Buckets.Offset+16+8*1000))
						}
						for _, off := range offs {
							var w [8]byte
							if _, err := f.ReadAt(w[:], off); err != nil {
								b.Fatal(err)
							}
							words = append(words, word{f: f, off: off, v: binary.LittleEndian.Uint64(w[:]),
								float: fl.Label == "web.stats.timers.request.sum"})
						}
					}
				}
				rf.Close()
			}
			if len(words) != 4*changing {
				b.Fatalf("%d words to change in %d files", len(words), changing)
			}
			s, err := newServerConfig(dir, "*.mmstats", defaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			s.ServeHTTP(httptest.NewRecorder(), req)
			var buf [8]byte
			var cpu time.Duration
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for i := range words {
					w := &words[i]
					if w.float {
						w.v = math.Float64bits(math.Float64frombits(w.v) + 0.005)
					} else {
						w.v++
					}
					binary.LittleEndian.PutUint64(buf[:], w.v)
					if _, err := w.f.WriteAt(buf[:], w.off); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				before := processCPU()
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				cpu += processCPU() - before
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
			// The CPU of the requests, all goroutines: what the answer
			// costs whatever else the cores run, where ns/op counts the
			// waits for them.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
