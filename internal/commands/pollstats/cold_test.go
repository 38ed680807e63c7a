//go:build unix

package pollstats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests of the files' life, each file read as a cold file, as past
// the mapping budget: through a Snapshot each interval, nothing kept but
// the indexes of its columns (cold.go).
func TestColdFiles(t *testing.T) {
	coldForTest = true
	t.Cleanup(func() { coldForTest = false })
	runColdTests(t)
}

// The same, with no descriptor kept on a cold file: each is opened,
// read and closed each interval (past the descriptor budget).
func TestColdFilesNoDescriptorKept(t *testing.T) {
	coldForTest = true
	fdLimit = func() int { return 0 }
	t.Cleanup(func() { coldForTest, fdLimit = false, fdBudget })
	runColdTests(t)
}

func runColdTests(t *testing.T) {
	for name, test := range map[string]func(*testing.T){
		"DeltasSummedOverFiles":      TestDeltasSummedOverFiles,
		"FileDisappears":             TestFileDisappears,
		"FileAppearsAndIsReplaced":   TestFileAppearsAndIsReplaced,
		"FixedListKeepsItsPaths":     TestFixedListKeepsItsPaths,
		"CounterGoingBackIsANewBase": TestCounterGoingBackIsANewBaseline,
		"GaugesShowValues":           TestGaugesShowValues,
		"FieldAppendedLater":         TestFieldAppendedLater,
		"Filters":                    TestFilters,
		"ExactSums":                  TestExactSums,
		"ColumnsCombineByPolicy":     TestColumnsCombineByPolicy,
		"Each":                       TestEach,
		"FoldMovesTheBaseline":       TestFoldMovesTheBaseline,
		"HeldFileLeftOutAtStart":     TestHeldFileLeftOutAtStart,
		"FoldFoundAfterTheFileLeft":  TestFoldFoundAfterTheFileLeft,
		"JoinedFiles":                TestJoinedFiles,
	} {
		t.Run(name, test)
	}
}

// A cold file truncated to nothing is reported (read again, it is empty,
// where a mapping faults), left out, and read again when it is back,
// from a new baseline.
func TestColdFileTruncated(t *testing.T) {
	coldForTest = true
	t.Cleanup(func() { coldForTest = false })
	dir := t.TempDir()
	a := newWriter(t, dir, "a.mmstats")
	raw := filepath.Join(dir, "raw.mmstats")
	const label = status + ".2XX"
	writeRaw(t, raw, map[string]uint64{label: 5})
	h := newHarness(t,
		func() {
			a.OK.Inc()
			if err := os.Truncate(raw, 0); err != nil {
				t.Fatal(err)
			}
		},
		func() { writeRaw(t, raw, map[string]uint64{label: 100}) },
		func() { writeRaw(t, raw, map[string]uint64{label: 104}) },
	)
	if code := h.run("-v", "-c", "3", "-p", status, "2XX", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	h.expectRows(t, [][]float64{{1}, {0}, {4}})
	for _, want := range []string{raw + ": empty file", raw + ": readable again", "out of memory mappings"} {
		if !strings.Contains(h.err.String(), want) {
			t.Errorf("-v does not say %q:\n%s", want, h.err.String())
		}
	}
}
