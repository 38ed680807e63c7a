//go:build unix

package clean

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
)

func TestKindOf(t *testing.T) {
	for name, want := range map[string]Kind{
		"x.mmstats":                                                  Stats,
		".x.mmstats":                                                 Stats,
		".mmstats.0123456789abcdef.tmp":                              Temporary,
		".mmstats.0123456789ABCDEF.tmp":                              Stats, // uppercase: not the writer's
		".mmstats.0123456789abcde.tmp":                               Stats, // 15 digits
		".mmstats.0123456789abcdef0.tmp":                             Stats, // 17 digits
		".app-1-1.mmstats.tmp0123456789ab":                           Temporary,
		".app-1-1.mmstats.tmp0123456789a":                            Stats,
		".tmp0123456789ab":                                           Stats, // no NAME
		".x.mmstats.cleanstats-0123456789abcdef":                     Aside,
		".x.mmstats.cleanstats-0123456789abcde":                      Stats,
		"..cleanstats-0123456789abcdef":                              Stats, // no NAME
		"x.mmstats.cleanstats-0123456789abcdef":                      Stats, // no dot
		"..mmstats.0123456789abcdef.tmp.cleanstats-0123456789abcdef": Aside,
	} {
		if got := KindOf(name); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", name, got, want)
		}
	}
	if got := asideOrigin(".x.mmstats.cleanstats-0123456789abcdef"); got != "x.mmstats" {
		t.Errorf("asideOrigin: %q", got)
	}
	a, b := asideName("x.mmstats"), asideName("x.mmstats")
	if a == b || asideOrigin(a) != "x.mmstats" || asideOrigin(b) != "x.mmstats" {
		t.Errorf("asideName: %q, %q", a, b)
	}
}

func TestMatches(t *testing.T) {
	dir := t.TempDir()
	names := []string{
		"a.mmstats", "b.mmstats", "notes.txt",
		".a.mmstats.cleanstats-0123456789abcdef",
		".notes.txt.cleanstats-0123456789abcdef",
		".mmstats.0123456789abcdef.tmp",
		".b.mmstats.tmp0123456789ab",
		".notes.txt.tmp0123456789ab",
		"..mmstats.0123456789abcdef.tmp.cleanstats-0123456789abcdef",
	}
	for _, n := range names {
		testutil.WriteFile(t, dir, n, nil)
	}
	for _, tt := range []struct {
		pattern string
		want    []string
	}{
		{DefaultPattern, []string{
			"..mmstats.0123456789abcdef.tmp.cleanstats-0123456789abcdef",
			".a.mmstats.cleanstats-0123456789abcdef",
			".b.mmstats.tmp0123456789ab",
			".mmstats.0123456789abcdef.tmp",
			"a.mmstats", "b.mmstats",
		}},
		{"a*", []string{".a.mmstats.cleanstats-0123456789abcdef", "a.mmstats"}},
		{"b.mmstats", []string{".b.mmstats.tmp0123456789ab", "b.mmstats"}},
		{"*.txt", []string{".notes.txt.cleanstats-0123456789abcdef", ".notes.txt.tmp0123456789ab", "notes.txt"}},
		{"none", nil},
	} {
		got, err := Matches(dir, tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, n := range tt.want {
			want = append(want, filepath.Join(dir, n))
		}
		if !slices.Equal(got, want) {
			t.Errorf("Matches(%q):\n got %s\nwant %s", tt.pattern, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
	if _, err := Matches(filepath.Join(dir, "missing"), DefaultPattern); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}
	if _, err := Matches(filepath.Join(dir, "a.mmstats"), DefaultPattern); err == nil {
		t.Error("a file as the directory: no error")
	}
	if _, err := Matches(dir, "["); !errors.Is(err, filepath.ErrBadPattern) {
		t.Errorf("bad pattern: %v", err)
	}
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked")
		os.Mkdir(locked, 0)
		if _, err := Matches(locked, DefaultPattern); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("unreadable directory: %v", err)
		}
	}
}

func TestSplitPath(t *testing.T) {
	for _, p := range []string{
		"/tmp/a.mmstats", "a.mmstats", "./a.mmstats", "../x/a.mmstats", "/tmp//a.mmstats", "/tmp/./a.mmstats",
		"/tmp/x/../a.mmstats", "/tmp/.a.mmstats.cleanstats-0123456789abcdef", "/", ".", "..", "", "/a", "dir/",
		"/tmp/a.", "/tmp/a..b", "x/.", "x/..",
	} {
		dir, name := splitPath(p)
		c := filepath.Clean(p)
		if dir != filepath.Dir(c) || name != filepath.Base(c) {
			t.Errorf("splitPath(%q) = %q, %q; want %q, %q", p, dir, name, filepath.Dir(c), filepath.Base(c))
		}
		if looksClean(p) && c != p {
			t.Errorf("looksClean(%q), Clean gives %q", p, c)
		}
	}
}
