//go:build unix

package clean

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// hold opens path and takes a lock on it (how: LOCK_SH as a writer does,
// LOCK_EX as another Cleaner does) until the test ends.
func hold(t *testing.T, path string, how int) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Flock(fd, how|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

func ino(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestRemoveMovesBack lands the rename of a live file over the stale
// file's name exactly where the old removal lost it (after the check of
// the name, before the removal), and then takes the name again while the
// live file is aside: it is never lost, and never hidden for good.
func TestRemoveMovesBack(t *testing.T) {
	dead := testutil.ExitedPID(t)
	for _, kind := range []string{"go", "python"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			stale, live := goFile(dead), goFile(dead)
			if kind == "python" {
				stale, live = v1file.Python(dead, uint64(os.Getuid()), testutil.Now()), v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now())
			}
			x := testutil.WriteFile(t, dir, "x.mmstats", stale)
			l := testutil.WriteFile(t, dir, "live.hold", live)
			hold(t, l, unix.LOCK_SH)
			liveIno := ino(t, l)

			// The rename lands between the check and the move.
			c := &Cleaner{rename: func(dir int, from, to string) error {
				if err := os.Rename(l, x); err != nil {
					t.Error(err)
				}
				return renameNoReplace(dir, from, to)
			}}
			r := c.CleanFile(x)
			if r.Decision != Skipped || r.Reason != Replaced {
				t.Errorf("got %v (%v, %v), want skipped (replaced)", r.Decision, r.Reason, r.Err)
			}
			if ino(t, x) != liveIno {
				t.Fatal("the live file is not back under its name")
			}

			// Once aside, another file takes the name: the live file
			// stays aside, reported, until a later run finds the name
			// free again.
			os.Rename(x, l)
			testutil.WriteFile(t, dir, "x.mmstats", stale)
			other := testutil.WriteFile(t, dir, "other.hold", stale)
			c = &Cleaner{
				rename: func(dir int, from, to string) error {
					os.Rename(l, x)
					return renameNoReplace(dir, from, to)
				},
				afterAside: func(string, string) { os.Rename(other, x) },
			}
			r = c.CleanFile(x)
			if r.Decision != Failed || r.Reason != NameTaken || r.MovedTo == "" {
				t.Fatalf("got %v (%v, %v), want error (name-taken)", r.Decision, r.Reason, r.Err)
			}
			if ino(t, r.MovedTo) != liveIno || filepath.Dir(r.MovedTo) != dir || KindOf(filepath.Base(r.MovedTo)) != Aside {
				t.Fatalf("the live file is not at %s", r.MovedTo)
			}
			aside := r.MovedTo
			paths, _ := Matches(dir, DefaultPattern)
			got := cleanAll(t, &Cleaner{}, paths...)
			check(t, got, map[string]want{
				aside: {Failed, NameTaken, ErrNameTaken, true},
				x:     {Removed, stale1(kind), nil, false},
			})
			paths, _ = Matches(dir, DefaultPattern)
			got = cleanAll(t, &Cleaner{}, paths...)
			alive := LockHeld
			if kind == "python" {
				alive = ProcessAlive
			}
			check(t, got, map[string]want{aside: {Restored, alive, nil, false}})
			if got[aside].MovedTo != x || ino(t, x) != liveIno {
				t.Errorf("restored to %q", got[aside].MovedTo)
			}
		})
	}
}

// TestRemoveSettlesAStaleReplacement: a stale file renamed over the
// name being removed, which then is taken again, is judged at once and
// removed, as a later run would: nothing is left aside, and the run does
// not fail for a file nobody needs.
func TestRemoveSettlesAStaleReplacement(t *testing.T) {
	dead := testutil.ExitedPID(t)
	dir := t.TempDir()
	x := testutil.WriteFile(t, dir, "x.mmstats", goFile(dead))
	second := testutil.WriteFile(t, dir, "second.hold", goFile(dead))
	third := testutil.WriteFile(t, dir, "third.hold", goFile(dead))
	secondIno, thirdIno := ino(t, second), ino(t, third)
	c := &Cleaner{
		rename: func(dir int, from, to string) error {
			os.Rename(second, x)
			return renameNoReplace(dir, from, to)
		},
		afterAside: func(string, string) { os.Rename(third, x) },
	}
	r := c.CleanFile(x)
	if r.Decision != Skipped || r.Reason != Replaced || r.MovedTo != "" {
		t.Fatalf("got %v (%v, %v, moved to %q), want skipped (replaced)", r.Decision, r.Reason, r.Err, r.MovedTo)
	}
	if ino(t, x) != thirdIno {
		t.Error("the file that took the name last is not at it")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if KindOf(e.Name()) == Aside {
			t.Errorf("%s left aside", e.Name())
		}
		if info, _ := e.Info(); info != nil && info.Sys().(*syscall.Stat_t).Ino == secondIno {
			t.Errorf("the stale replacement is still there as %s", e.Name())
		}
	}
}

// stale1 is the reason a stale file of kind is removed.
func stale1(kind string) Reason {
	if kind == "python" {
		return NoProcess
	}
	return LockFree
}

// TestAside: what a killed Cleaner left under a private name is removed
// if it is a stale stats file, and otherwise put back.
func TestAside(t *testing.T) {
	dead := testutil.ExitedPID(t)
	const hex = ".cleanstats-0123456789abcdef"
	setup := func(t *testing.T) (dir string, p map[string]string) {
		dir = t.TempDir()
		p = map[string]string{
			"stale":   testutil.WriteFile(t, dir, ".stale.mmstats"+hex, goFile(dead)),
			"stalePy": testutil.WriteFile(t, dir, ".stalepy.mmstats"+hex, v1file.Python(dead, uint64(os.Getuid()), testutil.Now())),
			"live":    testutil.WriteFile(t, dir, ".live.mmstats"+hex, goFile(dead)),
			"taken":   testutil.WriteFile(t, dir, ".taken.mmstats"+hex, goFile(dead)),
			"busy":    testutil.WriteFile(t, dir, ".busy.mmstats"+hex, goFile(dead)),
			"invalid": testutil.WriteFile(t, dir, ".invalid.mmstats"+hex, []byte("junk")),
			"dir":     filepath.Join(dir, ".dir.mmstats"+hex),
			"link":    filepath.Join(dir, ".link.mmstats"+hex),
			"tmp":     testutil.WriteFile(t, dir, "..mmstats.0123456789abcdef.tmp"+hex, nil),
			"tmpLive": testutil.WriteFile(t, dir, "..mmstats.fedcba9876543210.tmp"+hex, nil),
			"tmpBusy": testutil.WriteFile(t, dir, "..mmstats.aedcba9876543210.tmp"+hex, nil),
		}
		testutil.WriteFile(t, dir, "taken.mmstats", goFile(dead))
		hold(t, p["live"], unix.LOCK_SH)
		hold(t, p["taken"], unix.LOCK_SH)
		hold(t, p["busy"], unix.LOCK_EX) // another Cleaner at work
		hold(t, p["tmpLive"], unix.LOCK_SH)
		hold(t, p["tmpBusy"], unix.LOCK_EX)
		os.Mkdir(p["dir"], 0o755)
		os.Symlink("/etc/passwd", p["link"])
		old := time.Now().Add(-2 * TemporaryMinAge)
		os.Chtimes(p["tmp"], old, old)
		os.Chtimes(p["tmpLive"], old, old)
		os.Chtimes(p["tmpBusy"], old, old)
		return dir, p
	}
	origin := func(p string) string { return filepath.Join(filepath.Dir(p), asideOrigin(filepath.Base(p))) }

	dir, p := setup(t)
	paths, err := Matches(dir, DefaultPattern)
	if err != nil {
		t.Fatal(err)
	}
	got := cleanAll(t, &Cleaner{DryRun: true}, paths...)
	check(t, got, map[string]want{
		p["stale"]:   {WouldRemove, LockFree, nil, true},
		p["stalePy"]: {WouldRemove, NoProcess, nil, true},
		p["live"]:    {WouldRestore, LockHeld, nil, true},
		p["busy"]:    {Skipped, Busy, nil, true},
		p["invalid"]: {WouldRestore, Invalid, nil, true},
		p["dir"]:     {WouldRestore, NotRegular, nil, true},
		p["link"]:    {WouldRestore, Symlink, nil, true},
		p["tmp"]:     {WouldRemove, AbandonedTemporary, nil, true},
		p["tmpLive"]: {WouldRestore, LockHeld, nil, true},
		p["tmpBusy"]: {Skipped, Busy, nil, true},
	})

	got = cleanAll(t, &Cleaner{}, paths...)
	check(t, got, map[string]want{
		p["stale"]:   {Removed, LockFree, nil, false},
		p["stalePy"]: {Removed, NoProcess, nil, false},
		p["live"]:    {Restored, LockHeld, nil, false},
		p["taken"]:   {Failed, NameTaken, ErrNameTaken, true},
		p["busy"]:    {Skipped, Busy, nil, true},
		p["invalid"]: {Restored, Invalid, nil, false},
		p["dir"]:     {Restored, NotRegular, nil, false},
		p["link"]:    {Restored, Symlink, nil, false},
		p["tmp"]:     {Removed, AbandonedTemporary, nil, false},
		p["tmpLive"]: {Restored, LockHeld, nil, false},
		p["tmpBusy"]: {Skipped, Busy, nil, true},
	})
	for _, k := range []string{"live", "invalid", "dir", "link", "tmpLive"} {
		if r := got[p[k]]; r.MovedTo != origin(p[k]) || !testutil.Exists(t, origin(p[k])) {
			t.Errorf("%s: moved to %q", k, r.MovedTo)
		}
	}
	if r := got[p["tmp"]]; r.Kind != Aside {
		t.Errorf("aside temporary: kind %v", r.Kind)
	}
	for _, k := range []string{"stale", "stalePy", "tmp"} {
		if testutil.Exists(t, origin(p[k])) {
			t.Errorf("%s: a stale file was put back", k)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if KindOf(e.Name()) == Aside && e.Name() != filepath.Base(p["taken"]) && e.Name() != filepath.Base(p["busy"]) && e.Name() != filepath.Base(p["tmpBusy"]) {
			t.Errorf("%s still aside", e.Name())
		}
	}
}

// TestTemporaries: a writer's temporary file is removed when its creator
// is gone (its lock is free) and it is old enough; never while its lock
// is held, and not while it is young.
func TestTemporaries(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-TemporaryMinAge - time.Second)
	p := map[string]string{
		"abandoned":    testutil.WriteFile(t, dir, ".mmstats.0123456789abcdef.tmp", nil),
		"abandonedOld": testutil.WriteFile(t, dir, ".app-1-1.mmstats.tmp0123456789ab", nil),
		"locked":       testutil.WriteFile(t, dir, ".mmstats.1123456789abcdef.tmp", nil),
		"lockedOld":    testutil.WriteFile(t, dir, ".app-1-2.mmstats.tmp1123456789ab", nil),
		"young":        testutil.WriteFile(t, dir, ".mmstats.2123456789abcdef.tmp", nil),
		"link":         filepath.Join(dir, ".mmstats.3123456789abcdef.tmp"),
	}
	os.Symlink(p["abandoned"], p["link"])
	for _, k := range []string{"abandoned", "abandonedOld", "locked", "lockedOld"} {
		os.Chtimes(p[k], old, old)
	}
	hold(t, p["locked"], unix.LOCK_SH)
	hold(t, p["lockedOld"], unix.LOCK_SH)
	paths, err := Matches(dir, DefaultPattern)
	if err != nil || len(paths) != len(p) {
		t.Fatalf("Matches: %v, %v", paths, err)
	}
	check(t, cleanAll(t, &Cleaner{DryRun: true}, paths...), map[string]want{
		p["abandoned"]:    {WouldRemove, AbandonedTemporary, nil, true},
		p["abandonedOld"]: {WouldRemove, AbandonedTemporary, nil, true},
	})
	got := cleanAll(t, &Cleaner{}, paths...)
	check(t, got, map[string]want{
		p["abandoned"]:    {Removed, AbandonedTemporary, nil, false},
		p["abandonedOld"]: {Removed, AbandonedTemporary, nil, false},
		p["locked"]:       {Alive, LockHeld, nil, true},
		p["lockedOld"]:    {Alive, LockHeld, nil, true},
		p["young"]:        {Skipped, YoungTemporary, nil, true},
		p["link"]:         {Skipped, Symlink, nil, true},
	})
	for path, r := range got {
		if r.Kind != Temporary {
			t.Errorf("%s: kind %v", path, r.Kind)
		}
	}
	// The age is the modification time's, against the Cleaner's clock.
	later := &Cleaner{now: func() time.Time { return time.Now().Add(2 * TemporaryMinAge) }}
	check(t, cleanAll(t, later, p["young"]), map[string]want{
		p["young"]: {Removed, AbandonedTemporary, nil, false},
	})
}

// TestBusy: a file of the PID rules that someone else holds a lock on
// (another Cleaner removing it) is left to them.
func TestBusy(t *testing.T) {
	dir := t.TempDir()
	x := testutil.WriteFile(t, dir, "x.mmstats", v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now()))
	hold(t, x, unix.LOCK_EX)
	check(t, cleanAll(t, &Cleaner{}, x), map[string]want{x: {Skipped, Busy, nil, true}})
}
