//go:build unix

package slurpstats

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil/foldtest"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestTotalCountsTheTotalsFile: --total counts the totals file, the
// dead files not folded yet, and leaves out a file that the totals file
// holds (folded, and not removed by a folder killed just then), which
// would otherwise count twice; -v says so.
func TestTotalCountsTheTotalsFile(t *testing.T) {
	dir := t.TempDir()
	foldtest.Fold(t, foldtest.Lifetime(t, dir, 10), true)  // in the totals file only
	foldtest.Fold(t, foldtest.Lifetime(t, dir, 20), false) // in the totals file, and still there
	foldtest.Lifetime(t, dir, 40)                          // dead, not folded yet
	r := run(t, nil, "--total", "--json", "-v", "-f", "requests", "-f", "lat.count", dir)
	if r.code != 0 || !strings.Contains(r.stderr, "1 file left out: a totals file holds it") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got totalJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	if got.Files != 2 || len(got.Stats) != 2 {
		t.Fatalf("%d files, %d stats:\n%s", got.Files, len(got.Stats), r.stdout)
	}
	for _, s := range got.Stats {
		if string(s.Value) != "70" || s.Files != 2 {
			t.Errorf("%s = %s over %d files, want 70 over 2 (the totals file and the dead file)", s.Label, s.Value, s.Files)
		}
	}
}

// TestTotalMalformedTotalsFile: a totals file whose sys.folded cannot be
// read is reported (it may hold files counted again), the rest counted.
func TestTotalMalformedTotalsFile(t *testing.T) {
	dir := t.TempDir()
	foldtest.Fold(t, foldtest.Lifetime(t, dir, 10), true)
	path := dir + "/" + foldtest.Totals
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range l.Fields {
		if f.Label == "sys.folded" {
			copy(data[f.Value:], "x") // no entry
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "--total", "-f", "requests", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "slurpstats: "+path+": malformed sys.folded") || !strings.Contains(r.stdout, "  requests 10  sum") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
