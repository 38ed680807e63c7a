package slurpstats

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatIsAnAliasOfOutput: --format prometheus is -o prometheus.
func TestFormatIsAnAliasOfOutput(t *testing.T) {
	fixtures := filepath.Join("..", "..", "..", "pkg", "reader", "testdata", "python-v1", "counters.mmstats")
	a := run(t, nil, "--format", "prometheus", fixtures)
	b := run(t, nil, "-o", "prometheus", fixtures)
	if a.code != 0 || a.stdout != b.stdout || !strings.Contains(a.stdout, "# TYPE mmstats_requests untyped") {
		t.Errorf("--format prometheus: exit %d\n%s\nwant\n%s", a.code, a.stdout, b.stdout)
	}
	if r := run(t, nil, "--format", "bogus", fixtures); r.code != 2 {
		t.Errorf("--format bogus: exit %d, want 2", r.code)
	}
}
