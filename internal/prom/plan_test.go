package prom

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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
	return planFixtureOf(rng, []string{"/d/web-2.mmstats", "/d/web-1.mmstats", "/d/odd\"name\n.mmstats"})
}

// planFixtureOf is planFixture of files of the paths given.
func planFixtureOf(rng *rand.Rand, paths []string) planFiles {
	var fs planFiles
	for k, path := range paths {
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

// summaryFiles is planFiles as a SummarySource: the summary of a
// histogram is its own count and sum, or what said holds for it (a
// summary read before the buckets changed, or a crafted file's).
type summaryFiles struct {
	planFiles
	said  map[[2]int][2]float64 // by file and group: count, sum
	reads int                   // calls of Histogram
}

func (s *summaryFiles) Histogram(file, group int) *reader.Histogram {
	s.reads++
	return s.planFiles.Histogram(file, group)
}

func (s *summaryFiles) HistogramSummary(file, group int) (uint64, float64, bool) {
	if v, ok := s.said[[2]int{file, group}]; ok {
		return uint64(v[0]), v[1], true
	}
	h := &s.planFiles[file].groups[group].H
	return h.Count, h.Sum, true
}

// classicFiles is summaryFiles as a ClassicSource too: reads counts the
// calls of ClassicHistogram, full those of Histogram.
type classicFiles struct {
	*summaryFiles
	full int
	c    reader.CoarseHistogram
}

func (s *classicFiles) Histogram(file, group int) *reader.Histogram {
	s.full++
	return s.planFiles.Histogram(file, group)
}

func (s *classicFiles) ClassicHistogram(file, group, schema int) *reader.CoarseHistogram {
	s.reads++
	s.planFiles[file].groups[group].H.Coarse(schema, &s.c)
	return &s.c
}

// TestPlanSummarySource: with a SummarySource, a Plan reads a histogram
// only when its count or sum is not that of the last text, and writes
// what WriteTo writes all the same: at once, after new counts, after a
// summary read before the buckets changed (not kept), and after another
// window. A crafted file whose buckets change under the same count gets
// its last buckets again, whole. Writing does not allocate.
//
// As a ClassicSource too, it reads the same histograms, their sums
// (ClassicHistogram), and their counts whole (Histogram) only for
// another window than the Set's.
func TestPlanSummarySource(t *testing.T) {
	for classic := range MaxClassicSchema + 1 {
		for _, sums := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(5, 6))
			fs := planFixture(rng)
			src := &summaryFiles{planFiles: fs, said: map[[2]int][2]float64{}}
			var s SummarySource = src
			cl := &classicFiles{summaryFiles: src}
			if sums {
				s = cl
			}
			plan := fs.set(classic).Compile()
			check := func(what string, reads int) {
				t.Helper()
				var want bytes.Buffer
				fs.set(classic).WriteTo(&want)
				src.reads, cl.full = 0, 0
				if got := plan.Append(nil, s); !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("schema %d, sums %v, %s: the plan wrote\n%s\nWriteTo\n%s", classic, sums, what, got, want.Bytes())
				}
				if src.reads != reads {
					t.Errorf("schema %d, sums %v, %s: %d histograms read, want %d", classic, sums, what, src.reads, reads)
				}
				if full := cl.full; sums && full != 0 && !strings.HasPrefix(what, "another window") {
					t.Errorf("schema %d, %s: %d histograms read whole", classic, what, full)
				}
			}
			check("as built", len(fs))
			check("unchanged", 0)
			fs[0].groups[0].H = *randomHistogram(rng, 6, -1407, 300)
			check("one changed", 1)
			check("unchanged again", 0)

			// The writer updated the histogram twice: the summary was read
			// between the two, the buckets after. Written as read, but not
			// kept for the summary's count.
			src.said[[2]int{1, 0}] = [2]float64{float64(fs[1].groups[0].H.Count + 1), 12.5}
			fs[1].groups[0].H = *randomHistogram(rng, 6, -1406, 300)
			check("summary older than the buckets", 1)
			delete(src.said, [2]int{1, 0})
			check("the summary caught up", 1)
			check("unchanged after", 0)

			fs[2].groups[0].H = *randomHistogram(rng, 6, -1000, 77)
			check("another window", 1)
			check("another window, again", 1) // not kept: its bounds are not the Set's

			// A crafted file: other buckets, the same count and sum.
			var before bytes.Buffer
			fs.set(classic).WriteTo(&before)
			counts := fs[0].groups[0].H.Counts
			k := slices.IndexFunc(counts, func(c uint64) bool { return c > 0 })
			counts[k]--
			counts[len(counts)-1]++
			src.reads = 0
			if got := plan.Append(nil, s); !bytes.Equal(got, before.Bytes()) || src.reads != 1 {
				t.Errorf("schema %d, sums %v: buckets changed under the same count: %d read, and the text is not the last one", classic, sums, src.reads)
			}

			buf := make([]byte, 0, 1<<20)
			if n := testing.AllocsPerRun(20, func() { buf = plan.Append(buf[:0], s) }); n != 0 {
				t.Errorf("schema %d, sums %v: Append: %v allocations", classic, sums, n)
			}
		}
	}
}
