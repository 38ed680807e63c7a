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
// (atcalls_linux.go) or reported.
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
	if perFile > 1 {
		t.Errorf("%.2f allocations a file, want at most 1", perFile)
	}
}
