package fileid

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOf: a file keeps its ID under another name and through a
// descriptor; another file has another ID.
func TestOf(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("a"), 0o644)
	os.WriteFile(b, []byte("b"), 0o644)
	id := func(path string) ID {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		id, ok := Of(fi)
		if !ok || id == (ID{}) {
			t.Fatalf("Of(%s) = %v, %v", path, id, ok)
		}
		return id
	}
	ida := id(a)
	if id(b) == ida {
		t.Fatal("two files have one ID")
	}
	f, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if got, _ := Of(fi); got != ida {
		t.Errorf("through a descriptor: %v, want %v", got, ida)
	}
	c := filepath.Join(dir, "c")
	if err := os.Rename(a, c); err != nil {
		t.Fatal(err)
	}
	if id(c) != ida {
		t.Error("a renamed file changed its ID")
	}
}
