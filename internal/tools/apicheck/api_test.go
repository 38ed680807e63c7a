package apicheck

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite api/*.txt from the code")

// TestAPIUnchanged fails when a public package's API differs from its
// api/<pkg>.txt, naming the lines added and removed; -update accepts the
// change.
func TestAPIUnchanged(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	for _, pkg := range Packages {
		file := filepath.Join(root, "api", filepath.Base(pkg)+".txt")
		if *update {
			if err := Write(filepath.Join(root, pkg), file); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := API(filepath.Join(root, pkg))
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (go test ./internal/tools/apicheck -update writes it)", err)
		}
		want := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		inWant := map[string]bool{}
		for _, l := range want {
			inWant[l] = true
		}
		inGot := map[string]bool{}
		for _, l := range got {
			inGot[l] = true
			if !inWant[l] {
				t.Errorf("%s: new API not in %s: %s", pkg, file, l)
			}
		}
		for _, l := range want {
			if !inGot[l] {
				t.Errorf("%s: API in %s is gone: %s", pkg, file, l)
			}
		}
	}
	if t.Failed() {
		t.Log("if the change is meant, accept it with: go test ./internal/tools/apicheck -update")
	}
}

// TestAPISeesChanges: the check notices a new exported function, a
// changed signature and a new struct field.
func TestAPISeesChanges(t *testing.T) {
	dir := t.TempDir()
	write := func(src string) []string {
		if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		lines, err := API(dir)
		if err != nil {
			t.Fatal(err)
		}
		return lines
	}
	base := write("package p\n\ntype T struct{ A int; b int }\n\nfunc F(x int) error { return nil }\nfunc g() {}\nconst C = 3\n")
	want := []string{"pkg p, const C = 3", "pkg p, func F(x int) error", "pkg p, type T struct", "pkg p, type T struct, A int"}
	if strings.Join(base, "|") != strings.Join(want, "|") {
		t.Fatalf("API = %q, want %q", base, want)
	}
	for _, src := range []string{
		"package p\n\ntype T struct{ A int; b int }\n\nfunc F(x int64) error { return nil }\nconst C = 3\n",
		"package p\n\ntype T struct{ A, B int }\n\nfunc F(x int) error { return nil }\nconst C = 3\n",
		"package p\n\ntype T struct{ A int }\n\nfunc F(x int) error { return nil }\nfunc G() {}\nconst C = 3\n",
		"package p\n\ntype T struct{ A int }\n\nfunc F(x int) error { return nil }\nconst C = 4\n",
	} {
		if got := write(src); strings.Join(got, "|") == strings.Join(base, "|") {
			t.Errorf("no change seen for:\n%s", src)
		}
	}
}
