package mmash

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// policyModel is what the writers of the policy tests publish.
type policyModel struct {
	Requests mmstats.Counter `mmstats:"app.requests"`
	Peak     mmstats.Int32   `mmstats:"app.peak,aggr=max"`
	Seen     mmstats.Float64 `mmstats:"app.seen,kind=timestamp,unit=seconds"`
	Big      mmstats.Uint64  `mmstats:"app.big"`
	Lat      mmstats.Timer   `mmstats:"app.lat,windows=none"`
	Status   mmstats.String  `mmstats:"app.status,size=16"`
}

// policyFixture writes two closed files of policyModel in a directory
// and returns it with every duration they observed, sorted, in seconds.
func policyFixture(t *testing.T) (string, []float64) {
	t.Helper()
	dir := t.TempDir()
	var pooled []float64
	for i := range 2 {
		var m policyModel
		f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("w%d.mmstats", i)})
		if err != nil {
			t.Fatal(err)
		}
		m.Requests.Add(uint64(10 * (i + 1)))
		m.Peak.Set(int32(5 - 3*i))
		m.Seen.Set(1.8e9 + float64(9*i))
		m.Big.Set(math.MaxUint64 - uint64(i))
		m.Status.Set(fmt.Sprintf("worker %d", i))
		for k := 1; k <= 1000; k++ {
			d := time.Duration(k*(1+9*i)) * time.Microsecond // 1 µs to 1 ms, and 10 µs to 10 ms
			m.Lat.Observe(d)
			pooled = append(pooled, float64(d)/1e9)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(pooled)
	return dir, pooled
}

// TestStatPolicy: ?aggr=policy combines each label by its policy: a
// counter sums (exactly, past 64 bits), a max gauge takes the max, a
// timestamp the latest, a percentile comes from the merged buckets; a
// PID is not combined and keeps its list, as do values that are not
// numbers.
func TestStatPolicy(t *testing.T) {
	dir, pooled := policyFixture(t)
	s := newTestServer(t, dir)
	var got map[string]json.RawMessage
	getJSON(t, s, "/stats/app.?aggr=policy", &got)
	for label, want := range map[string]string{
		"app.requests":  "30",
		"app.peak":      "5",
		"app.seen":      "1800000009.0",
		"app.big":       "36893488147419103229", // 2^65 - 3, exactly
		"app.lat.count": "2000",
		"app.status":    `["worker 0", "worker 1"]`,
		"app.lat.max":   "0.01",
		"app.lat.min":   "1e-06",
	} {
		if string(got[label]) != want {
			t.Errorf("%s: %s, want %s", label, got[label], want)
		}
	}
	getJSON(t, s, "/stats/sys.?aggr=policy", &got)
	var pids []int
	if err := json.Unmarshal(got["sys.pid"], &pids); err != nil || len(pids) != 2 {
		t.Errorf("sys.pid is combined: %s", got["sys.pid"])
	}
	for _, q := range []struct {
		label string
		q     float64
	}{{"app.lat.p50", 0.5}, {"app.lat.p90", 0.9}, {"app.lat.p99", 0.99}, {"app.lat.p999", 0.999}} {
		var v float64
		json.Unmarshal(got[q.label], &v)
		exact := pooled[int(math.Ceil(q.q*float64(len(pooled))))-1]
		if math.Abs(v/exact-1) > math.Exp2(1.0/128)-1 {
			t.Errorf("%s = %v, the pooled values' is %v", q.label, v, exact)
		}
	}
	var created float64
	json.Unmarshal(got["sys.created"], &created)
	var each map[string][]float64
	getJSON(t, s, "/stats/sys.created?exact=1&aggr=list", &each)
	if c := each["sys.created"]; len(c) != 2 || created != max(c[0], c[1]) {
		t.Errorf("sys.created: %v of %v, want the latest", created, c)
	}
	// Only the label asked for, even though its policy read others.
	var one map[string]any
	getJSON(t, s, "/stats/app.lat.p99?exact=1&aggr=policy", &one)
	if len(one) != 1 {
		t.Errorf("exact=1: %v", one)
	}
	// The original aggregators are as they were: sum adds the p99s.
	getJSON(t, s, "/stats/app.lat.p99?exact=1&aggr=sum", &one)
	if v := one["app.lat.p99"].(float64); v < 0.0105 {
		t.Errorf("aggr=sum of the p99s: %v", v)
	}
}

// TestStatPolicyPythonFiles: files without metadata sum, as the tools
// always did; strings keep their lists.
func TestStatPolicyPythonFiles(t *testing.T) {
	s := newTestServer(t, fixture(t))
	r := get(t, s, "/stats/web?aggr=policy")
	if want := `{"web.requests": 49, "web.status": ["ok", "busy"]}` + "\n"; r.code != 200 || r.body != want {
		t.Errorf("got %d %s, want %s", r.code, r.body, want)
	}
	if r := get(t, s, "/stats/load?aggr=policy"); r.body != `{"load": 4.0}`+"\n" {
		t.Errorf("load: %s", r.body)
	}
}

// TestStatPolicyCountsHistograms: the merged histograms count against a
// request's share of the memory.
func TestStatPolicyCountsHistograms(t *testing.T) {
	dir, _ := policyFixture(t)
	s, _ := serverWith(t, dir, func(c *config) { c.maxMemory = 1 << 20; c.maxRequests = 64 })
	// 8 KiB a request: the two files' labels fit, not the 15 KiB of
	// counts of a merged histogram.
	if r := get(t, s, "/stats/app.lat.p99?exact=1&aggr=policy"); r.code != 500 || !strings.Contains(r.body, "narrow the glob") {
		t.Errorf("%d %s", r.code, r.body)
	}
	if r := get(t, s, "/stats/app.requests?exact=1&aggr=policy"); r.code != 200 {
		t.Errorf("%d %s", r.code, r.body)
	}
}

// TestGraphPagePolicies: /graph/ combines each row by its policy and
// says how: the requests sum, a peak is the max and names its file, a
// timestamp and sys.created the latest (not the sum of four dates), the
// percentiles come from the merged buckets, the main stat of a timer is
// weighted by the counts; sys.pid is not summed but shown file by file.
func TestGraphPagePolicies(t *testing.T) {
	dir, pooled := policyFixture(t)
	body := get(t, newTestServer(t, dir), "/graph/").body
	row := func(label, kind, unit, policy, how, value string) string {
		return `<tr class="stat" data-label="` + label + `" data-kind="` + kind + `" data-unit="` + unit + `" data-policy="` + policy + `">
      <td class="label"><a href="/stats/` + label + `?exact=1">` + label + `</a></td>
      <td class="num">2</td>
      <td class="how" data-how="` + how + `">` + how + `</td>
      <td class="num"><output data-value="` + value + `">` + value + `</output></td>`
	}
	p99 := pooled[int(math.Ceil(0.99*float64(len(pooled))))-1]
	for _, want := range []string{
		row("app.requests", "counter", "", "sum", "sum", "30"),
		row("app.big", "gauge", "", "sum", "sum", "36893488147419103229"),
		row("app.peak", "gauge", "", "max", "max, in w0.mmstats", "5"),
		row("app.seen", "timestamp", "seconds", "latest", "latest, in w1.mmstats", "1800000009.0"),
		row("app.lat.count", "counter", "", "sum", "sum", "2000"),
		`data-label="app.lat" data-kind="gauge" data-unit="seconds" data-policy="wavg">`,
		`<td class="how" data-how="mean weighted by app.lat.count">`,
		`data-label="app.lat.p99" data-kind="gauge" data-unit="seconds" data-policy="quantile">`,
		`<td class="how" data-how="p99 of the merged buckets">p99 of the merged buckets</td>`,
		`data-label="sys.created" data-kind="timestamp" data-unit="seconds" data-policy="latest">`,
		`<dt data-kind="info">sys.pid</dt>`,
		`<dt data-kind="info">app.status</dt>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("graph page lacks\n%s", want)
		}
	}
	if strings.Contains(body, `data-label="sys.pid"`) {
		t.Error("sys.pid is combined")
	}
	i := strings.Index(body, `data-label="app.lat.p99"`)
	var v float64
	if _, err := fmt.Sscanf(body[strings.Index(body[i:], "data-value=")+i:], `data-value="%g"`, &v); err != nil || math.Abs(v/p99-1) > 0.0055 {
		t.Errorf("p99 %v (%v), the pooled values' is %v", v, err, p99)
	}
}
