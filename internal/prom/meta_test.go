package prom_test

import (
	"bytes"
	"path/filepath"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestTypesAndUnitsFromMetadata: a Go writer's file gives counters and
// gauges with unit suffixes; a Python file keeps untyped bare names.
func TestTypesAndUnitsFromMetadata(t *testing.T) {
	var s struct {
		Hits  mmstats.Counter `mmstats:"web.hits"`
		Temp  mmstats.Float64 `mmstats:"room.temp,unit=celsius"`
		Stamp mmstats.Float64 `mmstats:"last_hit,kind=timestamp,unit=seconds"`
		Req   mmstats.Timer   `mmstats:"req,windows=none"`
		Sent  mmstats.Counter `mmstats:"sent_bytes,unit=bytes"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir(), Filename: "w.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	s.Hits.Add(3)
	s.Req.Observe(2e6) // 2 ms
	f.Refresh()
	stats, err := reader.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	var set prom.Set
	set.AddFile(f.Path(), "", stats)
	var out bytes.Buffer
	set.WriteTo(&out)
	fams := promtest.Parse(t, out.String())
	want := map[string]dto.MetricType{
		"mmstats_web_hits_total":        dto.MetricType_COUNTER,
		"mmstats_room_temp_celsius":     dto.MetricType_GAUGE,
		"mmstats_last_hit_seconds":      dto.MetricType_GAUGE,
		"mmstats_req_seconds":           dto.MetricType_GAUGE,
		"mmstats_req_count_total":       dto.MetricType_COUNTER,
		"mmstats_req_sum_seconds_total": dto.MetricType_COUNTER,
		"mmstats_req_p99_seconds":       dto.MetricType_GAUGE,
		"mmstats_sent_bytes_total":      dto.MetricType_COUNTER, // already ends in _bytes
		"mmstats_sys_created_seconds":   dto.MetricType_GAUGE,   // a timestamp
		prom.InfoName:                   dto.MetricType_GAUGE,   // sys.pid, sys.tid... as labels
	}
	for _, info := range []string{"mmstats_sys_pid", "mmstats_sys_tid", "mmstats_sys_uid", "mmstats_sys_gid"} {
		if _, ok := fams[info]; ok {
			t.Errorf("the info stat %s is a series of its own:\n%s", info, out.String())
		}
	}
	if m := fams[prom.InfoName].GetMetric(); len(m) != 1 || promtest.Label(m[0], "sys_tid") == "" ||
		promtest.Label(m[0], "pid") == "" || promtest.Label(m[0], "sys_pid") != "" || m[0].GetGauge().GetValue() != 1 {
		t.Errorf("%s: %v", prom.InfoName, m)
	}
	for name, typ := range want {
		fam, ok := fams[name]
		if !ok {
			t.Errorf("no metric %s in\n%s", name, out.String())
			continue
		}
		if fam.GetType() != typ {
			t.Errorf("%s is %v, want %v", name, fam.GetType(), typ)
		}
	}
	if v := fams["mmstats_req_p99_seconds"].GetMetric()[0].GetGauge().GetValue(); v < 0.00198 || v > 0.00202 {
		t.Errorf("p99 = %v, want 2ms within 1%%", v)
	}

	py, err := reader.ReadFile(filepath.Join("..", "..", "pkg", "reader", "testdata", "python-v1", "counters.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	var pyset prom.Set
	pyset.AddFile("counters.mmstats", "", py)
	out.Reset()
	pyset.WriteTo(&out)
	for name, fam := range promtest.Parse(t, out.String()) {
		if fam.GetType() != dto.MetricType_UNTYPED {
			t.Errorf("python file: %s is %v, want untyped", name, fam.GetType())
		}
	}
	if _, ok := promtest.Parse(t, out.String())["mmstats_requests"]; !ok {
		t.Errorf("python file: no bare mmstats_requests:\n%s", out.String())
	}
}
