package pollstats

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

// found returns the paths the sources found, sorted, each once.
func found(s *sources) []string {
	var out []string
	s.paths(func(p string, _ fileID) { out = append(out, p) }, func(error) {})
	slices.Sort(out)
	return slices.Compact(out)
}

func TestSourcesLookAgainOnlyWhenADirectoryChanges(t *testing.T) {
	dir := t.TempDir()
	a := corrupt(t, dir, "a.mmstats") // the content does not matter here
	corrupt(t, dir, "notes.txt")
	if err := os.Mkdir(filepath.Join(dir, "sub.mmstats"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := newSources(cli.NewFileSet([]string{dir}))
	if err != nil {
		t.Fatal(err)
	}
	noErr := func(err error) { t.Error(err) }
	later := time.Now().Add(2 * racyWindow) // the directory's changes are old by then
	listings := func() int { return s.dirs[0].gen }
	if !s.scan(time.Now(), noErr) || !slices.Equal(found(s), []string{a}) {
		t.Fatalf("first scan found %v, want %v", found(s), []string{a})
	}
	n := listings()
	if s.scan(later, noErr) || listings() != n+1 {
		t.Error("a directory that changed within racyWindow of its listing was not listed again, or said to have changed")
	}
	if s.scan(later, noErr) || listings() != n+1 {
		t.Error("an unchanged directory was listed again")
	}
	b := corrupt(t, dir, "b.mmstats")
	if !s.scan(time.Now(), noErr) || !slices.Equal(found(s), []string{a, b}) {
		t.Errorf("after a new file: %v", found(s))
	}
	// pollstats keeps the files it reads mapped, which keeps their inode
	// numbers from being reused by the file that replaces one.
	held, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	old := s.dirs[0].found["a.mmstats"].id
	os.Remove(a)
	corrupt(t, dir, "a.mmstats")
	s.scan(time.Now(), noErr)
	if s.dirs[0].found["a.mmstats"].id == old {
		t.Error("a replaced file kept its ID")
	}
}

func TestSourcesClassifyArguments(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	a := corrupt(t, dir, "a.mmstats")
	x := corrupt(t, sub, "x.mmstats")
	y := corrupt(t, sub, "y.other")
	s, err := newSources(cli.NewFileSet([]string{a, filepath.Join(sub, "*.other"), sub, filepath.Join(dir, "s*", "x.*")}))
	if err != nil {
		t.Fatal(err)
	}
	s.scan(time.Now(), func(err error) { t.Error(err) })
	if got, want := found(s), []string{a, x, y}; !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
	if len(s.dirs) != 2 || len(s.globs) != 1 {
		t.Errorf("%d directories and %d globs, want the two directories and one glob", len(s.dirs), len(s.globs))
	}

	t.Setenv("MMSTATS_GLOB", "")
	t.Setenv("MMSTATS_PATH", sub)
	s, _ = newSources(cli.NewFileSet(nil))
	s.scan(time.Now(), func(err error) { t.Error(err) })
	if got := found(s); !slices.Equal(got, []string{x}) {
		t.Errorf("no arguments: found %v, want %v", got, []string{x})
	}
}

// On a file system whose directory timestamps are coarse, a file created
// in the same tick as the listing before it leaves the directory's stamp
// as it was: it is found all the same, by listing again while the stamp
// is recent (racyWindow). And on one whose stamps do not follow at all
// (simulated: the stamp never changes), a new file is found within
// relistEvery looks. Each look says it changed only when a file came.
func TestSourcesCoarseTimestamps(t *testing.T) {
	dir := t.TempDir()
	a := corrupt(t, dir, "a.mmstats")
	base := time.Now()
	stamp, err := statDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSources(cli.NewFileSet([]string{dir}))
	if err != nil {
		t.Fatal(err)
	}
	s.stat = func(string) (dirStamp, error) { return stamp, nil } // the tick never ends
	noErr := func(err error) { t.Error(err) }
	// Listed 1.5 s after the directory changed: recent, on a file system of
	// 2-second timestamps, such as FAT.
	if !s.scan(base.Add(1500*time.Millisecond), noErr) || !slices.Equal(found(s), []string{a}) {
		t.Fatalf("first scan found %v", found(s))
	}
	b := corrupt(t, dir, "b.mmstats") // in the same tick: the stamp is the same
	if !s.scan(base.Add(1600*time.Millisecond), noErr) || !slices.Equal(found(s), []string{a, b}) {
		t.Errorf("a file created in the tick of the last listing: found %v", found(s))
	}
	// Past the window: listed once more (the last listing was recent), then
	// trusted.
	if s.scan(base.Add(racyWindow+time.Second), noErr) {
		t.Error("a listing that found nothing new said the directory changed")
	}
	n := s.dirs[0].gen
	c := corrupt(t, dir, "c.mmstats") // a file system that does not update the stamp
	looks := 0
	for now := base.Add(2 * racyWindow); !slices.Contains(found(s), c); now = now.Add(time.Second) {
		looks++
		changed := s.scan(now, noErr)
		if changed != slices.Contains(found(s), c) {
			t.Fatalf("look %d: changed %v, found %v", looks, changed, found(s))
		}
		if looks > 64 { // relistEvery
			t.Fatalf("a file not found in %d looks at a directory whose stamp does not change", looks)
		}
	}
	if s.dirs[0].gen != n+1 {
		t.Errorf("%d listings to find the file, want 1 (the safety net)", s.dirs[0].gen-n)
	}
}

// A glob with wildcards in a directory part is expanded every scan, and
// said to have changed only when it matched other files: one more, one
// fewer, or another file (inode) at a path.
func TestSourcesGlobOfDirectoriesChangesOnlyWhenItsFilesDo(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	x := corrupt(t, filepath.Join(dir, "a"), "x.mmstats")
	s, err := newSources(cli.NewFileSet([]string{filepath.Join(dir, "*", "*.mmstats")}))
	if err != nil {
		t.Fatal(err)
	}
	noErr := func(err error) { t.Error(err) }
	now := time.Now()
	if !s.scan(now, noErr) || !slices.Equal(found(s), []string{x}) {
		t.Fatalf("first scan found %v", found(s))
	}
	if s.scan(now, noErr) {
		t.Error("an unchanged glob said it changed")
	}
	y := corrupt(t, filepath.Join(dir, "b"), "y.mmstats")
	if !s.scan(now, noErr) || !slices.Equal(found(s), []string{x, y}) {
		t.Errorf("a file added: found %v", found(s))
	}
	held, err := os.Open(x) // its inode number is not reused while it is open
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	os.Remove(x)
	corrupt(t, filepath.Join(dir, "a"), "x.mmstats")
	if !s.scan(now, noErr) {
		t.Error("a file replaced: not changed")
	}
	os.Remove(y)
	if !s.scan(now, noErr) || !slices.Equal(found(s), []string{x}) {
		t.Errorf("a file removed: found %v", found(s))
	}
	if s.scan(now, noErr) {
		t.Error("an unchanged glob said it changed")
	}
}

// A directory looked at through a descriptor (held) is still followed at
// its path: one renamed away and another made at its path, or a symlink
// to a directory pointed at another, is listed at the next look.
func TestSourcesDirectoryReplacedAtItsPath(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := corrupt(t, dir, "a.mmstats")
	other := filepath.Join(root, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	corrupt(t, other, "b.mmstats")
	link := filepath.Join(root, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	noErr := func(err error) { t.Error(err) }
	later := time.Now().Add(2 * racyWindow)
	byDir, err := newSources(cli.NewFileSet([]string{dir}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(byDir.close)
	byLink, err := newSources(cli.NewFileSet([]string{link}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(byLink.close)
	for _, s := range []*sources{byDir, byLink} {
		s.scan(time.Now(), noErr)
		s.scan(later, noErr) // past the racy window: trusted from now on
		if s.scan(later, noErr) || len(found(s)) != 1 {
			t.Fatalf("an unchanged directory: %v", found(s))
		}
	}
	if byDir.dirs[0].held == 0 {
		t.Error("the directory is not looked at through a descriptor")
	}
	if byLink.dirs[0].held != 0 {
		t.Error("a directory named through a symlink is looked at through a descriptor")
	}
	// The symlink points at the other directory.
	tmp := filepath.Join(root, "link.new")
	if err := os.Symlink(other, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	if !byLink.scan(later, noErr) || !slices.Equal(found(byLink), []string{filepath.Join(link, "b.mmstats")}) {
		t.Errorf("a symlink pointed at another directory: found %v", found(byLink))
	}
	// The directory renamed away, the other renamed in its place.
	if err := os.Rename(dir, filepath.Join(root, "d.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, dir); err != nil {
		t.Fatal(err)
	}
	if !byDir.scan(later, noErr) || !slices.Equal(found(byDir), []string{filepath.Join(dir, "b.mmstats")}) {
		t.Errorf("a directory replaced at its path: found %v, not %s", found(byDir), a)
	}
}
