//go:build unix

package fold_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// totalsOf is the totals file that lifetime's files name.
func totalsOf(t *testing.T, data []byte) string {
	t.Helper()
	return stats(t, data)["sys.totals"].Value.Str()
}

// source writes data as name in dir and returns it as a fold.Source
// under an exclusive flock, as a Cleaner holds it; Remove unlinks it
// unless keep. Its descriptors are closed at the end of the test.
func source(t *testing.T, dir string, dirFD int, name string, data []byte, keep bool) fold.Source {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	return fold.Source{Dir: dirFD, Name: name, FD: fd, Remove: func() {
		if !keep {
			unix.Unlinkat(dirFD, name, 0)
		}
	}}
}

func openDir(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// foldedIDs returns the sys.ids that the totals file lists, in order,
// each once.
func foldedIDs(t *testing.T, path string) []uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := convention.ParseFolded(stats(t, data)[convention.Folded].Value.Str())
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, e := range entries {
		if !slices.Contains(ids, e.ID) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// idOf returns a stats file's sys.id.
func idOf(t *testing.T, data []byte) uint64 {
	t.Helper()
	return stats(t, data)["sys.id"].Value.Uint()
}

// TestTotalsFileIsItsOwnLock: the folds into a totals file lock the
// totals file itself: the directory holds nothing else once its files
// are folded, and a fold waits for a lock held on it (then fails,
// changing nothing, after LockWait).
func TestTotalsFileIsItsOwnLock(t *testing.T) {
	dir := t.TempDir()
	dirFD := openDir(t, dir)
	a := lifetime(t, dir, 1)
	totals := filepath.Join(dir, totalsOf(t, a))
	res, err := fold.Fold(source(t, dir, dirFD, "a.mmstats", a, false))
	if err != nil || res.Outcome != fold.Folded {
		t.Fatalf("fold: %v %v", res.Outcome, err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{filepath.Base(totals)}) {
		t.Errorf("left in the directory: %q", got)
	}

	fd, err := unix.Open(totals, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	old := fold.LockWait
	fold.LockWait = 50 * time.Millisecond
	defer func() { fold.LockWait = old }()
	before, _ := os.ReadFile(totals)
	_, err = fold.Fold(source(t, dir, dirFD, "b.mmstats", lifetime(t, dir, 2), false))
	after, _ := os.ReadFile(totals)
	if !errors.Is(err, fold.ErrLockWait) || string(before) != string(after) {
		t.Errorf("fold under a held lock: %v; totals changed: %v", err, string(before) != string(after))
	}
	if got := names(t, dir); !slices.Equal(got, []string{"b.mmstats", filepath.Base(totals)}) {
		t.Errorf("left in the directory: %q", got)
	}
}

// TestMissingTotalsFileIsMadeEmpty: a fold into a totals file that does
// not exist makes it first, as a valid totals file without stats (what
// a folder killed just then leaves: it adds nothing), owned like the
// folded file.
func TestMissingTotalsFileIsMadeEmpty(t *testing.T) {
	dir := t.TempDir()
	dirFD := openDir(t, dir)
	a := lifetime(t, dir, 1)
	totals := filepath.Join(dir, totalsOf(t, a))
	fold.TestHook = func(s fold.Step, _ string) {
		if s != fold.StepLocked {
			return
		}
		data, err := os.ReadFile(totals)
		if err != nil {
			t.Fatalf("at the lock: %v", err)
		}
		f, err := reader.Open(totals)
		if err != nil {
			t.Fatalf("the new totals file: %v", err)
		}
		defer f.Close()
		if got := stats(t, data); !aggregate.IsTotals(f) || len(got) != 1 {
			t.Errorf("the new totals file: totals %v, %d stats", aggregate.IsTotals(f), len(got))
		}
	}
	defer func() { fold.TestHook = nil }()
	src := source(t, dir, dirFD, "a.mmstats", a, false)
	os.Chmod(filepath.Join(dir, "a.mmstats"), 0o640)
	if _, err := fold.Fold(src); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(totals); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("totals file: %v %v, want mode 0640", fi.Mode(), err)
	}
}

// TestFoldWaitingOnAReplacedTotalsFile: a fold that waited for the lock
// of a totals file that a fold replaced meanwhile (renamed a new one
// over it) locks the new one and folds into it: nothing is lost.
func TestFoldWaitingOnAReplacedTotalsFile(t *testing.T) {
	dir := t.TempDir()
	dirFD := openDir(t, dir)
	lives := [][]byte{lifetime(t, dir, 1), lifetime(t, dir, 2), lifetime(t, dir, 3)}
	totals := filepath.Join(dir, totalsOf(t, lives[0]))
	var srcs []fold.Source
	for i, data := range lives {
		srcs = append(srcs, source(t, dir, dirFD, fmt.Sprintf("%d.mmstats", i), data, false))
	}
	var f fold.Folder // keeps the lock between its folds
	defer f.Close()
	if _, err := f.Fold(srcs[0]); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var waited fold.Result
	var werr error
	wg.Go(func() { waited, werr = fold.Fold(srcs[1]) })
	time.Sleep(100 * time.Millisecond) // it waits on the totals file of now
	if _, err := f.Fold(srcs[2]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wg.Wait()
	if werr != nil || waited.Outcome != fold.Folded {
		t.Fatalf("the fold that waited: %v %v", waited.Outcome, werr)
	}
	data, err := os.ReadFile(totals)
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(0)
	for _, l := range lives {
		want += stats(t, l)["requests"].Value.Uint()
	}
	if got := stats(t, data)["requests"].Value.Uint(); got != want {
		t.Errorf("totals: %d requests, want %d", got, want)
	}
	if got := names(t, dir); !slices.Equal(got, []string{filepath.Base(totals)}) {
		t.Errorf("left in the directory: %q", got)
	}
}

// TestKeepGone: sys.folded keeps listing the fold.KeepGone files folded
// last, gone or not (a reader that opened one before it was folded must
// find it listed), and a file still present, however long ago it was
// folded; the others are pruned.
func TestKeepGone(t *testing.T) {
	dir := t.TempDir()
	dirFD := openDir(t, dir)
	var f fold.Folder
	defer f.Close()
	var ids []uint64
	var totals string
	for k := range fold.KeepGone + 10 {
		data := lifetime(t, dir, k%5)
		totals = filepath.Join(dir, totalsOf(t, data))
		// The first one stays after its fold: a folder killed before
		// it removed it.
		if _, err := f.Fold(source(t, dir, dirFD, fmt.Sprintf("%d.mmstats", k), data, k == 0)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, idOf(t, data))
	}
	f.Close()
	want := append(ids[:1:1], ids[len(ids)-fold.KeepGone:]...)
	if got := foldedIDs(t, totals); !slices.Equal(got, want) {
		t.Errorf("sys.folded lists %d files, want the first (still there) and the last %d:\n%x\n%x", len(got), fold.KeepGone, got, want)
	}
}

// names returns the names in dir, sorted.
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
