package reader

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBudgetFor: all of vm.max_map_count is the files' but a sixteenth
// of it, and at least 4,096 mappings, left to the rest of the process.
func TestBudgetFor(t *testing.T) {
	for _, c := range []struct{ limit, want int64 }{
		{65530, 65530 - 4096},
		{262144, 262144 - 16384},
		{1 << 20, 1<<20 - 1<<16},
		{5000, 904},
		{4096, 1},
		{100, 1},
	} {
		if got := budgetFor(c.limit); got != c.want {
			t.Errorf("budgetFor(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
}

// TestCloseUnmapsWholly opens many files, each mapped once, and closes
// them: no mapping of any is left in the process's memory map, and the
// count of live mappings is back where it was (mmap and munmap are the
// package's own, without unix.Mmap's record of each mapping).
func TestCloseUnmapsWholly(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "python-v1", "defaults.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const n = 64
	var files []*File
	before := liveMaps.Load()
	for k := range n {
		p := filepath.Join(dir, "f"+string(rune('A'+k%26))+string(rune('a'+k/26))+".mmstats")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if f.IsCopy() {
			t.Fatalf("%s: read into a copy, not mapped", p)
		}
		files = append(files, f)
	}
	if got := mappingsUnder(t, dir); got != n {
		t.Fatalf("%d mappings of the files while open, want %d", got, n)
	}
	if got := liveMaps.Load() - before; got != n {
		t.Errorf("%d live mappings counted, want %d", got, n)
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := mappingsUnder(t, dir); got != 0 {
		t.Errorf("%d mappings of the files left after Close", got)
	}
	if got := liveMaps.Load(); got != before {
		t.Errorf("%d live mappings counted after Close, want %d", got, before)
	}
}

// mappingsUnder counts the lines of /proc/self/maps that map a file in
// dir.
func mappingsUnder(t *testing.T, dir string) int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, dir+"/") {
			n++
		}
	}
	return n
}
