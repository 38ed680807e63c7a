//go:build unix

package pollstats

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil/foldtest"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// liveWriter starts a writer of foldtest's model whose file folds into
// foldtest.Totals when it is removed, with n requests counted.
func liveWriter(t *testing.T, dir string, n int) (*foldtest.Model, *mmstats.File) {
	t.Helper()
	m := new(foldtest.Model)
	f, err := mmstats.New(m, mmstats.Options{Dir: dir, Filename: "app-{PID}-{TID}.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m.Requests.Add(uint64(n))
	return m, f
}

// A worker that exits cleanly folds itself into the totals file: what it
// counted after pollstats last read it shows in the next line (its
// baseline moves into the totals file's), not lost and not the whole of
// it; a dead file folded, still in place, counts once; then removed, it
// changes nothing.
func TestFoldMovesTheBaseline(t *testing.T) {
	for _, bc := range []struct {
		name string
		args []string
		want [][]float64
	}{
		{"changes", nil, [][]float64{{3}, {4}, {0}, {0}, {6}}},
		// The values: the dead file (5) and the worker's, then the
		// totals file's and the dead file's (not yet folded), then the
		// totals file's alone.
		{"absolute", []string{"-a"}, [][]float64{{18}, {22}, {22}, {22}, {28}}},
	} {
		t.Run(bc.name, func(t *testing.T) {
			dir := t.TempDir()
			dead := foldtest.Lifetime(t, dir, 5)
			m, f := liveWriter(t, dir, 10)
			var m2 *foldtest.Model
			h := newHarness(t,
				func() { m.Requests.Add(3) },
				func() {
					m.Requests.Add(4)
					if err := f.Remove(); err != nil { // folds itself
						t.Fatal(err)
					}
				},
				func() { foldtest.Fold(t, dead, false) }, // folded, left in place
				func() {
					if err := os.Remove(dead); err != nil {
						t.Fatal(err)
					}
					m2, _ = liveWriter(t, dir, 0) // a new worker
				},
				func() { m2.Requests.Add(6) },
			)
			if code := h.run(append(bc.args, "-c", "5", "requests", dir)...); code != 0 {
				t.Fatalf("exit %d: %s", code, h.err.String())
			}
			h.expectRows(t, bc.want)
		})
	}
}

// A file that a totals file holds when pollstats starts is left out: its
// values are in the totals file.
func TestHeldFileLeftOutAtStart(t *testing.T) {
	dir := t.TempDir()
	a := foldtest.Lifetime(t, dir, 5)
	foldtest.Lifetime(t, dir, 7) // dead, not folded: counts
	foldtest.Fold(t, a, false)
	h := newHarness(t)
	if code := h.run("-a", "-c", "1", "requests", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{12}})
}

// A directory listing is not atomic: pollstats may find a folded file
// gone one interval and the totals file that holds it only the next. The
// file's last values still move into the totals file's baseline: no
// spike of the whole file when the totals file comes.
func TestFoldFoundAfterTheFileLeft(t *testing.T) {
	dir, side := t.TempDir(), t.TempDir()
	first := foldtest.Lifetime(t, dir, 2)
	foldtest.Fold(t, first, true) // the totals file exists
	x := foldtest.Lifetime(t, dir, 9)
	totals := filepath.Join(dir, foldtest.Totals)
	h := newHarness(t,
		func() {
			// The fold done aside, on copies: the file leaves first.
			copyFile(t, totals, filepath.Join(side, foldtest.Totals))
			copyFile(t, x, filepath.Join(side, filepath.Base(x)))
			foldtest.Fold(t, filepath.Join(side, filepath.Base(x)), true)
			if err := os.Remove(x); err != nil {
				t.Fatal(err)
			}
		},
		func() { // then the totals file that holds it comes
			if err := os.Rename(filepath.Join(side, foldtest.Totals), totals); err != nil {
				t.Fatal(err)
			}
		},
	)
	if code := h.run("-c", "3", "requests", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{0}, {0}, {0}})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A file that joins while pollstats runs: the same file grown by its
// writer into a larger copy (another inode, the same sys.id) keeps its
// baseline, its changes since the last line shown; a file whose writer
// began before pollstats started, moved into the directory, counts from
// when it is first seen.
func TestJoinedFiles(t *testing.T) {
	t.Run("grown", func(t *testing.T) {
		dir := t.TempDir()
		w := newWriter(t, dir, "a.mmstats")
		w.OK.Add(100)
		h := newHarness(t,
			func() { w.OK.Add(1) },
			func() {
				w.OK.Add(5)
				before, err := os.Stat(w.f.Path())
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; ; i++ {
					if err := w.f.Add(fmt.Sprintf("web.stats.extra.%04d.with.a.long.label", i), new(mmstats.Counter)); err != nil {
						t.Fatal(err)
					}
					if now, err := os.Stat(w.f.Path()); err != nil {
						t.Fatal(err)
					} else if !os.SameFile(before, now) {
						break // grown: another file at the path
					}
				}
				w.OK.Add(2)
			},
			func() { w.OK.Add(3) },
		)
		if code := h.run("-vv", "-c", "3", "-p", status, "2XX", dir); code != 0 {
			t.Fatalf("exit %d: %s", code, h.err.String())
		}
		h.expectRows(t, [][]float64{{1}, {7}, {3}})
		if !strings.Contains(h.err.String(), "replaced") {
			t.Errorf("the file did not grow into another:\n%s", h.err.String())
		}
	})
	t.Run("moved in", func(t *testing.T) {
		dir, side := t.TempDir(), t.TempDir()
		a := newWriter(t, dir, "a.mmstats")
		b := newWriter(t, side, "b.mmstats")
		b.OK.Add(100)
		h := newHarness(t,
			func() {
				a.OK.Add(1)
				if err := os.Rename(b.f.Path(), filepath.Join(dir, "b.mmstats")); err != nil {
					t.Fatal(err)
				}
			},
			func() { b.OK.Add(4) },
		)
		if code := h.run("-c", "2", "-p", status, "2XX", dir); code != 0 {
			t.Fatalf("exit %d: %s", code, h.err.String())
		}
		h.expectRows(t, [][]float64{{1}, {4}})
	})
}
