//go:build unix

package mmash

import (
	"compress/gzip"
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil/foldtest"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// totalsFixture is a directory of a totals file holding two lifetimes
// (10 and 20 requests), one of them folded and still there (a folder
// killed between its commit and the removal), and a dead file not folded
// yet (40): 70 requests, 70 latencies, and 1 in flight (the dead file's
// gauge; a totals file has none).
func totalsFixture(t *testing.T) (dir, dead string) {
	dir = t.TempDir()
	foldtest.Fold(t, foldtest.Lifetime(t, dir, 10), true)
	foldtest.Fold(t, foldtest.Lifetime(t, dir, 20), false)
	dead = foldtest.Lifetime(t, dir, 40)
	return dir, dead
}

// aggregateServer is a test server whose /metrics is --aggregate.
func aggregateServer(t *testing.T, dir string) *server {
	t.Helper()
	cfg := defaultConfig()
	cfg.aggregate = true
	s, err := newServerConfig(dir, "*.mmstats", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestReadingCountsTheTotalsFile: /stats, /graph/ and /metrics count the
// totals file and the dead file not folded yet, and leave out the file
// that the totals file holds, which would otherwise count twice.
func TestReadingCountsTheTotalsFile(t *testing.T) {
	dir, dead := totalsFixture(t)
	s := newTestServer(t, dir)
	var got map[string]any
	getJSON(t, s, "/stats/requests?exact=1", &got)
	if got["requests"] != 70.0 {
		t.Errorf("/stats/requests = %v, want 70", got)
	}
	getJSON(t, s, "/stats/lat.count?exact=1", &got)
	if got["lat.count"] != 70.0 {
		t.Errorf("/stats/lat.count = %v, want 70", got)
	}
	var list map[string][]float64
	getJSON(t, s, "/stats/requests?exact=1&aggr=list", &list)
	if l := list["requests"]; len(l) != 2 || l[0] != 40 || l[1] != 30 {
		t.Errorf("aggr=list: %v, want [40 30]: the dead file, then the totals file", l)
	}
	if body := get(t, s, "/graph/").body; !strings.Contains(body, `<output data-value="70">70</output>`) {
		t.Errorf("/graph/ does not show 70 requests:\n%s", body)
	}

	families := promtest.Parse(t, get(t, s, "/metrics").body)
	f := families["mmstats_requests_total"]
	if f == nil || len(f.GetMetric()) != 2 {
		t.Fatalf("mmstats_requests_total: %v", f)
	}
	byFile := map[string]float64{}
	for _, m := range f.GetMetric() {
		byFile[promtest.Label(m, "file")] = m.GetCounter().GetValue()
		if promtest.Label(m, "file") == foldtest.Totals && promtest.Label(m, "pid") != "" {
			t.Errorf("the totals file has a pid: %v", m)
		}
	}
	if byFile[foldtest.Totals] != 30 || byFile[baseName(dead)] != 40 {
		t.Errorf("requests by file: %v, want 30 in the totals file and 40 in %s", byFile, baseName(dead))
	}
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// TestAggregateMetrics: --aggregate serves one series per stat over the
// files, without labels: counters summed (the totals file's too), gauges
// by policy, the histograms merged, and no info.
func TestAggregateMetrics(t *testing.T) {
	dir, _ := totalsFixture(t)
	s := aggregateServer(t, dir)
	check := func(form string, families map[string]*dto.MetricFamily) {
		t.Helper()
		for name, f := range families {
			for _, m := range f.GetMetric() {
				if len(m.GetLabel()) != 0 {
					t.Errorf("%s: %s has labels %v", form, name, m.GetLabel())
				}
			}
			if len(f.GetMetric()) != 1 {
				t.Errorf("%s: %s has %d series", form, name, len(f.GetMetric()))
			}
		}
		if m := families["mmstats_requests_total"]; m == nil || m.GetMetric()[0].GetCounter().GetValue() != 70 {
			t.Errorf("%s: requests: %v, want 70", form, m)
		}
		if m := families["mmstats_inflight"]; m == nil || m.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("%s: inflight: %v, want 1", form, m)
		}
		h := families["mmstats_lat_seconds"]
		if h == nil || h.GetMetric()[0].GetHistogram().GetSampleCount() != 70 {
			t.Fatalf("%s: lat: %v, want a histogram of 70", form, h)
		}
		// 1 to 10 ms, twice 1 to 20 ms... : 1+...+10 + 1+...+20 + 1+...+40 ms.
		if sum := h.GetMetric()[0].GetHistogram().GetSampleSum(); math.Abs(sum-1.085) > 1e-9 {
			t.Errorf("%s: lat sum %v, want 1.085", form, sum)
		}
		for _, name := range []string{prom.InfoName, "mmstats_lat_p99_seconds", "mmstats_lat_count_total"} {
			if families[name] != nil {
				t.Errorf("%s: %s is served", form, name)
			}
		}
	}
	r := get(t, s, "/metrics")
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	check("text", promtest.Parse(t, r.body))
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", prom.ProtoContentType)
	req.Header.Set("Accept-Encoding", "gzip")
	s.ServeHTTP(w, req)
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(zr)
	check("protobuf", promtest.ParseProto(t, data))
}

// TestMetricsAcrossAnExit: a worker that exits between two scrapes (its
// file folded by its writer into the totals file) changes neither form
// of /metrics: the sum of a counter over the series stays, and the
// aggregated series too.
func TestMetricsAcrossAnExit(t *testing.T) {
	dir, _ := totalsFixture(t)
	var m foldtest.Model
	live, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "app-{PID}-{TID}.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	m.Requests.Add(80)
	perFile, agg := newTestServer(t, dir), aggregateServer(t, dir)
	sums := func() (float64, float64) {
		t.Helper()
		total := 0.0
		for _, m := range promtest.Parse(t, get(t, perFile, "/metrics").body)["mmstats_requests_total"].GetMetric() {
			total += m.GetCounter().GetValue()
		}
		a := promtest.Parse(t, get(t, agg, "/metrics").body)["mmstats_requests_total"].GetMetric()[0].GetCounter().GetValue()
		return total, a
	}
	if a, b := sums(); a != 150 || b != 150 {
		t.Fatalf("before: %v per file, %v aggregated; want 150", a, b)
	}
	if err := live.Remove(); err != nil {
		t.Fatal(err)
	}
	if a, b := sums(); a != 150 || b != 150 {
		t.Errorf("after the exit: %v per file, %v aggregated; want 150", a, b)
	}
}

// TestMonotone: a float counter that a different order of addition puts
// a bit lower than its last value is served at its last value; a real
// drop is served as it is.
func TestMonotone(t *testing.T) {
	var m monotone
	counter := func(v float64) []aggregate.Total {
		return []aggregate.Total{{Label: "busy", Value: reader.FloatValue(v), Meta: reader.Meta{Kind: reader.KindCounter}}}
	}
	hist := func(sum float64) []prom.Group {
		return []prom.Group{{Label: "lat", H: reader.Histogram{Sum: sum}}}
	}
	for _, c := range []struct{ in, want float64 }{
		{0.3, 0.3},
		{0.1 + 0.2, 0.1 + 0.2}, // 0.30000000000000004: up
		{0.3, 0.1 + 0.2},       // down by one bit: held
		{0.4, 0.4},
		{0.2, 0.2}, // a drop: served
	} {
		tot, g := counter(c.in), hist(c.in)
		m.apply(tot, g)
		if tot[0].Value.Float() != c.want || g[0].H.Sum != c.want {
			t.Errorf("%v: served %v and %v, want %v", c.in, tot[0].Value.Float(), g[0].H.Sum, c.want)
		}
	}
}
