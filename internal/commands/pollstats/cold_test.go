//go:build unix

package pollstats

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/mmstats"
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

// A cold file due its full look in the hot loop (lookWords) is read with
// the checks reader.UnchangedWords makes of a mapped file: a file its
// writer superseded (first byte cleared), or a field appended to in
// place (the end marker no longer zero), is not read as words but left
// to look; the words read are the file's. With a descriptor kept on
// the file, and without.
func TestLookWordsChecksTheFile(t *testing.T) {
	for _, fds := range []int{1 << 10, 0} {
		t.Run(fmt.Sprintf("descriptors=%d", fds), func(t *testing.T) {
			coldForTest = true
			fdLimit = func() int { return fds }
			t.Cleanup(func() { coldForTest, fdLimit = false, fdBudget })
			dir := t.TempDir()
			w := newWriter(t, dir, "w0.mmstats")
			newWriter(t, dir, "w1.mmstats")
			w.OK.Add(41)
			p := quietPoller(t, &Options{Prefix: "web.stats", Fields: []string{"status.2XX"}, Args: []string{dir}, Delay: time.Second})
			now := time.Now().Add(2 * racyWindow)
			for range 2 {
				now = now.Add(time.Second)
				p.poll(now)
			}
			tr := p.files[w.f.Path()]
			if tr == nil || !tr.cold || !quickable(tr) {
				t.Fatalf("%s is not a cold file read as words: %+v", w.f.Path(), tr)
			}
			dst := make([]uint64, len(tr.fast.load))
			read := func(want bool, why string) {
				t.Helper()
				clear(dst)
				if got := p.lookWords(tr, dst); got != want {
					t.Fatalf("%s: lookWords %v, want %v", why, got, want)
				}
				if want && dst[0] != 41 {
					t.Errorf("%s: words %v, want [41]", why, dst)
				}
				if !p.coldWords(tr, dst) || dst[0] != 41 {
					t.Errorf("%s: coldWords read %v, want [41]", why, dst)
				}
			}
			read(true, "unchanged")
			setFirstByte(t, w.f.Path(), v1.Superseded)
			read(false, "superseded")
			setFirstByte(t, w.f.Path(), v1.Version1)
			read(true, "back")
			var extra mmstats.Counter
			if err := w.f.Add("extra", &extra); err != nil {
				t.Fatal(err)
			}
			clear(dst)
			if p.lookWords(tr, dst) {
				t.Error("a field appended: lookWords read the file as words")
			}
		})
	}
}

// setFirstByte writes b at the start of the file at path.
func setFirstByte(t *testing.T, path string, b byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{b}, 0); err != nil {
		t.Fatal(err)
	}
}
