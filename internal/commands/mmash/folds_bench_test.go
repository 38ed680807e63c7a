//go:build unix

package mmash

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil/foldtest"
)

// foldedLifetimes is how many dead writers BenchmarkMetricsAfterFolds
// folds into the totals file (MMSTATS_FOLDED overrides it).
func foldedLifetimes() int {
	if n, err := strconv.Atoi(os.Getenv("MMSTATS_FOLDED")); err == nil && n >= 0 {
		return n
	}
	return 10_000
}

// BenchmarkMetricsAfterFolds: /metrics over 1,000 live files, in a
// directory where 10,000 writers lived, exited and were folded into the
// totals file (as cleanstats folds them), against the same 1,000 files
// where none ever did, and where one did: the cost of a scrape is that
// of the live files and of the one totals file (whose sys.folded keeps
// the last 64 folded), whatever the lifetimes before. The requests to
// the three servers alternate, so that the load of the machine weighs on
// them alike; it reports the median of each (none-, one-, folded-ns/req)
// and the ratios folded/none and folded/one. The totals file is one more
// file, with a histogram of its own (the folded writers' timer): that
// is folded/none; folded/one is what the 9,999 lifetimes more cost.
func BenchmarkMetricsAfterFolds(b *testing.B) {
	live := benchTemplate(b, false)
	dirs := [3]string{b.TempDir(), b.TempDir(), b.TempDir()} // none, one, folded
	for _, dir := range dirs {
		for i := range 1000 {
			if err := os.WriteFile(filepath.Join(dir, fileName(i)), live, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	foldtest.Fold(b, foldtest.Lifetime(b, dirs[1], 3), true)
	n := foldedLifetimes()
	start := time.Now()
	for range n {
		foldtest.Fold(b, foldtest.Lifetime(b, dirs[2], 3), true)
	}
	entries, _ := os.ReadDir(dirs[2])
	b.Logf("%d lifetimes folded in %v: %d files in the directory", n, time.Since(start).Round(time.Millisecond), len(entries))
	var servers [3]*server
	for k, dir := range dirs {
		s, err := newServer(dir, "*.mmstats")
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		servers[k] = s
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	serve := func(s *server) time.Duration {
		st := time.Now()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		d := time.Since(st)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
		return d
	}
	for _, s := range servers {
		serve(s) // the files opened, the text made
	}
	var times [3][]time.Duration
	b.ReportAllocs()
	for b.Loop() {
		for k, s := range servers {
			times[k] = append(times[k], serve(s))
		}
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2])
	}
	none, one, folded := median(times[0]), median(times[1]), median(times[2])
	b.ReportMetric(none, "none-ns/req")
	b.ReportMetric(one, "one-ns/req")
	b.ReportMetric(folded, "folded-ns/req")
	b.ReportMetric(folded/none, "folded/none")
	b.ReportMetric(folded/one, "folded/one")
	b.ReportMetric(float64(n), "lifetimes")
}

// fileName is the name of live file i.
func fileName(i int) string { return "w" + strconv.Itoa(100000 + i)[1:] + ".mmstats" }
