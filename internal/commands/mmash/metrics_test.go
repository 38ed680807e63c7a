package mmash

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

func TestMetrics(t *testing.T) {
	dir := fixture(t)
	v1file.Write(t, filepath.Join(dir, "odd name.mmstats"),
		v1file.Unbuffered("web.stats.status.2XX", "Q", v1file.U64(3)),
		v1file.Unbuffered("a-b c", "d", v1file.F64(0.25)),
		v1file.Unbuffered("x.sys.pid", "Q", v1file.U64(300)))
	s := newTestServer(t, dir)
	r := get(t, s, "/metrics")
	if r.code != 200 || r.header.Get("Content-Type") != prom.ContentType {
		t.Fatalf("%d %q", r.code, r.header.Get("Content-Type"))
	}
	families := promtest.Parse(t, r.body)
	type series struct {
		file, pid string
		value     float64
	}
	want := map[string][]series{
		"mmstats_web_requests":         {{"a.mmstats", "100", 42}, {"b.mmstats", "200", 7}},
		"mmstats_load":                 {{"a.mmstats", "100", 1.5}, {"b.mmstats", "200", 2.5}},
		"mmstats_up":                   {{"a.mmstats", "100", 1}, {"b.mmstats", "200", 0}},
		"mmstats_zero":                 {{"a.mmstats", "100", 0}, {"b.mmstats", "200", 0}},
		"mmstats_neg":                  {{"b.mmstats", "200", -5}},
		"mmstats_web_stats_status_2XX": {{"odd name.mmstats", "300", 3}},
		"mmstats_a_b_c":                {{"odd name.mmstats", "300", 0.25}},
		// The PIDs are labels, not series of their own.
		prom.InfoName: {{"a.mmstats", "100", 1}, {"b.mmstats", "200", 1}, {"odd name.mmstats", "300", 1}},
	}
	if len(families) != len(want) {
		t.Errorf("%d metrics, want %d (strings are left out):\n%s", len(families), len(want), r.body)
	}
	for name, ws := range want {
		f := families[name]
		if f == nil {
			t.Errorf("no %s:\n%s", name, r.body)
			continue
		}
		if typ := f.GetType().String(); typ != "UNTYPED" && name != prom.InfoName {
			t.Errorf("%s has type %v", name, typ)
		}
		ms := f.GetMetric()
		if len(ms) != len(ws) {
			t.Errorf("%s: %d series, want %d", name, len(ms), len(ws))
			continue
		}
		for i, w := range ws {
			m := ms[i]
			got := series{promtest.Label(m, "file"), promtest.Label(m, "pid"), m.GetUntyped().GetValue() + m.GetGauge().GetValue()}
			if got != w {
				t.Errorf("%s[%d] = %+v, want %+v", name, i, got, w)
			}
		}
	}
	if !strings.Contains(r.body, "# HELP mmstats_a_b_c a-b c\n") {
		t.Errorf("help is not the original label:\n%s", r.body)
	}
	// An empty directory is an empty, valid exposition.
	if r := get(t, newTestServer(t, t.TempDir()), "/metrics"); r.code != 200 || r.body != "" {
		t.Errorf("empty: %d %q", r.code, r.body)
	}
}

// TestMetricsTypesFromMetadata: files of the Go writer carry kinds and
// units; /metrics types counters and gauges and adds unit suffixes.
func TestMetricsTypesFromMetadata(t *testing.T) {
	dir := t.TempDir()
	var s struct {
		Hits mmstats.Counter `mmstats:"web.hits"`
		Req  mmstats.Timer   `mmstats:"web.req,windows=10s"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: "go.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	s.Hits.Add(9)
	s.Req.Observe(5 * time.Millisecond)
	f.Refresh()
	families := promtest.Parse(t, get(t, newTestServer(t, dir), "/metrics").body)
	for name, typ := range map[string]string{
		"mmstats_web_hits_total":            "COUNTER",
		"mmstats_web_req_seconds":           "GAUGE",
		"mmstats_web_req_p99_seconds":       "GAUGE",
		"mmstats_web_req_count_total":       "COUNTER",
		"mmstats_web_req_rate10s":           "GAUGE",
		"mmstats_web_req_sum_seconds_total": "COUNTER",
		"mmstats_sys_created_seconds":       "GAUGE",
		prom.InfoName:                       "GAUGE",
	} {
		if fam := families[name]; fam == nil || fam.GetType().String() != typ {
			t.Errorf("%s: %v, want %s", name, fam.GetType(), typ)
		}
	}
	if v := families["mmstats_web_hits_total"].GetMetric()[0].GetCounter().GetValue(); v != 9 {
		t.Errorf("web.hits = %v", v)
	}
}
