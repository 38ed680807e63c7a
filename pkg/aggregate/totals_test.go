//go:build linux || darwin || freebsd

package aggregate_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/internal/testutil/foldtest"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// lifetime is one writer's file in dir: n requests, n latencies, one in
// flight (foldtest's model). Closed, it is a dead writer's file; open, a
// live one's.
type lifetime struct {
	path string
}

func newLifetime(t *testing.T, dir string, n int, closed bool) lifetime {
	t.Helper()
	if closed {
		return lifetime{path: foldtest.Lifetime(t, dir, n)}
	}
	var m foldtest.Model
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "app-{PID}-{TID}.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	m.Requests.Add(uint64(n))
	m.InFlight.Set(1)
	for i := range n {
		m.Lat.Observe(time.Duration(i+1) * time.Millisecond)
	}
	f.Refresh()
	t.Cleanup(func() { f.Close() })
	return lifetime{path: f.Path()}
}

// openAll opens the *.mmstats files of dir, as a tool given the
// directory does.
func openAll(t *testing.T, dir string) []*reader.File {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.mmstats"))
	var files []*reader.File
	for _, p := range paths {
		f, err := reader.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		files = append(files, f)
	}
	return files
}

// read aggregates files with AddFiles and returns the total of
// requests, the merged count of lat, and what AddFiles said.
func read(t *testing.T, files []*reader.File) (requests, lat uint64, r aggregate.Reading) {
	t.Helper()
	var a aggregate.Accumulator
	r, err := a.AddFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot, ok := a.Total("requests"); ok {
		requests = tot.Value.Uint()
	}
	if h := a.Histogram("lat"); h != nil {
		lat = h.Count
	}
	return requests, lat, r
}

// TestReadingOrder: the cases of a reading while files are folded
// (DESIGN-14, "Readers"): each value counts once, and none drops.
func TestReadingOrder(t *testing.T) {
	t.Run("a dead file not yet folded counts", func(t *testing.T) {
		dir := t.TempDir()
		newLifetime(t, dir, 10, true)
		if req, lat, _ := read(t, openAll(t, dir)); req != 10 || lat != 10 {
			t.Errorf("requests %d, lat count %d; want 10, 10", req, lat)
		}
	})
	t.Run("a folded and removed file counts in the totals", func(t *testing.T) {
		dir := t.TempDir()
		foldtest.Fold(t, newLifetime(t, dir, 10, true).path, true)
		req, lat, r := read(t, openAll(t, dir))
		if req != 10 || lat != 10 || len(r.Totals) != 1 {
			t.Errorf("requests %d, lat count %d, totals %q; want 10, 10 from one totals file", req, lat, r.Totals)
		}
	})
	t.Run("a file folded and not yet removed is left out", func(t *testing.T) {
		dir := t.TempDir()
		x := newLifetime(t, dir, 10, true)
		foldtest.Fold(t, x.path, false)
		req, lat, r := read(t, openAll(t, dir))
		if req != 10 || lat != 10 || len(r.Folded) != 1 || r.Folded[0].Path() != x.path {
			t.Errorf("requests %d, lat count %d, left out %d files; want 10, 10, and %s left out", req, lat, len(r.Folded), x.path)
		}
	})
	t.Run("totals, dead and live files add up", func(t *testing.T) {
		dir := t.TempDir()
		foldtest.Fold(t, newLifetime(t, dir, 10, true).path, true)
		foldtest.Fold(t, newLifetime(t, dir, 20, true).path, true)
		newLifetime(t, dir, 40, true)  // dead, not folded yet
		newLifetime(t, dir, 80, false) // live
		var a aggregate.Accumulator
		if _, err := a.AddFiles(openAll(t, dir), nil); err != nil {
			t.Fatal(err)
		}
		if tot, _ := a.Total("requests"); tot.Value.Uint() != 150 {
			t.Errorf("requests = %v, want 150", tot.Value)
		}
		// Gauges are not folded: only the files of live and dead
		// writers not folded yet have one.
		if tot, _ := a.Total("inflight"); tot.Value.Int() != 2 || tot.Files != 2 {
			t.Errorf("inflight = %v over %d files, want 2 over 2", tot.Value, tot.Files)
		}
		if h := a.Histogram("lat"); h == nil || h.Count != 150 || h.Max != 0.08 {
			t.Errorf("merged lat: %+v, want 150 values up to 0.08 s", h)
		}
	})
	t.Run("a file folded while the reading opens the files counts once", func(t *testing.T) {
		dir := t.TempDir()
		foldtest.Fold(t, newLifetime(t, dir, 10, true).path, true)
		x := newLifetime(t, dir, 20, true)
		files := openAll(t, dir) // the old totals file, and x
		foldtest.Fold(t, x.path, true)
		// A reading that took the totals file as it was opened counts
		// x once too (from its mapping, the totals file not holding it):
		// the danger is the other way round, next.
		if req, _, r := read(t, files); req != 30 || len(r.Folded) != 1 {
			t.Errorf("requests %d, %d left out; want 30, x left out (the totals file opened again holds it)", req, len(r.Folded))
		}
	})
	t.Run("a file folded and removed after the totals file was opened counts", func(t *testing.T) {
		dir := t.TempDir()
		foldtest.Fold(t, newLifetime(t, dir, 10, true).path, true)
		files := openAll(t, dir) // the totals file only
		x := newLifetime(t, dir, 20, true)
		foldtest.Fold(t, x.path, true) // x came and went: only the totals hold it
		var naive aggregate.Accumulator
		for _, f := range files {
			naive.AddFile(f)
		}
		if tot, _ := naive.Total("requests"); tot.Value.Uint() != 10 {
			t.Fatalf("the totals file as first opened says %v", tot.Value)
		}
		if req, _, _ := read(t, files); req != 30 {
			t.Errorf("requests %d, want 30: AddFiles reads the totals file again", req)
		}
	})
	t.Run("a file folded and removed while the reading holds it counts once, other folds after", func(t *testing.T) {
		dir := t.TempDir()
		foldtest.Fold(t, newLifetime(t, dir, 1, true).path, true)
		x := newLifetime(t, dir, 10, true)
		files := openAll(t, dir) // the totals file, and x before its fold
		foldtest.Fold(t, x.path, true)
		// More folds after x's removal: sys.folded still lists x (the
		// fold.KeepGone files folded last), or the reading would count
		// x in its mapping and in the totals file.
		for range fold.KeepGone - 1 {
			foldtest.Fold(t, newLifetime(t, dir, 1, true).path, true)
		}
		if req, _, r := read(t, files); req != 11+fold.KeepGone-1 || len(r.Folded) != 1 {
			t.Errorf("requests %d, %d left out; want %d, x left out", req, len(r.Folded), 11+fold.KeepGone-1)
		}
	})
}

func TestTotalsFileIdentity(t *testing.T) {
	dir := t.TempDir()
	x := newLifetime(t, dir, 1, true)
	f, err := reader.Open(x.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, ok := aggregate.FileID(f)
	if !ok || id == 0 || aggregate.IsTotals(f) {
		t.Fatalf("a stats file: FileID %x, %v, IsTotals %v", id, ok, aggregate.IsTotals(f))
	}
	var s aggregate.Folded
	if err := s.Add(f); !errors.Is(err, aggregate.ErrNotTotals) {
		t.Errorf("Folded.Add(a stats file) = %v", err)
	}
	foldtest.Fold(t, x.path, false)
	totals, err := reader.Open(filepath.Join(dir, "app-totals.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	defer totals.Close()
	if !aggregate.IsTotals(totals) {
		t.Fatal("the totals file is not IsTotals")
	}
	if _, ok := aggregate.FileID(totals); ok {
		t.Error("a totals file has a sys.id")
	}
	if err := s.Add(totals); err != nil || s.Len() != 1 || !s.Has(id) || !s.Holds(f) {
		t.Errorf("Folded after the totals file: %v, %d files, holds x %v", err, s.Len(), s.Holds(f))
	}
	s.Reset()
	if s.Len() != 0 || s.Holds(f) {
		t.Error("Reset left files in the set")
	}
}

// TestArrange: the order for a tool that feeds only some labels: stats
// files first, without the folded ones, then the totals files, opened
// again (with the tool's own open).
func TestArrange(t *testing.T) {
	dir := t.TempDir()
	foldtest.Fold(t, newLifetime(t, dir, 10, true).path, true)
	x := newLifetime(t, dir, 20, true)
	foldtest.Fold(t, x.path, false) // folded, not removed
	y := newLifetime(t, dir, 40, true)
	files := openAll(t, dir)
	opened := 0
	arr, err := aggregate.Arrange(files, func(path string) (*reader.File, error) {
		opened++
		return reader.Open(path)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Close()
	if len(arr.Stats) != 1 || arr.Stats[0].Path() != y.path || len(arr.Folded) != 1 || arr.Folded[0].Path() != x.path ||
		len(arr.Totals) != 1 || opened != 1 || filepath.Base(arr.Totals[0].Path()) != "app-totals.mmstats" {
		t.Fatalf("stats %d, folded %d, totals %d (opened %d)", len(arr.Stats), len(arr.Folded), len(arr.Totals), opened)
	}
	var a aggregate.Accumulator
	for _, f := range append(arr.Stats, arr.Totals...) {
		a.Begin(f.Path())
		i, _, ok := f.Lookup("requests")
		if !ok {
			t.Fatalf("%s: no requests", f.Path())
		}
		v, _ := f.Value(i)
		a.Add(&reader.Stat{Label: "requests", Value: v, Meta: reader.Meta{Kind: reader.KindCounter}})
		a.End()
	}
	if tot, _ := a.Total("requests"); tot.Value.Uint() != 70 {
		t.Errorf("requests %v, want 70", tot.Value)
	}
}
