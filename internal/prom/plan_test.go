package prom

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

// planFile is one file of a Plan's tests, and the Source of its values.
type planFile struct {
	path   string
	stats  []reader.Stat
	groups []Group
}

type planFiles []planFile

func (fs planFiles) Value(file, stat int) reader.Value { return fs[file].stats[stat].Value }
func (fs planFiles) Histogram(file, group int) *reader.Histogram {
	return &fs[file].groups[group].H
}

// set builds the Set of fs, as a server adds each file, with classic
// buckets of schema classic.
func (fs planFiles) set(classic ClassicSchema) *Set {
	s := Set{Classic: classic}
	for k, f := range fs {
		s.AddFilePlan(k, f.path, "", f.stats, f.groups)
	}
	return &s
}

// planFixture returns files with every kind of series: counters, gauges,
// untyped numbers, info labels and a PID, strings (left out), a label
// that two files share and two that give one name (the second left
// out), a histogram group standing for its stats, a negative number, a
// NaN and an escaped label value.
func planFixture(rng *rand.Rand) planFiles {
	var fs planFiles
	for k, path := range []string{"/d/web-2.mmstats", "/d/web-1.mmstats", "/d/odd\"name\n.mmstats"} {
		h := randomHistogram(rng, 6, -1407+k, 300)
		stats := []reader.Stat{
			{Label: "web.sys.pid", Type: "I", Value: reader.UintValue(uint64(100 + k)), Meta: reader.Meta{Kind: reader.KindInfo}},
			{Label: "web.sys.id", Type: "Q", Value: reader.UintValue(rng.Uint64()), Meta: reader.Meta{Kind: reader.KindInfo}},
			{Label: "web.requests", Type: "Q", Value: reader.UintValue(rng.Uint64N(1000)), Meta: reader.Meta{Kind: reader.KindCounter}},
			{Label: "web.load", Type: "d", Value: reader.FloatValue(rng.Float64()), Meta: reader.Meta{Kind: reader.KindGauge}},
			{Label: "web.neg", Type: "q", Value: reader.IntValue(-rng.Int64N(1000))},
			{Label: "web.nan", Type: "d", Value: reader.FloatValue(math.NaN())},
			{Label: "web.path", Type: "16s", Value: reader.StringValue("/x")},
			{Label: "web.a_b", Type: "Q", Value: reader.UintValue(1)},
			{Label: "web.a.b", Type: "Q", Value: reader.UintValue(2)},
			{Label: "web.lat", Type: "d", Value: reader.FloatValue(0.5), Meta: reader.Meta{Kind: reader.KindGauge, Unit: "seconds", Role: reader.GroupHead}},
			{Label: "web.lat.count", Type: "Q", Value: reader.UintValue(h.Count), Meta: reader.Meta{Kind: reader.KindCounter, Role: reader.GroupMember}},
			{Label: "web.lat.max", Type: "d", Value: reader.FloatValue(2), Meta: reader.Meta{Kind: reader.KindGauge, Unit: "seconds", Role: reader.GroupMember}},
		}
		fs = append(fs, planFile{path: path, stats: stats,
			groups: []Group{{Label: "web.lat", Meta: reader.Meta{Kind: reader.KindGauge, Unit: "seconds"}, H: *h}}})
	}
	return fs
}

// TestPlanWritesWhatWriteToWrites: at every classic schema, a Plan's
// text is byte for byte what WriteTo writes of the Set, with the values
// it was built with and with others (new counts, a histogram's window
// moved), and writing it does not allocate.
func TestPlanWritesWhatWriteToWrites(t *testing.T) {
	for classic := range MaxClassicSchema + 1 {
		rng := rand.New(rand.NewPCG(3, 4))
		fs := planFixture(rng)
		plan := fs.set(classic).Compile()
		check := func(what string) {
			t.Helper()
			var want bytes.Buffer
			fs.set(classic).WriteTo(&want)
			if n := bytes.Count(want.Bytes(), []byte("_bucket{")); n < len(fs)*(1+int(classic)) {
				t.Fatalf("schema %d, %s: %d _bucket lines", classic, what, n)
			}
			got := plan.Append(nil, fs)
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("schema %d, %s: the plan wrote\n%s\nWriteTo\n%s", classic, what, got, want.Bytes())
			}
			var w bytes.Buffer
			if _, err := plan.WriteTo(&w, fs, nil); err != nil || !bytes.Equal(w.Bytes(), want.Bytes()) {
				t.Fatalf("schema %d, %s: Plan.WriteTo wrote (%v)\n%s\nSet.WriteTo\n%s", classic, what, err, w.Bytes(), want.Bytes())
			}
		}
		check("as built")
		for k := range fs {
			st := fs[k].stats
			st[2].Value = reader.UintValue(rng.Uint64())
			st[3].Value = reader.FloatValue(rng.NormFloat64() * 1e300)
			st[4].Value = reader.IntValue(math.MinInt64)
			st[11].Value = reader.FloatValue(math.Inf(1))
			fs[k].groups[0].H = *randomHistogram(rng, 6, -1407+k, 300)
		}
		check("new values")
		fs[1].groups[0].H = *randomHistogram(rng, 6, -1000, 77)
		check("another window")
		buf := make([]byte, 0, 1<<20)
		var src Source = fs // boxed once, as a server keeps its Source
		if n := testing.AllocsPerRun(20, func() { buf = plan.Append(buf[:0], src) }); n != 0 {
			t.Errorf("schema %d: Append: %v allocations", classic, n)
		}
		if plan.Bytes() <= 0 {
			t.Error("Bytes")
		}
	}
}
