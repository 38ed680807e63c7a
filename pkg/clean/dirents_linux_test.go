//go:build linux

package clean

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestListMatching: the getdents listing gives, for every pattern and
// way of naming the directory, the entries (paths and types) that
// os.File.ReadDir gives, over a directory with files of every type,
// hidden files of every kind (aside, temporary, older temporary,
// others) and names the pattern does not match.
func TestListMatching(t *testing.T) {
	dir := t.TempDir()
	names := []string{
		"a.mmstats", "b.stats", "c.mmstats.old", "mmstats", ".mmstats",
		".a.mmstats.cleanstats-0123456789abcdef", ".x.txt.cleanstats-0123456789abcdef",
		".mmstats.0123456789abcdef.tmp", ".a.mmstats.tmp0123456789ab", ".hidden.mmstats", ".other",
		"w\x01.mmstats", "a b.mmstats",
	}
	for i := range 300 { // more than one getdents buffer of records
		names = append(names, fmt.Sprintf("w%06d-%s.mmstats", i, strings.Repeat("n", 100)))
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "d.mmstats"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.mmstats", filepath.Join(dir, "l.mmstats")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "f.mmstats"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := net.Listen("unix", filepath.Join(dir, "s.mmstats")); err == nil {
		defer l.Close()
	}
	for _, d := range []string{dir, dir + "/", dir + "/.", "/" + dir} {
		for _, pattern := range []string{DefaultPattern, "*.stats", "*", "w*.mmstats", "?.mmstats", "*.txt"} {
			want, err := MatchEntries(d, pattern)
			if err != nil {
				t.Fatal(err)
			}
			// What MatchEntries gives through ReadDir.
			got := want
			if got, err = listMatchingDir(d, newListing(d, pattern)); err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, %q:\ngetdents %v\nReadDir  %v", d, pattern, want, got)
			}
			if pattern == DefaultPattern && d == dir && len(want) < 300 {
				t.Errorf("%s, %q: %d entries", d, pattern, len(want))
			}
		}
	}
	if _, err := MatchEntries(filepath.Join(dir, "none"), DefaultPattern); !os.IsNotExist(err) {
		t.Errorf("a directory that does not exist: %v", err)
	}
	if _, err := MatchEntries(filepath.Join(dir, "a.mmstats"), DefaultPattern); err == nil {
		t.Errorf("a file for a directory: no error")
	}
}

// TestDirentTypes: the types a listing gives (d_type) and an lstat gives
// (st_mode), as os gives them.
func TestDirentTypes(t *testing.T) {
	for _, c := range []struct {
		dtype uint8
		mode  uint32
	}{{unix.DT_REG, unix.S_IFREG}, {unix.DT_DIR, unix.S_IFDIR}, {unix.DT_LNK, unix.S_IFLNK}, {unix.DT_FIFO, unix.S_IFIFO},
		{unix.DT_SOCK, unix.S_IFSOCK}, {unix.DT_CHR, unix.S_IFCHR}, {unix.DT_BLK, unix.S_IFBLK}} {
		typ, ok := direntType(c.dtype)
		if !ok || typ != modeType(c.mode) {
			t.Errorf("d_type %d: %v, %v; st_mode %o: %v", c.dtype, typ, ok, c.mode, modeType(c.mode))
		}
	}
	if _, ok := direntType(unix.DT_UNKNOWN); ok {
		t.Error("DT_UNKNOWN known")
	}
	for _, p := range []string{"/dev/null", "/", "/proc/self"} {
		var st unix.Stat_t
		fi, err := os.Lstat(p)
		if err != nil || unix.Lstat(p, &st) != nil {
			continue
		}
		if modeType(st.Mode) != fi.Mode().Type() {
			t.Errorf("%s: %v, os says %v", p, modeType(st.Mode), fi.Mode().Type())
		}
	}
}
