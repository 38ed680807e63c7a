//go:build unix

package main

import (
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil"
)

// TestMetricsAcrossWorkerExits: mmash's /metrics, in both forms, and
// /stats over real writer processes while they come and go: one exits
// cleanly (its file folded into the totals file), one is killed (its
// file stays, dead, and still counts), and cleanstats folds it later.
// Through each step the sum of a counter neither drops nor jumps, and
// with --aggregate the series stay the same.
func TestMetricsAcrossWorkerExits(t *testing.T) {
	clean := testutil.Binary(t, "cmd/cleanstats")
	dir := t.TempDir()
	var writers []*testutil.Process
	for _, n := range []string{"10", "20", "40"} {
		w, _ := testutil.StartWriter(t, nil, "-dir", dir, "-counter", n)
		writers = append(writers, w)
	}
	perFile := testutil.StartMmash(t, nil, dir).URL
	agg := testutil.StartMmash(t, nil, dir, "--aggregate").URL
	scrape := func(u string) string {
		t.Helper()
		resp, err := http.Get(u + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s/metrics: %d %s", u, resp.StatusCode, b)
		}
		return string(b)
	}
	var names []string // the aggregated series
	check := func(step string) {
		t.Helper()
		sum := 0.0
		for _, m := range promtest.Parse(t, scrape(perFile))["mmstats_every_counter_total"].GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		families := promtest.Parse(t, scrape(agg))
		a := families["mmstats_every_counter_total"].GetMetric()
		h := families["mmstats_every_latency_seconds"].GetMetric()
		if sum != 70 || len(a) != 1 || a[0].GetCounter().GetValue() != 70 || len(h) != 1 || h[0].GetHistogram().GetSampleCount() != 15 {
			t.Errorf("%s: every.counter %v over the files' series, aggregated %v; every.latency %v; want 70, 70, 15 values",
				step, sum, a, h)
		}
		var got []string
		for name, f := range families {
			got = append(got, name)
			for _, m := range f.GetMetric() {
				if len(m.GetLabel()) != 0 {
					t.Errorf("%s: %s has labels %v", step, name, m.GetLabel())
				}
			}
		}
		slices.Sort(got)
		if names == nil {
			names = got
		} else if !slices.Equal(got, names) {
			t.Errorf("%s: the aggregated series changed:\n%v\nwas\n%v", step, got, names)
		}
		var stat map[string]float64
		if getJSON(t, perFile+"/stats/every.counter?exact=1", &stat); stat["every.counter"] != 70 {
			t.Errorf("%s: /stats/every.counter = %v, want 70", step, stat)
		}
	}
	check("three live writers")

	writers[0].CloseStdin() // exits cleanly: its file is folded
	if err := writers[0].Wait(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	check("one folded by its writer")

	writers[1].Cmd.Process.Kill()
	writers[1].Wait(t, 10*time.Second)
	check("one killed, not folded yet")

	if r := testutil.Run(t, nil, clean, "-q", dir); r.Code != 0 {
		t.Fatalf("cleanstats: exit %d: %s", r.Code, r.Stderr)
	}
	check("the killed one folded by cleanstats")
	es, _ := os.ReadDir(dir)
	if len(es) != 2 || !strings.HasSuffix(es[1].Name(), "-totals.mmstats") && !strings.HasSuffix(es[0].Name(), "-totals.mmstats") {
		t.Errorf("%d files in the directory, want the live writer's and the totals file", len(es))
	}
}
