package prom_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil/promfile"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// timerFile is a file of the real writer with one Timer of the default
// range (2^-22 s to 256 s), read back: its stats and its histogram group.
type timerFile struct {
	path   string
	stats  []reader.Stat
	groups []prom.Group
}

// writeTimerFile writes a file named name in dir whose Timer observed
// n durations around median (log-normal), one below its range and one
// above, and reads it back. n = 0 leaves the Timer empty.
func writeTimerFile(t *testing.T, dir, name string, seed uint64, n int, median float64) timerFile {
	t.Helper()
	var s struct {
		Lat mmstats.Timer `mmstats:"lat,windows=none"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: name})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for range n {
		s.Lat.Observe(time.Duration(median * math.Exp(1.2*rng.NormFloat64()) * 1e9))
	}
	if n > 0 {
		s.Lat.Observe(100 * time.Nanosecond) // below 2^-22 s
		s.Lat.Observe(300 * time.Second)     // above 256 s
	}
	f.Refresh()
	stats, groups := promfile.Read(t, f.Path())
	if len(groups) != 1 {
		t.Fatalf("%d groups, want 1", len(groups))
	}
	return timerFile{f.Path(), stats, groups}
}

// buckets returns the classic buckets of the text's histogram metric
// name, by file label: le (as written) → cumulative count, +Inf
// included, and the le in the order written.
func buckets(t *testing.T, text, name string) (map[string]map[string]uint64, map[string][]string) {
	t.Helper()
	byFile, order := map[string]map[string]uint64{}, map[string][]string{}
	for line := range strings.SplitSeq(text, "\n") {
		if !strings.HasPrefix(line, name+"_bucket{") {
			continue
		}
		labels, value, _ := strings.Cut(line[len(name+"_bucket{"):], "} ")
		var file, le string
		for l := range strings.SplitSeq(labels, ",") {
			k, v, _ := strings.Cut(l, "=")
			v, _ = strconv.Unquote(v)
			switch k {
			case "file":
				file = v
			case "le":
				le = v
			}
		}
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if byFile[file] == nil {
			byFile[file] = map[string]uint64{}
		}
		byFile[file][le] = n
		order[file] = append(order[file], le)
	}
	return byFile, order
}

// TestTimerClassicBuckets: a Timer of the default range (30 powers of
// two) has 30·2^n+1 classic bounds at schema n, and +Inf: 32 _bucket
// lines at the default schema 0, 242 at 3. Each count is the writer's:
// its underflow and every bucket at or below the bound.
func TestTimerClassicBuckets(t *testing.T) {
	tf := writeTimerFile(t, t.TempDir(), "w.mmstats", 1, 5000, 0.003)
	h := &tf.groups[0].H
	for classic, want := range map[prom.ClassicSchema]int{0: 32, 1: 62, 2: 122, 3: 242} {
		set := prom.Set{Classic: classic}
		set.AddFileGroups(tf.path, "", tf.stats, tf.groups)
		var text bytes.Buffer
		set.WriteTo(&text)
		byFile, order := buckets(t, text.String(), "mmstats_lat_seconds")
		les := order["w.mmstats"]
		if len(les) != want {
			t.Errorf("schema %d: %d _bucket lines, want %d", classic, len(les), want)
		}
		for _, le := range les {
			bound, err := strconv.ParseFloat(le, 64)
			if err != nil {
				t.Fatalf("schema %d: le %q: %v", classic, le, err)
			}
			var exact uint64
			if math.IsInf(bound, 1) {
				exact = h.Total()
			} else {
				if k := math.Log2(bound) * float64(int(1)<<classic); math.Abs(k-math.Round(k)) > 1e-9 {
					t.Errorf("schema %d: le %q is not a bound of schema %d", classic, le, classic)
				}
				exact = h.Underflow
				for k, n := range h.Counts {
					if _, upper := h.BucketBounds(h.Lo + k); upper <= bound {
						exact += n
					}
				}
			}
			if got := byFile["w.mmstats"][le]; got != exact {
				t.Errorf("schema %d: le=%q counts %d, the writer's buckets %d", classic, le, got, exact)
			}
		}
		if classic == prom.DefaultClassicSchema && (les[0] != "2.384185791015625e-07" || les[len(les)-2] != "256") {
			t.Errorf("schema 0: bounds %s to %s, want 2^-22 to 2^8", les[0], les[len(les)-2])
		}
	}
}

// TestClassicBucketsSumByLe: at every schema, sum by (le) of the
// classic buckets of several files (one of them empty: the bounds are
// there all the same) is the classic buckets of their merged histogram,
// as pkg/aggregate merges it; and every file has the same bounds.
func TestClassicBucketsSumByLe(t *testing.T) {
	dir := t.TempDir()
	files := []timerFile{
		writeTimerFile(t, dir, "a.mmstats", 2, 3000, 0.002),
		writeTimerFile(t, dir, "b.mmstats", 3, 2000, 0.5),
		writeTimerFile(t, dir, "c.mmstats", 4, 0, 0),
	}
	var merged reader.Histogram
	for _, f := range files {
		if err := merged.Merge(&f.groups[0].H); err != nil {
			t.Fatal(err)
		}
	}
	for classic := range prom.MaxClassicSchema + 1 {
		set := prom.Set{Classic: classic}
		for _, f := range files {
			set.AddFileGroups(f.path, "", f.stats, f.groups)
		}
		var text bytes.Buffer
		set.WriteTo(&text)
		byFile, order := buckets(t, text.String(), "mmstats_lat_seconds")
		sum := map[string]uint64{}
		for name, bs := range byFile {
			if !slices.Equal(order[name], order["a.mmstats"]) {
				t.Errorf("schema %d: %s has the bounds %v, a.mmstats %v", classic, name, order[name], order["a.mmstats"])
			}
			for le, n := range bs {
				sum[le] += n
			}
		}
		one := prom.Set{Classic: classic}
		one.AddHistogram("m", "merged", nil, &merged)
		var mtext bytes.Buffer
		one.WriteTo(&mtext)
		want, worder := buckets(t, mtext.String(), "m")
		if len(sum) != len(want[""]) || len(worder[""]) != len(order["a.mmstats"]) {
			t.Errorf("schema %d: %d bounds summed, the merged histogram has %d", classic, len(sum), len(want[""]))
		}
		for le, n := range want[""] {
			if sum[le] != n {
				t.Errorf("schema %d: sum by (le) at le=%q is %d, the merged histogram's %d", classic, le, sum[le], n)
			}
		}
	}
}

// TestClassicSchemaFlag: --classic-schema takes 0 to 3, and says what
// it takes otherwise.
func TestClassicSchemaFlag(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		want prom.ClassicSchema
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"2", 2, true}, {"3", 3, true},
		{"4", 0, false}, {"-1", 0, false}, {"", 0, false}, {"x", 0, false}, {"1.5", 0, false}, {" 1", 0, false},
	} {
		var c prom.ClassicSchema
		err := c.Set(tt.arg)
		if (err == nil) != tt.ok || c != tt.want {
			t.Errorf("Set(%q): %v, %v", tt.arg, c, err)
		}
		if err != nil && !strings.Contains(err.Error(), "must be 0, 1, 2 or 3") {
			t.Errorf("Set(%q): %v", tt.arg, err)
		}
		if tt.ok && c.String() != tt.arg {
			t.Errorf("Set(%q).String() = %q", tt.arg, c.String())
		}
	}
}

// TestClassicBucketsOfTheProtobufFormat: the classic buckets of the
// protobuf format follow the schema as the text's do; the native
// histogram stays the writer's (schema 6).
func TestClassicBucketsOfTheProtobufFormat(t *testing.T) {
	tf := writeTimerFile(t, t.TempDir(), "w.mmstats", 5, 1000, 0.01)
	for classic := range prom.MaxClassicSchema + 1 {
		set := prom.Set{Classic: classic}
		set.AddFileGroups(tf.path, "", tf.stats, tf.groups)
		var text, pb bytes.Buffer
		set.WriteTo(&text)
		set.WriteProto(&pb)
		th := promtest.Parse(t, text.String())["mmstats_lat_seconds"].GetMetric()[0].GetHistogram()
		ph := promtest.ParseProto(t, pb.Bytes())["mmstats_lat_seconds"].GetMetric()[0].GetHistogram()
		if got, want := bucketText(ph), bucketText(th); got != want {
			t.Errorf("schema %d: protobuf classic buckets\n%s\ntext\n%s", classic, got, want)
		}
		if len(ph.GetBucket()) != 30<<classic+1 || ph.GetSchema() != 6 {
			t.Errorf("schema %d: %d classic buckets, native schema %d", classic, len(ph.GetBucket()), ph.GetSchema())
		}
	}
}

// bucketText is the classic buckets of h but +Inf (which the text
// parser makes a bucket and the protobuf format leaves implicit).
func bucketText(h *dto.Histogram) string {
	var b strings.Builder
	for _, bk := range h.GetBucket() {
		if math.IsInf(bk.GetUpperBound(), 1) {
			continue
		}
		fmt.Fprintf(&b, "%v %d\n", bk.GetUpperBound(), bk.GetCumulativeCount())
	}
	return b.String()
}
