//go:build linux || darwin || freebsd

package mmstats_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// foldModel has a counter, a gauge and a histogram.
type foldModel struct {
	Requests mmstats.Counter   `mmstats:"requests"`
	InFlight mmstats.Int32     `mmstats:"inflight"`
	Sizes    mmstats.Histogram `mmstats:"sizes,unit=bytes,windows=none"`
}

// totalsName is the totals file of the default template in this test
// binary.
func totalsName() string { return filepath.Base(os.Args[0]) + "-totals.mmstats" }

// names returns the names in dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestRemoveFolds: a File removed with the default template (a file per
// process) is folded into the totals file of its directory, whose name
// is the template's with {PID} made "totals" and {TID} dropped; its
// counters and histogram add up over lifetimes, its gauges are not
// folded, and nothing is left but the totals file.
// A File closed before Remove is folded too.
func TestRemoveFolds(t *testing.T) {
	dir := t.TempDir()
	for k := 1; k <= 3; k++ {
		var m foldModel
		f, err := mmstats.New(&m, mmstats.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, f.Path())
		if s := got["sys.totals"]; s.Value.Str() != totalsName() || s.Meta.Kind != reader.KindInfo {
			t.Errorf("sys.totals = %q (%+v), want %q", s.Value.Str(), s.Meta, totalsName())
		}
		m.Requests.Add(uint64(10 * k))
		m.InFlight.Set(1)
		m.Sizes.Observe(float64(100 * k))
		if k == 2 {
			f.Close() // Remove after Close folds too
		}
		if err := f.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{totalsName()}) {
		t.Fatalf("left in the directory: %q", got)
	}
	got := readAll(t, filepath.Join(dir, totalsName()))
	if got["requests"].Value.Uint() != 60 || got["sizes.count"].Value.Uint() != 3 ||
		got["sizes.sum"].Value.Float() != 600 || got["sizes.max"].Value.Float() != 300 {
		t.Errorf("totals: requests %v, sizes.count %v, sizes.sum %v, sizes.max %v; want 60, 3, 600, 300",
			got["requests"].Value, got["sizes.count"].Value, got["sizes.sum"].Value, got["sizes.max"].Value)
	}
	if _, ok := got["inflight"]; ok {
		t.Error("a gauge was folded")
	}
	if _, ok := got["sys.pid"]; ok {
		t.Error("the totals file has a sys.pid: cleanstats would judge it")
	}
}

// TestCloseDoesNotFold: Close leaves the file for a final read (and for
// cleanstats, which folds it); nothing is folded yet.
func TestCloseDoesNotFold(t *testing.T) {
	dir := t.TempDir()
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := names(t, dir); !slices.Equal(got, []string{filepath.Base(f.Path())}) {
		t.Errorf("after Close: %q", got)
	}
	f.Remove()
}

// TestNoFoldWithoutPID: a template without {PID} is one file for the
// program, not per process: it has no sys.totals and Remove deletes it
// without folding.
func TestNoFoldWithoutPID(t *testing.T) {
	dir := t.TempDir()
	var m foldModel
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "{CMD}.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := readAll(t, f.Path())["sys.totals"]; ok {
		t.Error("sys.totals in a file that is not per process")
	}
	m.Requests.Inc()
	if err := f.Remove(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("left: %q", got)
	}
}

// TestRemoveKeepsWhatItCannotFold: when the totals file's name holds
// another kind of file, Remove folds nothing into it, keeps the file
// (for cleanstats to report) and says why.
func TestRemoveKeepsWhatItCannotFold(t *testing.T) {
	dir := t.TempDir()
	other, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: totalsName()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Remove()
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(); !errors.Is(err, fold.ErrNotTotals) {
		t.Errorf("Remove = %v, want ErrNotTotals", err)
	}
	if _, err := os.Stat(f.Path()); err != nil {
		t.Errorf("the file that could not be folded is gone: %v", err)
	}
	os.Remove(f.Path())
}

// TestFileIDs: every file has its own random sys.id, which survives
// growth (it names the file in folding; its inode changes).
func TestFileIDs(t *testing.T) {
	dir := t.TempDir()
	seen := map[uint64]bool{}
	for i := range 20 {
		f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("f%d-{PID}.mmstats", i)})
		if err != nil {
			t.Fatal(err)
		}
		id := readAll(t, f.Path())["sys.id"].Value.Uint()
		if id == 0 || seen[id] {
			t.Fatalf("sys.id %x: zero or seen before", id)
		}
		seen[id] = true
		if i == 0 {
			before, _ := os.Stat(f.Path())
			for j := range 300 {
				var c mmstats.Counter
				if err := f.Add("grow."+strconv.Itoa(j)+strings.Repeat("x", 40), &c); err != nil {
					t.Fatal(err)
				}
			}
			after, _ := os.Stat(f.Path())
			if os.SameFile(before, after) {
				t.Fatal("the file did not grow into a new one")
			}
			if now := readAll(t, f.Path())["sys.id"].Value.Uint(); now != id {
				t.Errorf("sys.id %x after growth, %x before", now, id)
			}
		}
		f.Close()
		os.Remove(f.Path())
	}
}

// TestPIDInInitialNamespace: in the initial PID namespace {PID} is the
// plain PID, as before (TestFoldAcrossPIDNamespaces, cmd/cleanstats,
// runs writers in others).
func TestPIDInInitialNamespace(t *testing.T) {
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil || link != "pid:[4026531836]" {
		t.Skipf("not in the initial PID namespace (%q, %v)", link, err)
	}
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir(), Filename: "x-{PID}.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if want := "x-" + strconv.Itoa(os.Getpid()) + ".mmstats"; filepath.Base(f.Path()) != want {
		t.Errorf("name %s, want %s", filepath.Base(f.Path()), want)
	}
}

// TestRemoveFoldsRuntimeStats: a file with Options.Runtime folds the Go
// runtime's counters and histograms (their buckets merge as any
// histogram's), not its gauges.
func TestRemoveFoldsRuntimeStats(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Runtime: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, totalsName())
	got := readAll(t, path)
	if s, ok := got["go.gc.cycles.total"]; !ok || s.Meta.Kind != reader.KindCounter {
		t.Errorf("go.gc.cycles.total: %+v (found %v), want a folded counter", s, ok)
	}
	if _, ok := got["go.sched.goroutines"]; ok {
		t.Error("a runtime gauge was folded")
	}
	r, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	i, _, ok := r.Lookup("go.sched.latencies")
	if !ok {
		t.Fatal("no go.sched.latencies in the totals file")
	}
	var h reader.Histogram
	if err := r.ReadHistogram(i, &h); err != nil || h.Count != h.Total() || h.Count == 0 {
		t.Errorf("go.sched.latencies: %v, count %d, buckets %d", err, h.Count, h.Total())
	}
}
