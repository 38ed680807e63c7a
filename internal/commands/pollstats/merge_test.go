//go:build unix

package pollstats

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// policyStats is a model whose fields combine by every policy.
type policyStats struct {
	Lat  mmstats.Timer   `mmstats:"lat,windows=10s"`
	Reqs mmstats.Counter `mmstats:"reqs"`
	Peak mmstats.Int32   `mmstats:"peak,aggr=max"`
	Low  mmstats.Float64 `mmstats:"low,aggr=min"`
	Mean mmstats.Float64 `mmstats:"mean,aggr=avg"`
	Last mmstats.Uint64  `mmstats:"last,aggr=latest"`
	Seen mmstats.Float64 `mmstats:"seen,kind=timestamp,unit=seconds"`
	Mine mmstats.Uint32  `mmstats:"mine,aggr=none"`
	Ver  mmstats.Uint32  `mmstats:"ver,aggr=none"`
}

// newPolicyFile creates dir/name, created after the files before it.
func newPolicyFile(t *testing.T, dir, name string) (*policyStats, *mmstats.File) {
	t.Helper()
	s := new(policyStats)
	f, err := mmstats.New(s, mmstats.Options{Dir: dir, Filename: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	time.Sleep(2 * time.Millisecond) // sys.created tells them apart
	return s, f
}

// published returns the value of label in the file at path.
func published(t *testing.T, path, label string) float64 {
	t.Helper()
	stats, err := reader.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Label == label {
			return s.Value.Float()
		}
	}
	t.Fatalf("%s has no %s", path, label)
	return 0
}

// bucketError is the documented error of a percentile from the merged
// buckets: half a schema-6 bucket, 2^(1/128)-1 = 0.54%.
var bucketError = math.Exp2(1.0/128) - 1

// exactQuantile returns the value of rank ceil(q·n) of sorted values.
func exactQuantile(sorted []float64, q float64) float64 {
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

// TestColumnsCombineByPolicy: each column combines the files by its
// field's policy: percentiles from the merged buckets (those of all the
// values together, not a sum of the files' percentiles), the main stat
// of a timer weighted by the counts, max, min, mean, latest (by
// sys.created; a timestamp's largest), and an info field shown only when
// every file has the same value. Counters still add up their changes.
func TestColumnsCombineByPolicy(t *testing.T) {
	dir := t.TempDir()
	var pooled []float64
	var ownP99 []float64
	var files []*policyStats
	for i, n := range []int{100, 300, 50} {
		s, f := newPolicyFile(t, dir, fmt.Sprintf("%c.mmstats", 'a'+i))
		for k := 1; k <= n; k++ {
			d := time.Duration(k*(i+1)*(i+1)) * time.Millisecond // 1-100 ms, 4-1200 ms, 9-450 ms
			s.Lat.Observe(d)
			pooled = append(pooled, float64(d)/1e9)
		}
		s.Peak.Set(int32(10 * (i + 1)))
		s.Low.Set(float64(5 - i))
		s.Mean.Set(float64(i))
		s.Last.Set(uint64(100 + i))
		s.Seen.Set(1.8e9 + float64([]int{7, 9, 8}[i]))
		s.Mine.Set(uint32(4000 + i))
		s.Ver.Set(3)
		f.Refresh()
		files = append(files, s)
		ownP99 = append(ownP99, published(t, f.Path(), "lat.p99"))
	}
	slices.Sort(pooled)
	h := newHarness(t, func() { files[0].Reqs.Add(2); files[2].Reqs.Add(5) })
	fields := "lat.p50,lat.p99,lat,reqs,peak,low,mean,last,seen,ver,mine"
	if code := h.run("-v", "-c", "1", fields, dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	lines := h.lines()
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), ",") != fields {
		t.Fatalf("want a header and a line:\n%s", h.out.String())
	}
	got := strings.Fields(lines[1])
	num := func(i int) float64 {
		v, err := strconv.ParseFloat(got[i], 64)
		if err != nil {
			t.Fatalf("%s: %q is not a number", strings.Split(fields, ",")[i], got[i])
		}
		return v
	}
	for i, q := range []float64{0.5, 0.99} {
		exact := exactQuantile(pooled, q)
		if rel := math.Abs(num(i)-exact) / exact; rel > bucketError+1e-5 {
			t.Errorf("p%v = %v, exact %v of the pooled values: %.3f%% off", q*100, num(i), exact, 100*rel)
		}
	}
	if p99, lo, hi := num(1), slices.Min(ownP99), slices.Max(ownP99); p99 < lo || p99 > hi {
		t.Errorf("p99 %v outside the files' own [%v, %v]", p99, lo, hi)
	}
	var wsum, wtot float64
	for _, s := range files {
		c := float64(s.Lat.Count())
		wsum, wtot = wsum+s.Lat.Value()*c, wtot+c
	}
	if mean := num(2); math.Abs(mean-wsum/wtot) > 1e-5*mean {
		t.Errorf("lat = %v, want the mean weighted by count, %v", mean, wsum/wtot)
	}
	want := []string{"7", "30", "3", "1", "102", "1800000009", "3", "-"}
	if !slices.Equal(got[3:], want) {
		t.Errorf("reqs,peak,low,mean,last,seen,ver,mine = %q, want %q", got[3:], want)
	}
	if msg := "mine differs between files and is not combined"; !strings.Contains(h.err.String(), msg) {
		t.Errorf("stderr %q does not say %q", h.err.String(), msg)
	}
}

// TestPercentilesWithoutBuckets: a file whose percentile has no buckets
// (a group without them, here a crafted one) leaves the merge with the
// others'; files without metadata (Python's) sum, as before.
func TestFilesWithoutMetadataSum(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.mmstats")
	b := filepath.Join(dir, "b.mmstats")
	v1file.Write(t, a, v1file.Unbuffered("lat.p99", "d", v1file.F64(0.25)), v1file.Unbuffered("sys.pid", "Q", v1file.U64(7)))
	v1file.Write(t, b, v1file.Unbuffered("lat.p99", "d", v1file.F64(0.5)), v1file.Unbuffered("sys.pid", "Q", v1file.U64(8)))
	h := newHarness(t)
	if code := h.run("-a", "-c", "1", "lat.p99,sys.pid", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{0.75, 15}})
}

// TestEach: --each prints a row per file, sorted by PID (files without
// one last, by name), labelled with it; counters show the file's own
// change, gauges its value. Piped, the rows follow each other; on a
// terminal a blank line separates the intervals.
func TestEach(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, pid, n uint64) { // in place, as a writer
		fields := []v1file.Field{v1file.Unbuffered("reqs", "Q", v1file.U64(n))}
		if pid > 0 {
			fields = append(fields, v1file.Unbuffered("app.sys.pid", "Q", v1file.U64(pid)))
		}
		v1file.Write(t, filepath.Join(dir, name), fields...)
	}
	step := func() {
		write("a.mmstats", 300, 13)
		write("b.mmstats", 20, 101)
		write("c.mmstats", 0, 1005)
	}
	for _, term := range []bool{false, true} {
		write("a.mmstats", 300, 10)
		write("b.mmstats", 20, 100)
		write("c.mmstats", 0, 1000)
		h := newHarness(t, step, func() {})
		h.term, h.width = term, 80
		if code := h.run("--each", "-c", "2", "reqs", dir); code != 0 {
			t.Fatalf("exit %d: %s", code, h.err.String())
		}
		want := []string{"      pid   reqs", "       20      1", "      300      3", "c.mmstats      5",
			"       20      0", "      300      0", "c.mmstats      0"}
		if term {
			want = slices.Insert(want, 4, "")
		} else {
			want[0] = "  pid   reqs" // printed before the values widened the column
		}
		if got := h.lines(); !slices.Equal(got, want) {
			t.Errorf("terminal %v: got\n%s\nwant\n%s", term, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestEachShowsOwnValues: with --each, a file's percentiles and policies
// are its own: no merging.
func TestEachShowsOwnValues(t *testing.T) {
	dir := t.TempDir()
	var want [][]float64
	for i := range 3 {
		s, f := newPolicyFile(t, dir, fmt.Sprintf("%c.mmstats", 'a'+i))
		for k := 1; k <= 100; k++ {
			s.Lat.Observe(time.Duration(k*(i+1)) * time.Millisecond)
		}
		s.Peak.Set(int32(i))
		f.Refresh()
		p, _ := strconv.ParseFloat(string(appendFloat(nil, published(t, f.Path(), "lat.p99"))), 64)
		want = append(want, []float64{p, float64(i)})
	}
	h := newHarness(t)
	if code := h.run("-e", "-c", "1", "lat.p99,peak", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	var got [][]float64
	for _, r := range h.rows(t) {
		got = append(got, r[1:]) // after the PID, the same in each file of this process
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows %v, want each file's own %v:\n%s", got, want, h.out.String())
	}
}

// TestTimestampsShowAges: on a terminal a timestamp shows as its age;
// piped, as seconds since the epoch.
func TestTimestampsShowAges(t *testing.T) {
	dir := t.TempDir()
	s, _ := newPolicyFile(t, dir, "a.mmstats")
	s.Seen.Set(float64(time.Now().Add(-5*time.Minute).UnixNano()) / 1e9)
	for _, tt := range []struct {
		term bool
		want *regexp.Regexp
	}{{false, regexp.MustCompile(`^1[0-9]{9}$`)}, {true, regexp.MustCompile(`^5\.0m$`)}} {
		h := newHarness(t)
		h.term, h.width = tt.term, 80
		if code := h.run("-c", "1", "seen", dir); code != 0 {
			t.Fatalf("exit %d: %s", code, h.err.String())
		}
		if l := h.lines(); len(l) != 2 || !tt.want.MatchString(strings.TrimSpace(l[1])) {
			t.Errorf("terminal %v: %q, want %v", tt.term, l, tt.want)
		}
	}
}

// TestIntervalAllocatesNothingPerFile: once warm, an interval with
// merged percentiles and other policies allocates no more for 30 files
// than for 3: nothing per file.
func TestIntervalAllocatesNothingPerFile(t *testing.T) {
	allocs := func(n int) float64 {
		dir := t.TempDir()
		for i := range n {
			s, f := newPolicyFile(t, dir, fmt.Sprintf("f%02d.mmstats", i))
			s.Lat.Observe(time.Duration(i+1) * time.Millisecond)
			f.Refresh()
		}
		o := &Options{Fields: strings.Split("lat.p50,lat.p99,lat,reqs,peak,last,seen", ","), Args: []string{dir}, Delay: time.Second}
		p := quietPoller(t, o)
		v := newView(o, p)
		now := time.Now().Add(2 * racyWindow)
		for range 3 {
			v.line(now)
		}
		return testing.AllocsPerRun(20, func() { v.line(now) })
	}
	if few, many := allocs(3), allocs(30); many > few {
		t.Errorf("%v allocations per interval over 30 files, %v over 3", many, few)
	}
}

// TestPercentileWithoutBuckets: a file whose percentile field says it
// comes from merged buckets but has none (a crafted file) is left out of
// the merge, warned once; the others' percentile shows, and the
// interval goes on.
func TestPercentileWithoutBuckets(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		s, f := newPolicyFile(t, dir, fmt.Sprintf("%c.mmstats", 'a'+i))
		for k := 1; k <= 100; k++ {
			s.Lat.Observe(time.Duration(k*(i+1)) * time.Millisecond)
		}
		f.Refresh()
	}
	h := newHarness(t)
	if code := h.run("-c", "1", "lat.p99", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	want := h.lines()[1]

	meta, _ := v1.EncodeMeta(v1.Meta{Kind: 2, Aggr: v1.MaxAggr}) // a gauge, quantile
	crafted := v1file.Write(t, filepath.Join(dir, "z.mmstats"), v1file.Unbuffered("lat.p99", string(meta)+"d", v1file.F64(1e6)))
	h = newHarness(t, func() {})
	if code := h.run("-v", "-c", "2", "lat.p99", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if l := h.lines(); len(l) != 3 || l[1] != want || l[2] != want {
		t.Errorf("lines %q, want the two files' p99 %q", l, want)
	}
	if msg := crafted + ": lat: "; strings.Count(h.err.String(), msg) != 1 {
		t.Errorf("stderr %q, want one warning about %s", h.err.String(), crafted)
	}
}
