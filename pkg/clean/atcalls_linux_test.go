//go:build linux && (amd64 || arm64)

package clean

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAtCallsAllocateNothing: the calls a file costs copy its name on
// the stack (internal/fdio/at_linux.go), not into a new slice each time.
func TestAtCallsAllocateNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.mmstats"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	dfd, err := openDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFD(dfd)
	var st fileStat
	allocs := testing.AllocsPerRun(100, func() {
		fd, err := openAt(dfd, "f.mmstats")
		if err != nil {
			t.Fatal(err)
		}
		closeFD(fd)
		if err := lstatAt(dfd, "f.mmstats", &st); err != nil {
			t.Fatal(err)
		}
		if err := renameNoReplace(dfd, "f.mmstats", ".f.mmstats.aside"); err != nil {
			t.Fatal(err)
		}
		if err := renameNoReplace(dfd, ".f.mmstats.aside", "f.mmstats"); err != nil {
			t.Fatal(err)
		}
		if err := unlinkAt(dfd, "none.mmstats"); err == nil {
			t.Fatal("unlinkAt of a missing file: no error")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations, want 0", allocs)
	}
}
