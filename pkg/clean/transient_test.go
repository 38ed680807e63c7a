//go:build unix

package clean

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// lockedSet writes n files of the Go writer in dir, and holds the locks
// of the even ones as their writers would (until the test ends): the odd
// ones are stale. It returns the stale paths and their bytes.
func lockedSet(t testing.TB, dir string, n int) (stale []string, data []byte) {
	t.Helper()
	data = goFile(uint32(os.Getpid()))
	for i := range n {
		p := testutil.WriteFile(t, dir, fmt.Sprintf("f%04d.mmstats", i), data)
		if i%2 == 1 {
			stale = append(stale, p)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
			t.Fatal(err)
		}
	}
	return stale, data
}

// TestCleanEntriesTransient: CleanEntriesTransient reports what
// CleanEntries reports, file by file, through one Result.
func TestCleanEntriesTransient(t *testing.T) {
	results := func(transient bool) (out []string, ptrs map[*Result]bool) {
		dir := t.TempDir()
		lockedSet(t, dir, 40)
		dead := testutil.ExitedPID(t)
		testutil.WriteFile(t, dir, "py-stale.mmstats", v1file.Python(dead, uint64(os.Getuid()), testutil.Now()))
		testutil.WriteFile(t, dir, "py-live.mmstats", v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now()))
		testutil.WriteFile(t, dir, "junk.mmstats", []byte("junk"))
		if err := os.Symlink(filepath.Join(dir, "py-stale.mmstats"), filepath.Join(dir, "link.mmstats")); err != nil {
			t.Fatal(err)
		}
		entries, err := MatchEntries(dir, DefaultPattern)
		if err != nil {
			t.Fatal(err)
		}
		c := &Cleaner{}
		clean := c.CleanEntries
		if transient {
			clean = c.CleanEntriesTransient
		}
		ptrs = map[*Result]bool{}
		err = clean(entries, func(r *Result) error {
			ptrs[r] = true
			out = append(out, fmt.Sprintf("%s %v %v %v pid=%v", filepath.Base(r.Path), r.Decision, r.Reason, r.Err, r.Writer.HasPID))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, ptrs
	}
	want, wantPtrs := results(false)
	got, gotPtrs := results(true)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CleanEntriesTransient:\n%v\nCleanEntries:\n%v", got, want)
	}
	if len(want) != 44 || len(wantPtrs) != len(want) {
		t.Errorf("CleanEntries: %d results in %d Results, want 44 in 44", len(want), len(wantPtrs))
	}
	if len(gotPtrs) != 1 {
		t.Errorf("CleanEntriesTransient: %d Results, want 1", len(gotPtrs))
	}
}

// TestCleanAllocations counts what the heap gives a run of
// CleanEntriesTransient over files of the Go writer, half stale: the
// private name of each file removed (asideName), and a few for the
// maps of the files moved and locked as they grow; nothing for each
// file read (reader.Snapshot.ReadFDHint), named in a system call
// (internal/fdio/at_linux.go) or reported.
func TestCleanAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,000 files")
	}
	dir := t.TempDir()
	const n = 1000
	lockedSet(t, dir, n)
	entries, err := MatchEntries(dir, DefaultPattern)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cleaner{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	removed := 0
	err = c.CleanEntriesTransient(entries, func(r *Result) error {
		if r.Decision == Removed {
			removed++
		}
		return nil
	})
	runtime.ReadMemStats(&after)
	if err != nil || removed != n/2 {
		t.Fatalf("%d removed, %v; want %d", removed, err, n/2)
	}
	perFile := float64(after.Mallocs-before.Mallocs) / n
	t.Logf("%.2f allocations a file", perFile)
	limit := 1.0
	if raceEnabled {
		limit = 2 // a private name is two there; before, 4 and more
	}
	if perFile > limit {
		t.Errorf("%.2f allocations a file, want at most %v", perFile, limit)
	}
}

// TestHardLinksReadAhead: the names of one stale file (hard links),
// listed among live files so that both readers ahead try its lock, each
// while the other holds it for another name: every name is found stale
// (the lock held by this run is told from a writer's, heldSet), in a
// dry run, which keeps them all. The live files stay alive.
func TestHardLinksReadAhead(t *testing.T) {
	dir := t.TempDir()
	lockedSet(t, dir, 2*prefetchAhead) // f0000…: the even ones live
	first := filepath.Join(dir, "f0001.mmstats")
	var links []string
	for i := range 3 * prefetchAhead {
		p := filepath.Join(dir, fmt.Sprintf("g%04d.mmstats", i))
		if err := os.Link(first, p); err != nil {
			t.Fatal(err)
		}
		links = append(links, p)
	}
	entries, err := MatchEntries(dir, DefaultPattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, transient := range []bool{false, true} {
		c := &Cleaner{DryRun: true}
		clean := c.CleanEntries
		if transient {
			clean = c.CleanEntriesTransient
		}
		stale := 0
		err := clean(entries, func(r *Result) error {
			name := filepath.Base(r.Path)
			var i int
			fmt.Sscanf(name[1:], "%d", &i)
			want := WouldRemove
			if name[0] == 'f' && i%2 == 0 {
				want = Alive
			}
			if r.Decision != want {
				t.Errorf("%s: %v (%v, %v), want %v", name, r.Decision, r.Reason, r.Err, want)
			}
			if r.Decision == WouldRemove {
				stale++
			}
			return nil
		})
		if err != nil || stale != prefetchAhead+len(links) {
			t.Fatalf("%d stale, %v; want %d", stale, err, prefetchAhead+len(links))
		}
	}
}

// TestMovedFilter: run.wasMoved says yes of every file moving noted, and
// no of the others, whatever its filter (run.movedBits) lets through;
// the filter answers most of them alone.
func TestMovedFilter(t *testing.T) {
	for _, files := range []int{0, 10, 1000, 100000} {
		r := &run{files: files}
		if r.wasMoved(fileID{Dev: 1, Ino: 1}) {
			t.Fatalf("%d files: moved before any move", files)
		}
		moved := map[fileID]bool{}
		for i := range max(files, 100) / 2 {
			id := fileID{Dev: 66306, Ino: uint64(1000 + 2*i)}
			if i%7 == 0 {
				id.Dev = 45 // another file system
			}
			r.moving(id)
			moved[id] = true
		}
		filtered := 0
		for ino := range uint64(2 * max(files, 100)) {
			for _, dev := range []uint64{66306, 45} {
				id := fileID{Dev: dev, Ino: 1000 + ino}
				if got := r.wasMoved(id); got != moved[id] {
					t.Fatalf("%d files: wasMoved(%v) = %v, want %v", files, id, got, moved[id])
				}
				if w, b := r.movedBit(movedKey(id)); !moved[id] && r.movedBits[w]&b == 0 {
					filtered++
				}
			}
		}
		if notMoved := 4*max(files, 100) - len(moved); filtered < notMoved*3/4 {
			t.Errorf("%d files: the filter answered for %d of the %d files not moved", files, filtered, notMoved)
		}
	}
}
