package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestManUpToDate fails when man/ differs from what the commands generate.
func TestManUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := generate(tmp); err != nil {
		t.Fatal(err)
	}
	manDir := filepath.Join("..", "..", "..", "man")
	generated := pages(t, tmp)
	if len(generated) < len(commands) {
		t.Fatalf("generated %d pages for %d commands", len(generated), len(commands))
	}
	if committed := pages(t, manDir); !slices.Equal(committed, generated) {
		t.Errorf("man/ has %v, the commands generate %v; run scripts/gen-man", committed, generated)
	}
	for _, name := range generated {
		want, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(manDir, name))
		if err != nil {
			t.Errorf("man/%s: %v; run scripts/gen-man", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("man/%s is out of date; run scripts/gen-man", name)
		}
	}
}

// TestReproducible checks that two runs give the same bytes.
func TestReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := generate(a); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MMSTATS_PATH", "/elsewhere")
	t.Setenv("SOURCE_DATE_EPOCH", "1")
	if err := generate(b); err != nil {
		t.Fatal(err)
	}
	for _, name := range pages(t, a) {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs (%v)", name, err)
		}
		if !bytes.Contains(x, []byte(".TH ")) || !bytes.Contains(x, []byte("May 2026")) {
			t.Errorf("%s: no .TH header with the fixed date:\n%s", name, x)
		}
	}
}

// pages lists the man pages (*.1 ... *.9) in dir, sorted.
func pages(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.[1-9]"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = filepath.Base(m)
	}
	slices.Sort(names)
	return names
}
