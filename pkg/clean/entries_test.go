//go:build unix

package clean

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/reader"
)

// cleanEntries runs c over entries and returns the results by path.
func cleanEntries(t *testing.T, c *Cleaner, entries ...Entry) map[string]Result {
	t.Helper()
	got := map[string]Result{}
	if err := c.CleanEntries(entries, func(r *Result) error {
		got[r.Path] = *r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestListedTypes: the type a directory's listing gives decides which
// files are opened, and what a name holds when it is opened decides the
// rest. A stale file listed as a symlink, a FIFO, a directory or a
// device is not opened, nor removed (the listing is not checked with
// lstat); a name listed as a regular file that holds a symlink, a FIFO
// or a directory when it is opened is reported as such, and nothing is
// read or removed through it (O_NOFOLLOW, O_NONBLOCK, then fstat); a
// name whose type is not listed (DT_UNKNOWN, a path given) is checked
// with lstat.
func TestListedTypes(t *testing.T) {
	dead := testutil.ExitedPID(t)
	stale := goFile(dead)
	dir := t.TempDir()
	target := testutil.WriteFile(t, t.TempDir(), "target.mmstats", stale)
	mkfifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := unix.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	symlink := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mkdir := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := func(name string) string { return testutil.WriteFile(t, dir, name, stale) }

	entries := []Entry{
		// Stale files, listed as something else: left alone.
		{Path: file("a-as-symlink.mmstats"), Type: fs.ModeSymlink, Listed: true},
		{Path: file("b-as-fifo.mmstats"), Type: fs.ModeNamedPipe, Listed: true},
		{Path: file("c-as-dir.mmstats"), Type: fs.ModeDir, Listed: true},
		{Path: file("d-as-chardev.mmstats"), Type: fs.ModeDevice | fs.ModeCharDevice, Listed: true},
		// Listed as regular files, something else by the time they open.
		{Path: symlink("e-symlink.mmstats"), Listed: true},
		{Path: mkfifo("f-fifo.mmstats"), Listed: true},
		{Path: mkdir("g-dir.mmstats"), Listed: true},
		// Types not listed: lstat says.
		{Path: symlink("h-symlink.mmstats")},
		{Path: mkfifo("i-fifo.mmstats")},
		{Path: mkdir("j-dir.mmstats")},
		// A stale file listed as such, and one not listed: removed.
		{Path: file("k-stale.mmstats"), Listed: true},
		{Path: file("l-stale.mmstats")},
	}
	wants := map[string]want{}
	for i, w := range []want{
		{Skipped, Symlink, reader.ErrSymlink, true},
		{Skipped, NotRegular, reader.ErrNotRegular, true},
		{Skipped, NotRegular, reader.ErrNotRegular, true},
		{Skipped, NotRegular, reader.ErrNotRegular, true},
		{Skipped, Symlink, reader.ErrSymlink, true},
		{Skipped, NotRegular, reader.ErrNotRegular, true},
		{Skipped, NotRegular, reader.ErrNotRegular, true},
		{Skipped, Symlink, reader.ErrSymlink, true},
		{Skipped, NotRegular, reader.ErrNotRegular, true},
		{Skipped, NotRegular, reader.ErrNotRegular, true},
		{Removed, LockFree, nil, false},
		{Removed, LockFree, nil, false},
	} {
		wants[entries[i].Path] = w
	}
	// One at a time, and read ahead (the same entries many times over,
	// in one call: what was removed is then vanished).
	got := map[string]Result{}
	for _, e := range entries {
		for p, r := range cleanEntries(t, &Cleaner{DryRun: true}, e) {
			got[p] = r
		}
	}
	for p, w := range wants {
		if w.decision == Removed {
			w.decision = WouldRemove
		}
		wants[p] = want{w.decision, w.reason, w.err, true}
	}
	check(t, got, wants)
	var many []Entry
	for range 2 * prefetchBatch {
		many = append(many, entries...)
	}
	c := &Cleaner{DryRun: true}
	if err := c.CleanEntries(many, func(r *Result) error {
		if w := wants[r.Path]; r.Decision != w.decision || r.Reason != w.reason {
			t.Errorf("read ahead: %s: got %v (%v, %v), want %v (%v)", filepath.Base(r.Path), r.Decision, r.Reason, r.Err, w.decision, w.reason)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check(t, cleanEntries(t, &Cleaner{}, entries...), map[string]want{
		entries[0].Path:  {Skipped, Symlink, reader.ErrSymlink, true},
		entries[1].Path:  {Skipped, NotRegular, reader.ErrNotRegular, true},
		entries[5].Path:  {Skipped, NotRegular, reader.ErrNotRegular, true},
		entries[10].Path: {Removed, LockFree, nil, false},
		entries[11].Path: {Removed, LockFree, nil, false},
	})
	if !testutil.Exists(t, target) {
		t.Error("the symlinks' target was removed")
	}
}

// TestMatchEntriesTypes: MatchEntries gives each file's type as listed,
// and the same paths as Matches.
func TestMatchEntriesTypes(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFile(t, dir, "file.mmstats", []byte("x"))
	if err := unix.Mkfifo(filepath.Join(dir, "fifo.mmstats"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file.mmstats", filepath.Join(dir, "link.mmstats")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.mmstats"), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, dir, "other.txt", []byte("x"))
	entries, err := MatchEntries(dir, DefaultPattern)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		typ  fs.FileMode
	}{{"dir.mmstats", fs.ModeDir}, {"fifo.mmstats", fs.ModeNamedPipe}, {"file.mmstats", 0}, {"link.mmstats", fs.ModeSymlink}}
	if len(entries) != len(want) {
		t.Fatalf("got %v", entries)
	}
	for i, w := range want {
		if e := entries[i]; e.Path != filepath.Join(dir, w.name) || e.Type != w.typ || !e.Listed {
			t.Errorf("entry %d: got %+v, want %s, type %v, listed", i, e, w.name, w.typ)
		}
	}
	paths, err := Matches(dir, DefaultPattern)
	if err != nil || len(paths) != len(entries) {
		t.Fatalf("Matches: %v, %v", paths, err)
	}
	for i := range paths {
		if paths[i] != entries[i].Path {
			t.Errorf("Matches[%d] = %s, MatchEntries %s", i, paths[i], entries[i].Path)
		}
	}
}
