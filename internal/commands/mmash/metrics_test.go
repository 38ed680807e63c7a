package mmash

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil/promfile"
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
		"mmstats_web_hits_total":      "COUNTER",
		"mmstats_web_req_seconds":     "HISTOGRAM",
		"mmstats_web_req_max_seconds": "GAUGE",
		"mmstats_web_req_rate10s":     "GAUGE",
		"mmstats_sys_created_seconds": "GAUGE",
		prom.InfoName:                 "GAUGE",
	} {
		if fam := families[name]; fam == nil || fam.GetType().String() != typ {
			t.Errorf("%s: %v, want %s", name, fam.GetType(), typ)
		}
	}
	if v := families["mmstats_web_hits_total"].GetMetric()[0].GetCounter().GetValue(); v != 9 {
		t.Errorf("web.hits = %v", v)
	}
	for _, name := range []string{"mmstats_web_req_p99_seconds", "mmstats_web_req_count_total", "mmstats_web_req_sum_seconds_total"} {
		if families[name] != nil {
			t.Errorf("%s is a series of its own: the histogram has it", name)
		}
	}
	if h := families["mmstats_web_req_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 0.005 {
		t.Errorf("histogram %v", h)
	}
}

// The Accept headers of Prometheus 2.42, with native histograms and
// without.
const (
	acceptProto = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`
	acceptText  = `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`
)

// timerFile writes dir/go.mmstats with one Timer, web.req, that has
// observed 1 to 100 ms, and removes it when the test ends.
func timerFile(t *testing.T, dir string) *mmstats.File {
	t.Helper()
	var s struct {
		Req mmstats.Timer `mmstats:"web.req,windows=none"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: "go.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Remove() })
	for i := 1; i <= 100; i++ {
		s.Req.Observe(time.Duration(i) * time.Millisecond)
	}
	f.Refresh()
	return f
}

// TestMetricsProtobuf: a scraper that asks for the protobuf format first
// gets it, with native histograms; one that accepts anything, or asks
// for text or OpenMetrics, gets the text format.
func TestMetricsProtobuf(t *testing.T) {
	dir := t.TempDir()
	timerFile(t, dir)
	srv := newTestServer(t, dir)
	for accept, proto := range map[string]bool{acceptProto: true, acceptText: false, "*/*": false, "": false, "application/json": false} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept", accept)
		srv.ServeHTTP(w, req)
		r := response{w.Code, w.Result().Header, w.Body.String()}
		ct := r.header.Get("Content-Type")
		if r.code != 200 || (ct == prom.ProtoContentType) != proto || r.header.Get("Vary") != "Accept, Accept-Encoding" {
			t.Errorf("Accept %q: %d, Content-Type %q, Vary %q", accept, r.code, ct, r.header.Get("Vary"))
			continue
		}
		if !proto {
			promtest.Parse(t, r.body)
			continue
		}
		h := promtest.ParseProto(t, []byte(r.body))["mmstats_web_req_seconds"].GetMetric()[0].GetHistogram()
		var n uint64
		for _, c := range promtest.NativeBuckets(t, h) {
			n += c
		}
		if h.GetSchema() != 6 || n != 100 || h.GetSampleCount() != 100 || len(h.GetBucket()) == 0 {
			t.Errorf("native histogram: schema %d, %d values in its buckets, count %d, %d classic buckets",
				h.GetSchema(), n, h.GetSampleCount(), len(h.GetBucket()))
		}
	}
}

// TestMetricsGzip: the answer is gzip-compressed for a client that
// accepts it (Prometheus does), and the same text otherwise.
func TestMetricsGzip(t *testing.T) {
	dir := t.TempDir()
	var s struct {
		Req mmstats.Timer `mmstats:"web.req,windows=none"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: "go.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	s.Req.Observe(time.Millisecond)
	f.Refresh()
	srv := newTestServer(t, dir)
	plain := get(t, srv, "/metrics")
	promtest.Parse(t, plain.body)
	if plain.header.Get("Content-Encoding") != "" || !strings.Contains(plain.body, "mmstats_web_req_seconds_bucket{") {
		t.Fatalf("plain: %v\n%s", plain.header, plain.body)
	}
	for enc, gz := range map[string]bool{
		"gzip": true, "gzip, deflate, br": true, "deflate, GZIP;q=0.5": true, "*": true,
		"gzip;q=0": false, "identity": false, "br": false, "gzip; q=0.000": false,
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", enc)
		srv.ServeHTTP(w, req)
		body := w.Body.Bytes()
		if got := w.Result().Header.Get("Content-Encoding") == "gzip"; got != gz {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", enc, got, gz)
			continue
		}
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if string(body) != plain.body {
			t.Errorf("Accept-Encoding %q: the text differs:\n%s", enc, body)
		}
	}
}

// TestMetricsClassicSchema: every form of /metrics has the classic
// buckets of the configured schema (--classic-schema): a Timer of the
// default range has 31 bounds and +Inf at schema 0, the default, and 241
// and +Inf at 3, in the text made from the plan (plain and gzip), in
// the protobuf format (whose native histogram stays at the writer's
// schema 6), and with --aggregate.
func TestMetricsClassicSchema(t *testing.T) {
	dir := t.TempDir()
	timerFile(t, dir)
	for _, classic := range []prom.ClassicSchema{prom.DefaultClassicSchema, 1, 3} {
		want := 30<<classic + 1 // the bounds, +Inf aside
		for _, aggregate := range []bool{false, true} {
			cfg := defaultConfig()
			cfg.classic, cfg.aggregate = classic, aggregate
			srv, err := newServerConfig(dir, "*.mmstats", cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			for _, c := range []struct{ accept, encoding string }{{"", ""}, {"", "gzip"}, {acceptProto, ""}} {
				w := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/metrics", nil)
				req.Header.Set("Accept", c.accept)
				req.Header.Set("Accept-Encoding", c.encoding)
				srv.ServeHTTP(w, req)
				body := w.Body.Bytes()
				if c.encoding == "gzip" {
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					body, _ = io.ReadAll(zr)
				}
				var h *dto.Histogram
				if c.accept == acceptProto {
					h = promtest.ParseProto(t, body)["mmstats_web_req_seconds"].GetMetric()[0].GetHistogram()
				} else {
					h = promtest.Parse(t, string(body))["mmstats_web_req_seconds"].GetMetric()[0].GetHistogram()
				}
				n := 0
				for _, b := range h.GetBucket() {
					if !math.IsInf(b.GetUpperBound(), 1) {
						n++
					}
				}
				if w.Code != 200 || n != want || h.GetSampleCount() != 100 || c.accept == acceptProto && h.GetSchema() != 6 {
					t.Errorf("schema %d, aggregate %v, %+v: %d, %d classic bounds (want %d), count %d, native schema %d",
						classic, aggregate, c, w.Code, n, want, h.GetSampleCount(), h.GetSchema())
				}
			}
		}
	}
}

// TestMetricsHistogramsFollowTheWriter: the histograms of /metrics,
// written from the plan (which reads the buckets of a histogram only
// when its count or sum changed), are at every request what a Set
// built from the file afresh writes (slurpstats -o prometheus): after
// new values, after a refresh without any, and unchanged; at the
// default classic schema and at 3.
func TestMetricsHistogramsFollowTheWriter(t *testing.T) {
	for _, classic := range []prom.ClassicSchema{prom.DefaultClassicSchema, 3} {
		dir := t.TempDir()
		var s struct {
			Req mmstats.Timer     `mmstats:"web.req,windows=none"`
			Big mmstats.Histogram `mmstats:"web.size,unit=bytes,windows=none"`
		}
		f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: "go.mmstats"})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Remove()
		cfg := defaultConfig()
		cfg.classic = classic
		srv, err := newServerConfig(dir, "*.mmstats", cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		fresh := func() string {
			stats, groups := promfile.Read(t, f.Path())
			set := prom.Set{Classic: classic}
			set.AddFileGroups(f.Path(), "", stats, groups)
			var b bytes.Buffer
			set.WriteTo(&b)
			return b.String()
		}
		for round, observe := range []int{0, 10, 0, 0, 1, 1000, 0} {
			for i := range observe {
				s.Req.Observe(time.Duration(1+i*i) * time.Microsecond)
				s.Big.Observe(float64(100 + i))
			}
			if round != 3 {
				f.Refresh() // a new snapshot (sequence word), new values or not
			}
			if got, want := get(t, srv, "/metrics").body, fresh(); got != want {
				t.Fatalf("schema %d, round %d: /metrics\n%s\na Set of the file\n%s", classic, round, got, want)
			}
		}
	}
}
