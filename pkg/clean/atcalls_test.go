//go:build unix

package clean

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAtCallsNames runs the calls that name a file in a directory
// (internal/fdio/at_*.go) with the names at the edges of what they copy: the
// longest name a directory holds (255 bytes), one longer, and names
// holding a NUL, which must fail as the system says and never name the
// file before the NUL.
func TestAtCallsNames(t *testing.T) {
	dir := t.TempDir()
	dfd, err := openDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFD(dfd)
	long := strings.Repeat("x", 255)
	for _, n := range []string{long, "a"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var st fileStat
	if err := lstatAt(dfd, long, &st); err != nil || !isRegular(&st) || st.Size != 4 {
		t.Fatalf("lstatAt of a 255-byte name: %v, size %d", err, st.Size)
	}
	fd, err := openAt(dfd, long)
	if err != nil {
		t.Fatalf("openAt of a 255-byte name: %v", err)
	}
	closeFD(fd)
	moved := strings.Repeat("y", 255)
	if err := renameNoReplace(dfd, long, moved); err != nil {
		t.Fatalf("renameNoReplace to a 255-byte name: %v", err)
	}
	if err := renameNoReplace(dfd, "a", moved); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("renameNoReplace over a 255-byte name: %v, want EEXIST", err)
	}
	if err := unlinkAt(dfd, moved); err != nil {
		t.Fatalf("unlinkAt of a 255-byte name: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, moved)); !os.IsNotExist(err) {
		t.Fatalf("%s after unlinkAt: %v", moved, err)
	}

	tooLong := strings.Repeat("z", 256)
	if _, err := openAt(dfd, tooLong); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("openAt of a 256-byte name: %v, want ENAMETOOLONG", err)
	}
	if err := lstatAt(dfd, tooLong, &st); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("lstatAt of a 256-byte name: %v, want ENAMETOOLONG", err)
	}
	if err := renameNoReplace(dfd, "a", tooLong); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("renameNoReplace to a 256-byte name: %v, want ENAMETOOLONG", err)
	}

	// "a" exists: a call that stopped at the NUL would reach it.
	for _, n := range []string{"a\x00b", "a\x00"} {
		if fd, err := openAt(dfd, n); !errors.Is(err, syscall.EINVAL) {
			if err == nil {
				closeFD(fd)
			}
			t.Errorf("openAt(%q): %v, want EINVAL", n, err)
		}
		if err := lstatAt(dfd, n, &st); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("lstatAt(%q): %v, want EINVAL", n, err)
		}
		if err := unlinkAt(dfd, n); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("unlinkAt(%q): %v, want EINVAL", n, err)
		}
		if err := renameNoReplace(dfd, n, "c"); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("renameNoReplace(%q, c): %v, want EINVAL", n, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "a")); err != nil {
		t.Errorf("a: %v", err)
	}
}
