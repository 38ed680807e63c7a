package prom_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/promfile"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// lint runs promtool check metrics on text and fails the test with its
// complaints unless it exits 0.
func lint(t *testing.T, text string) {
	t.Helper()
	promtool := testutil.Tool(t, "prometheus", "promtool")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s\non:\n%s", err, out, text)
	}
}

// TestPromtoolAcceptsEveryKind: the fields of every kind that the Go
// writer makes, and the Python writer's files, give an exposition that
// promtool check metrics accepts.
func TestPromtoolAcceptsEveryKind(t *testing.T) {
	var s struct {
		Hits    mmstats.Counter      `mmstats:"web.hits"`
		Sent    mmstats.Counter      `mmstats:"web.sent,unit=bytes"`
		Count   mmstats.Counter      `mmstats:"web.jobs.count"`
		Queue   mmstats.Uint64       `mmstats:"web.queue.count,kind=gauge"`
		Temp    mmstats.Float64      `mmstats:"room.temp,unit=celsius"`
		Stamp   mmstats.Float64      `mmstats:"last_hit,kind=timestamp,unit=seconds"`
		Req     mmstats.Timer        `mmstats:"web.req"`
		Size    mmstats.Histogram    `mmstats:"web.size,unit=bytes"`
		Build   mmstats.StaticUint64 `mmstats:"build"`
		Version mmstats.StaticText   `mmstats:"version"`
	}
	s.Build.Set(1234)
	s.Version.Set("v1.2.3")
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir(), Filename: "w.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	s.Hits.Add(3)
	s.Req.Observe(2 * time.Millisecond)
	s.Size.Observe(100)
	f.Refresh()
	stats, groups := promfile.Read(t, f.Path())
	if len(groups) != 2 {
		t.Fatalf("%d histogram groups, want 2", len(groups))
	}
	var set prom.Set
	set.AddFileGroups(f.Path(), "", stats, groups)
	matches, _ := filepath.Glob(filepath.Join("..", "..", "pkg", "reader", "testdata", "python-v1", "*.mmstats"))
	for _, m := range matches {
		py, err := reader.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		set.AddFile(m, "", py)
	}
	var out bytes.Buffer
	set.WriteTo(&out)
	fams := promtest.Parse(t, out.String())
	for name, typ := range map[string]string{
		"mmstats_web_hits_total":       "COUNTER",
		"mmstats_web_sent_bytes_total": "COUNTER",
		"mmstats_web_jobs_count_total": "COUNTER",
		"mmstats_web_queue_count":      "UNTYPED", // a gauge may not end in _count
		"mmstats_web_req_seconds":      "HISTOGRAM",
		"mmstats_web_req_max_seconds":  "GAUGE",
		"mmstats_web_size_bytes":       "HISTOGRAM",
		prom.InfoName:                  "GAUGE",
	} {
		if fam := fams[name]; fam == nil || fam.GetType().String() != typ {
			t.Errorf("%s: %v, want %s", name, fam.GetType(), typ)
		}
	}
	// The histograms stand for their parts.
	for _, name := range []string{"mmstats_web_req_count_total", "mmstats_web_req_sum_seconds_total", "mmstats_web_req_p99_seconds", "mmstats_web_size_p50_bytes"} {
		if fams[name] != nil {
			t.Errorf("%s is still a series of its own", name)
		}
	}
	found := false
	for _, m := range fams[prom.InfoName].GetMetric() {
		found = found || promtest.Label(m, "file") == "w.mmstats" && promtest.Label(m, "build") == "1234"
	}
	if !found {
		t.Errorf("the static value is not a label of %s: %v", prom.InfoName, fams[prom.InfoName])
	}
	lint(t, out.String())
}

func TestLabelName(t *testing.T) {
	for label, want := range map[string]string{
		"sys.tid":     "sys_tid",
		"web.sys.uid": "web_sys_uid",
		"2nd.value":   "mmstats_2nd_value",
		"__reserved":  "mmstats___reserved",
		"_ok":         "_ok",
		"":            "mmstats_",
		"a-b c":       "a_b_c",
	} {
		if got := prom.LabelName(label); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", label, got, want)
		}
	}
}

// TestInfoStats: the info stats of a file are the labels of one
// mmstats_file_info series, not series of their own, in Go files (by
// their metadata) and in Python files (by the default fields' labels).
func TestInfoStats(t *testing.T) {
	info := reader.Meta{Kind: reader.KindInfo}
	stats := []reader.Stat{
		{Label: "app.sys.pid", Value: reader.UintValue(15), Meta: info},
		{Label: "app.sys.tid", Value: reader.UintValue(16), Meta: info},
		{Label: "build", Value: reader.FloatValue(2.5), Meta: info},
		{Label: "version", Value: reader.StringValue("v1"), Meta: info}, // a string: left out
		{Label: "file", Value: reader.UintValue(1), Meta: info},         // the name is taken
		{Label: "hits", Value: reader.UintValue(3), Meta: reader.Meta{Kind: reader.KindCounter}},
	}
	python := []reader.Stat{
		{Label: "sys.pid", Value: reader.UintValue(20)},
		{Label: "sys.tid", Value: reader.UintValue(21)},
		{Label: "sys.uid", Value: reader.UintValue(0)},
		{Label: "sys.gid", Value: reader.UintValue(0)},
		{Label: "sys.created", Value: reader.FloatValue(1.5)},
	}
	var s prom.Set
	s.AddFile("go.mmstats", "", stats)
	s.AddFile("py.mmstats", "", python)
	s.AddFile("none.mmstats", "", stats[5:])
	var out bytes.Buffer
	s.WriteTo(&out)
	want := `# HELP mmstats_file_info One per file: the writer's info stats (PIDs, IDs, static numbers) as labels.
# TYPE mmstats_file_info gauge
mmstats_file_info{file="go.mmstats",pid="15",app_sys_tid="16",build="2.5"} 1
mmstats_file_info{file="py.mmstats",pid="20",sys_tid="21",sys_uid="0",sys_gid="0"} 1
# HELP mmstats_hits_total hits
# TYPE mmstats_hits_total counter
mmstats_hits_total{file="go.mmstats",pid="15"} 3
mmstats_hits_total{file="none.mmstats"} 3
# HELP mmstats_sys_created sys.created
# TYPE mmstats_sys_created untyped
mmstats_sys_created{file="py.mmstats",pid="20"} 1.5
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	promtest.Parse(t, out.String())
}
