package prom

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/pkg/reader"
)

func write(t *testing.T, s *Set) string {
	t.Helper()
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.String()
}

func TestSetGroupsAndSorts(t *testing.T) {
	var s Set
	// Added file by file, as the callers do: the metrics interleave.
	for _, file := range []string{"b.mmstats", "a.mmstats"} {
		labels := []Label{{"file", file}}
		s.Add("m_z", "z", Untyped, labels, reader.UintValue(1))
		s.Add("m_a", "a", Counter, labels, reader.IntValue(-2))
	}
	got := write(t, &s)
	want := `# HELP m_a a
# TYPE m_a counter
m_a{file="a.mmstats"} -2
m_a{file="b.mmstats"} -2
# HELP m_z z
# TYPE m_z untyped
m_z{file="a.mmstats"} 1
m_z{file="b.mmstats"} 1
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	promtest.Parse(t, got)
	if s.Len() != 4 {
		t.Errorf("Len = %d, want 4", s.Len())
	}
}

func TestSetValues(t *testing.T) {
	tests := []struct {
		v    reader.Value
		want string
	}{
		{reader.IntValue(math.MinInt64), "-9223372036854775808"},
		{reader.UintValue(math.MaxUint64), "18446744073709551615"},
		{reader.FloatValue(0.1), "0.1"},
		{reader.FloatValue(1e21), "1e+21"},
		{reader.FloatValue(3), "3"},
		{reader.FloatValue(math.NaN()), "NaN"},
		{reader.FloatValue(math.Inf(1)), "+Inf"},
		{reader.FloatValue(math.Inf(-1)), "-Inf"},
		{reader.BoolValue(true), "1"},
		{reader.BoolValue(false), "0"},
	}
	var s Set
	for _, tt := range tests {
		if got := string(AppendValue(nil, tt.v)); got != tt.want {
			t.Errorf("AppendValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
		s.Add("m", "", Gauge, []Label{{"v", tt.want}}, tt.v)
	}
	families := promtest.Parse(t, write(t, &s))
	for _, m := range families["m"].GetMetric() {
		text := promtest.Label(m, "v")
		got := m.GetGauge().GetValue()
		var want float64
		for _, tt := range tests {
			if tt.want == text {
				want = tt.v.Float()
			}
		}
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("%s parsed as %v, want %v", text, got, want)
		}
	}
}

func TestSetSkipsStringsAndDuplicates(t *testing.T) {
	var s Set
	l := []Label{{"file", "a"}}
	if s.Add("m", "", Untyped, l, reader.StringValue("x")) {
		t.Error("a string was added")
	}
	if !s.Add("m", "first", Untyped, l, reader.IntValue(1)) {
		t.Error("first series not added")
	}
	if s.Add("m", "second", Gauge, l, reader.IntValue(2)) {
		t.Error("a duplicate series was added")
	}
	// A label value that would collide with a naive key.
	if !s.Add("m", "", Untyped, []Label{{"file", "a\x00"}}, reader.IntValue(3)) {
		t.Error("a distinct series was dropped")
	}
	got := write(t, &s)
	if !strings.Contains(got, "# HELP m first\n# TYPE m untyped\nm{file=\"a\"} 1\n") {
		t.Errorf("the first help, type and value should stay:\n%s", got)
	}
	promtest.Parse(t, got)
}

func TestSetEscapes(t *testing.T) {
	var s Set
	s.Add("m", "back\\slash\nnew \"line\"", Untyped, []Label{{"file", "q\"uo\\te\nx\xff"}}, reader.IntValue(1))
	got := write(t, &s)
	want := "# HELP m back\\\\slash\\nnew \"line\"\n# TYPE m untyped\nm{file=\"q\\\"uo\\\\te\\nx\uFFFD\"} 1\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	f := promtest.Parse(t, got)["m"]
	if h := f.GetHelp(); h != "back\\slash\nnew \"line\"" {
		t.Errorf("help parsed as %q", h)
	}
	if v := promtest.Label(f.GetMetric()[0], "file"); v != "q\"uo\\te\nx\uFFFD" {
		t.Errorf("label parsed as %q", v)
	}
}

func TestEmptySet(t *testing.T) {
	var s Set
	if got := write(t, &s); got != "" {
		t.Errorf("empty set wrote %q", got)
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	var s Set
	for i := range 1000 {
		s.Add(MetricName(strings.Repeat("x", i)), "", Untyped, nil, reader.IntValue(1))
	}
	if _, err := s.WriteTo(failWriter{}); err == nil {
		t.Error("no error from a failing writer")
	}
}

func TestMetricName(t *testing.T) {
	tests := map[string]string{
		"web.stats.status.2XX": "mmstats_web_stats_status_2XX",
		"2XX":                  "mmstats_2XX",
		"a-b c/d:e":            "mmstats_a_b_c_d_e",
		"é":                    "mmstats___",
		"":                     "mmstats_",
		"ok_Name9":             "mmstats_ok_Name9",
	}
	for label, want := range tests {
		if got := MetricName(label); got != want {
			t.Errorf("MetricName(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestAddFile(t *testing.T) {
	stats := []reader.Stat{
		{Label: "web.requests", Type: "Q", Value: reader.UintValue(7)},
		{Label: "web.working", Type: "?", Value: reader.BoolValue(true)},
		{Label: "web.path", Type: "255s", Value: reader.StringValue("/")},
		{Label: "web.sys.pid", Type: "I", Value: reader.UintValue(42)},
	}
	var s Set
	s.AddFile("/tmp/dir/web-42-42.mmstats", "", stats)
	s.AddFile("/tmp/dir/nopid.mmstats", "", stats[:1])
	s.AddFile("/tmp/dir/given.mmstats", "7", stats[:1])
	got := write(t, &s)
	want := `# HELP mmstats_file_info One per file: the writer's info stats (PIDs, IDs, static numbers) as labels.
# TYPE mmstats_file_info gauge
mmstats_file_info{file="web-42-42.mmstats",pid="42"} 1
# HELP mmstats_web_requests web.requests
# TYPE mmstats_web_requests untyped
mmstats_web_requests{file="given.mmstats",pid="7"} 7
mmstats_web_requests{file="nopid.mmstats"} 7
mmstats_web_requests{file="web-42-42.mmstats",pid="42"} 7
# HELP mmstats_web_working web.working
# TYPE mmstats_web_working untyped
mmstats_web_working{file="web-42-42.mmstats",pid="42"} 1
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	promtest.Parse(t, got)
}
