package reader

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// MapWords maps a file as Words, counted in the mapping budget: Load and
// LoadBytes read what the file holds, a file truncated under the mapping
// gives ErrFault, past the budget it fails, and Unmap unmaps it wholly.
func TestMapWords(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w")
	b := make([]byte, 8192)
	binary.NativeEndian.PutUint64(b[8:], 42)
	binary.NativeEndian.PutUint64(b[4104:], 43)
	b[0], b[101] = 1, 7
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before := liveMaps.Load()
	w, err := MapWords(int(f.Fd()), len(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := liveMaps.Load() - before; got != 1 {
		t.Errorf("%d mappings counted, want 1", got)
	}
	if got := mappingsUnder(t, dir); got != 1 {
		t.Errorf("%d mappings of the file, want 1", got)
	}
	words := make([]uint64, 2)
	if err := w.Load([]int{8, 4104}, words); err != nil || words[0] != 42 || words[1] != 43 {
		t.Errorf("Load: %v %v", words, err)
	}
	bytes := make([]byte, 3)
	if err := w.LoadBytes([]int{0, 100, 101}, bytes); err != nil || bytes[0] != 1 || bytes[1] != 0 || bytes[2] != 7 {
		t.Errorf("LoadBytes: %v %v", bytes, err)
	}
	if err := w.LoadBytes([]int{8192}, bytes); !errors.Is(err, ErrTruncated) {
		t.Errorf("LoadBytes past the end: %v, want ErrTruncated", err)
	}
	if err := os.Truncate(p, 4096); err != nil {
		t.Fatal(err)
	}
	if err := w.Load([]int{4104}, words); !errors.Is(err, ErrFault) {
		t.Errorf("Load of a truncated page: %v, want ErrFault", err)
	}
	if err := w.LoadBytes([]int{4097}, bytes); !errors.Is(err, ErrFault) {
		t.Errorf("LoadBytes of a truncated page: %v, want ErrFault", err)
	}
	if err := w.Unmap(); err != nil {
		t.Fatal(err)
	}
	if got := liveMaps.Load(); got != before {
		t.Errorf("%d mappings counted after Unmap, want %d", got, before)
	}
	if got := mappingsUnder(t, dir); got != 0 {
		t.Errorf("%d mappings of the file after Unmap", got)
	}
	if err := w.Load([]int{8}, words); err != ErrClosed {
		t.Errorf("Load after Unmap: %v, want ErrClosed", err)
	}
	if err := w.Unmap(); err != nil {
		t.Errorf("Unmap twice: %v", err)
	}

	// Past the budget: no mapping, and nothing counted.
	held, err := MapWords(int(f.Fd()), 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unmap()
	old := mapBudgetVal.Load()
	mapBudgetVal.Store(liveMaps.Load()) // at least the one held
	t.Cleanup(func() { mapBudgetVal.Store(old) })
	if w, err := MapWords(int(f.Fd()), 4096); err == nil {
		w.Unmap()
		t.Error("mapped past the budget")
	}
	if got := liveMaps.Load(); got != before+1 {
		t.Errorf("%d mappings counted after a refusal, want %d", got, before+1)
	}
}
