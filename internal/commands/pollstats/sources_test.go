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
	if !s.scan(time.Now(), noErr) || !slices.Equal(found(s), []string{a}) {
		t.Fatalf("first scan found %v, want %v", found(s), []string{a})
	}
	if !s.scan(later, noErr) {
		t.Error("a directory that changed within racyWindow of its listing was not listed again")
	}
	if s.scan(later, noErr) {
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
