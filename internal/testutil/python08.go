package testutil

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// iterStats08 runs the reader loop of Python mmstats 0.8.0 (iter_stats
// of its pollstats, in the Python 3 port testdata/python/pollstats08.py,
// logic unchanged) over the file at path, on a mapping as pollstats
// makes it, and prints every (label, value) it yields as JSON.
const iterStats08 = `
import json, mmap, sys
sys.path.insert(0, sys.argv[1])
import pollstats08
with open(sys.argv[2], 'rb') as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    out = []
    for label, value in pollstats08.iter_stats(m):
        if isinstance(value, bytes):
            value = value.split(b'\0', 1)[0].decode('utf-8', 'ignore')
        out.append([label, value])
json.dump(out, sys.stdout)
`

// Python08Stats runs the reader loop of Python mmstats 0.8.0 over the
// file at path and returns what it yields, as a JSON list of [label,
// value] pairs (strings cut at their first NUL). It fails the test when
// python3 is missing (scripts/test installs it) or the loop fails.
func Python08Stats(t testing.TB, path string) []byte {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required by this test (scripts/test installs it): %v", err)
	}
	r := Run(t, nil, py, "-c", iterStats08, filepath.Join(Root(t), "testdata", "python"), path)
	if r.Code != 0 {
		t.Fatalf("0.8.0's reader loop: exit %d\n%s", r.Code, r.Stderr)
	}
	return []byte(r.Stdout)
}
