package aggregate_test

import (
	"math"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

func TestPolicyOf(t *testing.T) {
	for _, c := range []struct {
		m    reader.Meta
		want aggregate.Policy
	}{
		{reader.Meta{}, aggregate.Sum}, // Python's files: what the tools always did
		{reader.Meta{Kind: reader.KindCounter}, aggregate.Sum},
		{reader.Meta{Kind: reader.KindGauge}, aggregate.Sum},
		{reader.Meta{Kind: reader.KindTimestamp}, aggregate.Latest},
		{reader.Meta{Kind: reader.KindInfo}, aggregate.None},
		{reader.Meta{Kind: reader.KindGauge, Aggregation: aggregate.Max}, aggregate.Max},
		{reader.Meta{Kind: reader.KindTimestamp, Aggregation: aggregate.Min}, aggregate.Min},
		{reader.Meta{Kind: reader.KindInfo, Aggregation: aggregate.Quantile}, aggregate.Quantile},
		{reader.Meta{Kind: reader.KindInfo, Aggregation: 30}, aggregate.None}, // unknown digits: by kind
	} {
		if got := aggregate.PolicyOf(c.m); got != c.want {
			t.Errorf("PolicyOf(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestQuantileOf(t *testing.T) {
	for label, want := range map[string]struct {
		head string
		q    float64
		ok   bool
	}{
		"web.lat.p50": {"web.lat", 0.5, true}, "lat.p99": {"lat", 0.99, true}, "lat.p999": {"lat", 0.999, true},
		"lat.p9999": {"lat", 0.9999, true}, "lat.p5": {"lat", 0.5, true}, "a.p.p01": {"a.p", 0.01, true},
		"lat.p": {}, "lat.pxx": {}, "lat": {}, "lat.p50x": {},
	} {
		head, q, ok := aggregate.QuantileOf(label)
		if head != want.head || q != want.q || ok != want.ok {
			t.Errorf("QuantileOf(%q) = %q, %v, %v; want %+v", label, head, q, ok, want)
		}
	}
	for _, c := range []struct {
		label   string
		m       reader.Meta
		weight  string
		created bool
		hist    string
	}{
		{"lat", reader.Meta{Aggregation: aggregate.WeightedAvg}, "lat.count", false, ""},
		{"lat.avg10s", reader.Meta{Aggregation: aggregate.WeightedAvg}, "lat.rate10s", false, ""},
		{"lat.p99", reader.Meta{Aggregation: aggregate.Quantile}, "", false, "lat"},
		{"x", reader.Meta{Kind: reader.KindGauge, Aggregation: aggregate.Latest}, "", true, ""},
		{"sys.created", reader.Meta{Kind: reader.KindTimestamp}, "", false, ""},
		{"n", reader.Meta{}, "", false, ""},
	} {
		w, cr, h := aggregate.Inputs(c.label, c.m)
		if w != c.weight || cr != c.created || h != c.hist {
			t.Errorf("Inputs(%q) = %q, %v, %q", c.label, w, cr, h)
		}
	}
}

// TestNumberIsExact adds integers past 64 bits, both ways, and checks
// the text against math/big.
func TestNumberIsExact(t *testing.T) {
	var n aggregate.Number
	var want big.Int
	for _, v := range []uint64{math.MaxUint64, math.MaxUint64, 1 << 63, 12345} {
		n.AddUint(v)
		want.Add(&want, new(big.Int).SetUint64(v))
	}
	if got := n.String(); got != want.String() {
		t.Errorf("sum = %s, want %s", got, want.String())
	}
	if v := n.Value(); v.Kind() != reader.Float || v.Float() != 2*math.MaxUint64+(1<<63)+12345 {
		t.Errorf("a sum past 64 bits as a Value: %v (%v)", v, v.Kind())
	}
	for range 7 {
		n.AddInt(math.MinInt64)
		want.Add(&want, big.NewInt(math.MinInt64))
	}
	if got := n.String(); got != want.String() || want.Sign() >= 0 || want.IsInt64() {
		t.Errorf("sum = %s, want %s (negative, past 64 bits)", got, want.String())
	}
	var small aggregate.Number
	small.Add(reader.IntValue(-5))
	small.Add(reader.UintValue(3))
	small.Add(reader.BoolValue(true))
	if v := small.Value(); v.Kind() != reader.Int || v.Int() != -1 || small.String() != "-1" {
		t.Errorf("-5+3+true = %v (%v)", v, v.Kind())
	}
	if small.Add(reader.StringValue("x")) {
		t.Error("a string added as a number")
	}
	small.AddFloat(0.5)
	if v := small.Value(); v.Kind() != reader.Float || v.Float() != -0.5 || small.String() != "-0.5" {
		t.Errorf("with a float: %v", v)
	}
	var u aggregate.Number
	u.AddUint(7)
	if v := u.Value(); v.Kind() != reader.Uint || v.Uint() != 7 || u.IsZero() || u.IsFloat() {
		t.Errorf("7 = %v", v)
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { u.AddUint(math.MaxUint64); buf = u.AppendText(buf[:0]) }); n != 0 {
		t.Errorf("adding and printing allocate %v times", n)
	}
}

func TestCompare(t *testing.T) {
	I, U, F, S := reader.IntValue, reader.UintValue, reader.FloatValue, reader.StringValue
	for _, c := range []struct {
		a, b reader.Value
		want int
	}{
		{I(-1), U(math.MaxUint64), -1}, {U(math.MaxUint64), I(-1), 1}, {U(1 << 63), I(math.MaxInt64), 1},
		{I(-3), I(-2), -1}, {U(5), U(5), 0}, {F(1.5), I(1), 1}, {F(math.NaN()), F(1), 0},
		{S("a"), S("b"), -1}, {S("a"), U(1), 0}, {reader.BoolValue(true), U(0), 1},
	} {
		if got := aggregate.Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// stat builds a stat of a file for the tests.
func stat(label string, v reader.Value, kind reader.Kind, a aggregate.Policy) reader.Stat {
	return reader.Stat{Label: label, Value: v, Meta: reader.Meta{Kind: kind, Aggregation: a}}
}

// TestAccumulatorPolicies feeds three files by hand and checks every
// policy's result, and where it came from.
func TestAccumulatorPolicies(t *testing.T) {
	I, U, F, S := reader.IntValue, reader.UintValue, reader.FloatValue, reader.StringValue
	files := []struct {
		path  string
		stats []reader.Stat
	}{
		{"a", []reader.Stat{
			stat("requests", U(math.MaxUint64), reader.KindCounter, aggregate.Sum),
			stat("inflight", I(-2), reader.KindGauge, 0),
			stat("peak", I(7), reader.KindGauge, aggregate.Max),
			stat("low", F(0.5), reader.KindGauge, aggregate.Min),
			stat("mean", U(10), reader.KindGauge, aggregate.Avg),
			stat("state", S("idle"), reader.KindGauge, aggregate.Latest),
			stat("seen", F(1800000100), reader.KindTimestamp, 0),
			stat("sys.pid", U(101), reader.KindInfo, 0),
			stat("version", S("go1.26"), reader.KindInfo, aggregate.None),
			stat("lat", F(1), reader.KindGauge, aggregate.WeightedAvg),
			stat("lat.count", U(1), reader.KindCounter, aggregate.Sum),
			stat("lat.avg10s", F(2), reader.KindGauge, aggregate.WeightedAvg),
			stat("lat.rate10s", F(3), reader.KindGauge, aggregate.Sum),
			stat("python", U(5), reader.KindUnknown, 0),
			stat("name", S("x"), reader.KindUnknown, 0),
			stat("sys.created", F(1800000000), reader.KindTimestamp, 0),
		}},
		{"b", []reader.Stat{
			stat("requests", U(math.MaxUint64), reader.KindCounter, aggregate.Sum),
			stat("inflight", I(5), reader.KindGauge, 0),
			stat("peak", U(9), reader.KindGauge, aggregate.Max),
			stat("low", I(-1), reader.KindGauge, aggregate.Min),
			stat("mean", U(20), reader.KindGauge, aggregate.Avg),
			stat("state", S("busy"), reader.KindGauge, aggregate.Latest),
			stat("seen", F(1800000300), reader.KindTimestamp, 0),
			stat("sys.pid", U(102), reader.KindInfo, 0),
			stat("version", S("go1.26"), reader.KindInfo, aggregate.None),
			stat("lat", F(4), reader.KindGauge, aggregate.WeightedAvg),
			stat("lat.count", U(3), reader.KindCounter, aggregate.Sum),
			stat("lat.avg10s", F(6), reader.KindGauge, aggregate.WeightedAvg),
			stat("lat.rate10s", F(1), reader.KindGauge, aggregate.Sum),
			stat("python", U(6), reader.KindUnknown, 0),
			stat("name", S("y"), reader.KindUnknown, 0),
			stat("sys.created", F(1800000050), reader.KindTimestamp, 0), // the newest file
		}},
		{"c", []reader.Stat{
			stat("requests", U(2), reader.KindCounter, aggregate.Sum),
			stat("seen", F(1800000200), reader.KindTimestamp, 0),
			stat("sys.pid", U(103), reader.KindInfo, 0),
			stat("version", S("go1.26"), reader.KindInfo, aggregate.None),
			stat("state", S("old"), reader.KindGauge, aggregate.Latest),
			stat("sys.created", F(1700000000), reader.KindTimestamp, 0),
		}},
	}
	var acc aggregate.Accumulator
	for round := range 2 { // the second round reuses the memory
		acc.Reset()
		for _, f := range files {
			acc.Begin(f.path)
			for i := range f.stats {
				acc.Add(&f.stats[i])
			}
			acc.End()
		}
		want := map[string]struct {
			text  string
			from  string
			files int
			same  bool
		}{
			"requests":    {"36893488147419103232", "", 3, false}, // 2·(2^64-1)+2 = 2^65
			"inflight":    {"3", "", 2, false},
			"peak":        {"9", "b", 2, false},
			"low":         {"-1", "b", 2, false},
			"mean":        {"15.0", "", 2, false},
			"state":       {"busy", "b", 3, false}, // b's sys.created is the newest
			"seen":        {"1800000300.0", "b", 3, false},
			"sys.pid":     {"101", "a", 3, false},
			"version":     {"go1.26", "a", 3, true},
			"lat":         {"3.25", "", 2, false}, // (1·1 + 4·3) / 4
			"lat.count":   {"4", "", 2, false},
			"lat.avg10s":  {"3.0", "", 2, false}, // (2·3 + 6·1) / 4
			"lat.rate10s": {"4.0", "", 2, false},
			"python":      {"11", "", 2, false},
			"name":        {"x", "a", 2, false}, // strings do not add up: the first
			"sys.created": {"1800000050.0", "b", 3, false},
		}
		totals := acc.Totals()
		if len(totals) != len(want) || acc.Files() != 3 {
			t.Fatalf("round %d: %d totals of %d files", round, len(totals), acc.Files())
		}
		for _, tot := range totals {
			w := want[tot.Label]
			if got := string(tot.AppendText(nil)); got != w.text || tot.From != w.from || tot.Files != w.files || tot.Same != w.same {
				t.Errorf("round %d: %s (%s) = %s from %q, %d files, same %v; want %+v", round, tot.Label, tot.Policy, got, tot.From, tot.Files, tot.Same, w)
			}
		}
		if tot, ok := acc.Total("requests"); !ok || tot.Sum.String() != "36893488147419103232" || tot.Value.Kind() != reader.Float {
			t.Errorf("Total(requests) = %+v", tot)
		}
		if _, ok := acc.Total("nothing"); ok {
			t.Error("Total of an unknown label")
		}
	}
	// A round allocates nothing once the accumulator is warm.
	feed := func() {
		acc.Reset()
		for _, f := range files {
			acc.Begin(f.path)
			for i := range f.stats {
				acc.Add(&f.stats[i])
			}
			acc.End()
		}
		acc.Totals()
	}
	if n := testing.AllocsPerRun(50, feed); n != 0 {
		t.Errorf("a warm round allocates %v times", n)
	}
}

// TestUnweightedWhenAFileHasNoWeight: a weighted mean falls back to the
// plain mean when a file lacks the weight, and says so.
func TestUnweightedWhenAFileHasNoWeight(t *testing.T) {
	var acc aggregate.Accumulator
	a := stat("lat", reader.FloatValue(1), reader.KindGauge, aggregate.WeightedAvg)
	w := stat("lat.count", reader.UintValue(9), reader.KindCounter, aggregate.Sum)
	b := stat("lat", reader.FloatValue(3), reader.KindGauge, aggregate.WeightedAvg)
	acc.Begin("a")
	acc.Add(&a)
	acc.Add(&w)
	acc.Begin("b") // ends a
	acc.Add(&b)
	tot, _ := acc.Total("lat")
	if tot.Value.Float() != 2 || tot.Missing != 1 {
		t.Errorf("lat = %v, %d missing; want 2, 1", tot.Value, tot.Missing)
	}
}

// TestPythonFilesSum: files without metadata (Python 0.8.0's) keep
// today's behaviour: numbers add up, strings do not.
func TestPythonFilesSum(t *testing.T) {
	path := filepath.Join("..", "reader", "testdata", "python-v1", "counters.mmstats")
	var acc aggregate.Accumulator
	var one []reader.Stat
	for range 2 {
		f, err := reader.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.AddFile(f); err != nil {
			t.Fatal(err)
		}
		if one == nil {
			one, _ = f.Stats()
		}
		f.Close()
	}
	for _, s := range one {
		tot, ok := acc.Total(s.Label)
		if !ok || tot.Policy != aggregate.Sum || tot.Files != 2 {
			t.Errorf("%s: %+v", s.Label, tot)
			continue
		}
		if s.Value.Kind().Numeric() && tot.Value.Float() != 2*s.Value.Float() {
			t.Errorf("%s: %v, want twice %v", s.Label, tot.Value, s.Value)
		}
	}
}
