package mmash

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// TestMetricsAllocations: once the files are open, a /metrics request
// allocates the same at 100 files as at 1,000 (its answer's buffers):
// nothing per unchanged file, with or without a timer's histogram, at
// the default classic schema and at 3. So do /stats/NAME?aggr=sum and
// --aggregate, less so: they allocate per file still, but far less than
// opening and parsing (their counts are logged).
func TestMetricsAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items at random: allocations cannot be counted")
	}
	allocs := func(n int, target string, timer bool, classic prom.ClassicSchema) float64 {
		cfg := defaultConfig()
		cfg.classic = classic
		s, err := newServerConfig(benchDir(t, n, timer), "*.mmstats", cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		serve := func() {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != 200 {
				t.Fatalf("%s: %d %s", target, w.Code, w.Body)
			}
		}
		serve() // the files opened, the text made
		return testing.AllocsPerRun(10, serve)
	}
	for _, c := range []struct {
		timer   bool
		classic prom.ClassicSchema
	}{{false, 0}, {true, 0}, {true, 3}} {
		small, large := allocs(100, "/metrics", c.timer, c.classic), allocs(1000, "/metrics", c.timer, c.classic)
		t.Logf("/metrics, %+v: %v allocations at 100 files, %v at 1,000", c, small, large)
		// A few for the buffers of a 10 times larger answer, and none for
		// each of the 900 more files.
		if large > small+10 {
			t.Errorf("/metrics, %+v: %v allocations at 100 files, %v at 1,000: some are per file", c, small, large)
		}
	}
	for _, target := range []string{"/stats/web.stats.status?aggr=sum", "/stats/web.stats.status.2XX"} {
		t.Logf("%s: %v allocations at 100 files, %v at 1,000", target, allocs(100, target, false, 0), allocs(1000, target, false, 0))
	}
}

// metricValue returns the value of the series of name whose file label
// is file in a /metrics answer, and whether it is there.
func metricValue(t *testing.T, body, name, file string) (float64, bool) {
	t.Helper()
	f := promtest.Parse(t, body)[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "file" && l.GetValue() == file {
				switch {
				case m.Counter != nil:
					return m.GetCounter().GetValue(), true
				case m.Gauge != nil:
					return m.GetGauge().GetValue(), true
				}
				return m.GetUntyped().GetValue(), true
			}
		}
	}
	return 0, false
}

// TestCacheFollowsTheFiles: the files kept open between requests are
// those of the directory at each request, as they are then: a value
// written in place, a file replaced under its name by one of another
// layout, one that appears, one that leaves, one that shrinks to
// nothing (left out, then read again once whole), fields that the
// writer adds in place and fields that make it grow its file (a new
// copy under the same name), are all in the next answer.
func TestCacheFollowsTheFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.mmstats"), filepath.Join(dir, "b.mmstats")
	v1file.Write(t, a, v1file.Unbuffered("hits", "Q", v1file.U64(1)))
	v1file.Write(t, b, v1file.Unbuffered("hits", "Q", v1file.U64(2)))
	s := newTestServer(t, dir)
	want := func(what, name, file string, v float64, there bool) {
		t.Helper()
		r := get(t, s, "/metrics")
		got, ok := metricValue(t, r.body, name, file)
		if ok != there || ok && got != v {
			t.Fatalf("%s: %s{file=%q}: %v, %v; want %v, %v\n%s", what, name, file, got, ok, v, there, r.body)
		}
	}
	want("at first", "mmstats_hits", "a.mmstats", 1, true)
	want("at first", "mmstats_hits", "b.mmstats", 2, true)

	// Written in place (the same layout): the value only.
	data, _ := os.ReadFile(a)
	k := strings.LastIndex(string(data), "Q") + 2 // after the type and the write_buffer byte
	copy(data[k:], v1file.U64(11))
	if err := os.WriteFile(a, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want("written in place", "mmstats_hits", "a.mmstats", 11, true)

	// Replaced under its name by a file of another layout.
	tmp := filepath.Join(dir, "new.tmp")
	v1file.Write(t, tmp, v1file.Unbuffered("errors", "Q", v1file.U64(5)), v1file.Unbuffered("hits", "Q", v1file.U64(3)))
	if err := os.Rename(tmp, a); err != nil {
		t.Fatal(err)
	}
	want("replaced", "mmstats_hits", "a.mmstats", 3, true)
	want("replaced", "mmstats_errors", "a.mmstats", 5, true)

	// Removed, and a new file.
	os.Remove(b)
	v1file.Write(t, filepath.Join(dir, "c.mmstats"), v1file.Unbuffered("hits", "Q", v1file.U64(4)))
	want("removed", "mmstats_hits", "b.mmstats", 0, false)
	want("appeared", "mmstats_hits", "c.mmstats", 4, true)

	// Shrunk to nothing under the mapping: left out, without a fault
	// reaching anyone; whole again, read again.
	if err := os.Truncate(a, 0); err != nil {
		t.Fatal(err)
	}
	want("shrunk", "mmstats_hits", "a.mmstats", 0, false)
	want("shrunk", "mmstats_hits", "c.mmstats", 4, true)
	v1file.Write(t, a, v1file.Unbuffered("hits", "Q", v1file.U64(6)))
	want("whole again", "mmstats_hits", "a.mmstats", 6, true)

	// The real writer adds fields: in place, then so many that it grows
	// its file into a larger copy under the same name.
	var m struct {
		Reqs mmstats.Counter `mmstats:"reqs"`
	}
	w, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "w.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Remove()
	m.Reqs.Add(7)
	want("a writer", "mmstats_reqs_total", "w.mmstats", 7, true)
	var extra mmstats.Counter
	if err := w.Add("extra", &extra); err != nil {
		t.Fatal(err)
	}
	extra.Add(8)
	want("a field added", "mmstats_extra_total", "w.mmstats", 8, true)
	size := w.Size()
	counters := make([]mmstats.Counter, 0, 400)
	for i := 0; w.Size() == size; i++ {
		counters = append(counters, mmstats.Counter{})
		c := &counters[len(counters)-1]
		if err := w.Add(fmt.Sprintf("more.%03d", i), c); err != nil {
			t.Fatal(err)
		}
		c.Add(uint64(i))
		if i > 10000 {
			t.Fatal("the file never grew")
		}
	}
	last := len(counters) - 1
	m.Reqs.Add(1)
	want("grown", fmt.Sprintf("mmstats_more_%03d_total", last), "w.mmstats", float64(last), true)
	want("grown", "mmstats_reqs_total", "w.mmstats", 8, true)
}
