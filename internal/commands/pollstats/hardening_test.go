package pollstats

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// TestHeaderShownOnceAtStart: on a terminal, the header printed at start
// is replaced in place when the first line's values change the columns,
// unless something was printed after it (a warning on the terminal),
// which a rewrite would clobber: then it is printed again.
func TestHeaderShownOnceAtStart(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.mmstats")
	b := filepath.Join(dir, "b.mmstats")
	writeRaw(t, a, map[string]uint64{"x": 1234567})
	writeRaw(t, b, map[string]uint64{"x": 1})

	h := newHarness(t, func() {})
	h.term, h.width = true, 40
	if code := h.run("-v", "-a", "-c", "1", "x", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got, want := screen(h.out.String()), "      x\n1234568\n"; got != want {
		t.Errorf("screen %q, want %q (raw %q)", got, want, h.out.String())
	}

	// A warning came after the header: it stays, and so does the header.
	h = newHarness(t, func() {
		if err := os.Truncate(b, 0); err != nil {
			t.Fatal(err)
		}
	})
	h.term, h.width = true, 40
	if code := h.run("-v", "-a", "-c", "1", "x", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got, want := h.out.String(), "    x\n      x\n1234567\n"; got != want {
		t.Errorf("after a warning: output %q, want %q", got, want)
	}
	if !strings.Contains(h.err.String(), b) {
		t.Errorf("no warning about %s: %q", b, h.err.String())
	}

	// Piped, the header is printed once and never rewritten.
	writeRaw(t, b, map[string]uint64{"x": 1})
	h = newHarness(t, func() {})
	if code := h.run("-a", "-c", "1", "x", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got, want := h.out.String(), "    x\n1234568\n"; got != want {
		t.Errorf("piped: %q, want %q", got, want)
	}
}

// TestExactSums: integer fields sum exactly past 64 bits, and negative
// ones too (as 0.8.0's pollstats, with Python's integers, did); an
// unchanged infinity is no change.
func TestExactSums(t *testing.T) {
	dir := t.TempDir()
	v1file.Write(t, filepath.Join(dir, "a.mmstats"),
		v1file.Unbuffered("big", "Q", v1file.U64(math.MaxUint64)),
		v1file.Unbuffered("neg", "q", v1file.I64(math.MinInt64)),
		v1file.Unbuffered("inf", "d", v1file.F64(math.Inf(1))))
	h := newHarness(t, func() {})
	if code := h.run("-a", "-c", "1", "big,neg", filepath.Join(dir, "a.mmstats")); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got := strings.Fields(h.lines()[1]); strings.Join(got, " ") != "18446744073709551615 -9223372036854775808" {
		t.Errorf("one file: %q", h.lines())
	}
	v1file.Write(t, filepath.Join(dir, "b.mmstats"),
		v1file.Unbuffered("big", "Q", v1file.U64(math.MaxUint64)),
		v1file.Unbuffered("neg", "q", v1file.I64(math.MinInt64)),
		v1file.Unbuffered("inf", "d", v1file.F64(math.Inf(1))))
	h = newHarness(t, func() {}, func() {})
	if code := h.run("-a", "-c", "1", "big,neg", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got := strings.Fields(h.lines()[1]); strings.Join(got, " ") != "36893488147419103230 -18446744073709551616" {
		t.Errorf("two files: %q", h.lines())
	}
	h = newHarness(t, func() {}, func() {})
	if code := h.run("-c", "2", "inf", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if got := strings.Join(strings.Fields(strings.Join(h.lines(), " ")), " "); got != "inf 0 0" {
		t.Errorf("unchanged +Inf: %q", got)
	}
}

// TestWarningsQuotePaths: a file name with escapes and a newline reaches
// stderr quoted.
func TestWarningsQuotePaths(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.mmstats")
	writeRaw(t, good, map[string]uint64{"x": 1})
	evil := filepath.Join(dir, "evil\x1b]0;pwned\a\npollstats: forged.mmstats")
	if err := os.WriteFile(evil, []byte{9, 9, 9}, 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func() {})
	if code := h.run("-vv", "-c", "1", "x", good, evil); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	stderr := h.err.String()
	if !strings.Contains(stderr, "pollstats: "+cli.Quote(evil)+": not an mmstats v1 file") {
		t.Errorf("stderr does not name the file quoted:\n%s", stderr)
	}
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		if strings.HasPrefix(l, "pollstats: forged") {
			t.Errorf("a forged line: %q", l)
		}
	}
	if strings.ContainsAny(stderr, "\x1b\a") {
		t.Errorf("raw escapes on stderr: %q", stderr)
	}
}
