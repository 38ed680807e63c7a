package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestManUpToDate fails when man/ differs from what the commands generate.
func TestManUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := generate(tmp); err != nil {
		t.Fatal(err)
	}
	manDir := filepath.Join("..", "..", "..", "man")
	generated := pages(t, tmp)
	if n := len(commands(pageStreams())); len(generated) < n {
		t.Fatalf("generated %d pages for %d commands", len(generated), n)
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

// ansi matches the escape sequences and overstrikes of formatted output.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m|.\b")

// TestPagesKeepEveryCharacter renders each page with man(1), as a user
// reads it, and checks that every word of the command's help (its text,
// usage line, examples and flags) is on the page as --help prints it: no
// underscore taken for emphasis, no quote made typographic, no hyphen
// made a dash, no line of a table or example refilled.
func TestPagesKeepEveryCharacter(t *testing.T) {
	man := testutil.Tool(t, "man-db", "man")
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range commands(pageStreams()) {
		cmd.InitDefaultHelpFlag()
		page := filepath.Join(dir, pageName(cmd))
		c := exec.Command(man, "-l", page)
		c.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "MAN_KEEP_FORMATTING=")
		out, err := c.Output()
		if err != nil {
			t.Fatalf("man -l %s: %v", page, err)
		}
		rendered := ansi.ReplaceAllStringFunc(string(out), func(s string) string {
			if strings.HasSuffix(s, "\b") {
				return ""
			}
			return s[len(s)-1:]
		})
		rendered = ansi.ReplaceAllString(rendered, "")
		help := strings.Join([]string{cmd.Long, cmd.Example, cmd.UseLine(), cmd.Short, cmd.Flags().FlagUsages()}, "\n")
		have := map[string]int{}
		for _, w := range strings.Fields(rendered) {
			have[w]++
		}
		for _, w := range strings.Fields(help) {
			if have[w] == 0 {
				t.Errorf("%s: the page lacks %q (rendered by man):\n%s", pageName(cmd), w, rendered)
				break
			}
			have[w]--
		}
		for _, c := range "_*\\-`'\"~^[]$|&<>" {
			if h, r := strings.Count(help, string(c)), strings.Count(rendered, string(c)); r < h {
				t.Errorf("%s: %d %q in the help, %d on the page", pageName(cmd), h, c, r)
			}
		}
		// Preformatted lines keep their alignment: each indented line of
		// the help is a line of the page, with the same spaces inside.
		for _, l := range strings.Split(cmd.Long+"\n"+cmd.Example, "\n") {
			if strings.HasPrefix(l, "  ") && !strings.Contains(rendered, strings.TrimSpace(l)) {
				t.Errorf("%s: the line %q is not on the page as it is", pageName(cmd), strings.TrimSpace(l))
			}
		}
	}
}
