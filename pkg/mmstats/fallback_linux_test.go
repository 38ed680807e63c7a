package mmstats_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// TestWithoutRenameat2 runs the writer as it runs on FreeBSD: no unnamed
// files, no renameat2. New names a file by link and unlink and never
// replaces one; growth checks the path, then renames the copy over it,
// and loses no update; no temporary file is left behind.
func TestWithoutRenameat2(t *testing.T) {
	defer mmstats.SetUnnamed(mmstats.SetUnnamed(false))
	defer mmstats.SetRenameat2(mmstats.SetRenameat2(false))

	dir := t.TempDir()
	taken := filepath.Join(dir, "taken.mmstats")
	if err := os.WriteFile(taken, []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "taken.mmstats"}); !errors.Is(err, os.ErrExist) {
		t.Errorf("New over an existing file: %v, want os.ErrExist", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "not ours" {
		t.Errorf("the existing file was replaced (%d bytes now)", len(b))
	}
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "new.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "taken.mmstats" {
		t.Errorf("left in the directory: %v, want only taken.mmstats", names)
	}

	growHammered(t)
}
