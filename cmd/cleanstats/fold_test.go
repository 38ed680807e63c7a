//go:build linux

package main

// End-to-end tests of folding: real writer processes (testwriter, the
// default file name template) exit cleanly or are killed, cleanstats
// processes fold what they left, several at once, and writers in PID
// namespaces of their own, each PID 1, share one directory.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// The totals file of testwriter's files with the default template.
const writerTotals = "testwriter-totals.mmstats"

// totalsOf reads a totals file: every.counter, the count of
// every.histogram, and whether it has a gauge (every.int) or sys.pid.
func totalsOf(t *testing.T, path string) (counter, hist uint64, gauge bool) {
	t.Helper()
	stats, err := reader.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		switch s.Label {
		case "every.counter":
			counter = s.Value.Uint()
		case "every.histogram.count":
			hist = s.Value.Uint()
		case "every.int", "sys.pid":
			gauge = true
		}
	}
	return counter, hist, gauge
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestFoldWriterProcesses: a writer that exits cleanly folds its own
// file into testwriter-totals.mmstats; cleanstats folds the files of the
// killed ones (its lines say into what), --dry-run folds nothing, the
// totals file is kept (shown with -v, kind "totals" in --json), and it
// holds the sum of the counters and histograms, without gauges.
func TestFoldWriterProcesses(t *testing.T) {
	dir := t.TempDir()
	totals := filepath.Join(dir, writerTotals)
	var ws []*testutil.Process
	var paths []string
	for k := 1; k <= 4; k++ {
		w, path := testutil.StartWriter(t, nil, "-dir", dir, "-counter", strconv.Itoa(k))
		ws, paths = append(ws, w), append(paths, path)
	}
	ws[0].CloseStdin() // exits cleanly: Remove folds the file
	if err := ws[0].Wait(t, 10*time.Second); err != nil {
		t.Fatalf("writer: %v: %s", err, ws[0].Stderr())
	}
	if c, h, gauge := totalsOf(t, totals); c != 1 || h != 4 || gauge || testutil.Exists(t, paths[0]) {
		t.Fatalf("after a clean exit: totals counter %d, histogram count %d, a gauge %v; file left %v",
			c, h, gauge, testutil.Exists(t, paths[0]))
	}
	for _, w := range ws[1:3] {
		w.Cmd.Process.Kill()
		w.Wait(t, 10*time.Second)
	}
	pid := func(k int) int { return ws[k].Cmd.Process.Pid }

	r := clean(t, 0, "--dry-run", dir)
	hasLines(t, r.Stdout,
		fmt.Sprintf("Writer (PID %d) no longer holds its lock. Would delete %s (would fold it into %s)", pid(1), paths[1], totals),
		"Would remove 2  -  1 alive")
	if c, _, _ := totalsOf(t, totals); c != 1 || !testutil.Exists(t, paths[1]) {
		t.Fatal("the dry run folded or removed something")
	}

	r = clean(t, 0, dir)
	hasLines(t, r.Stdout,
		fmt.Sprintf("Writer (PID %d) no longer holds its lock. Deleting %s (folded into %s)", pid(1), paths[1], totals),
		fmt.Sprintf("Writer (PID %d) no longer holds its lock. Deleting %s (folded into %s)", pid(2), paths[2], totals),
		"Removed 2  -  1 alive")
	if strings.Contains(r.Stdout, writerTotals+":") || strings.Contains(r.Stdout, "kept: "+totals) {
		t.Errorf("the totals file is reported without -v:\n%s", r.Stdout)
	}
	if c, h, gauge := totalsOf(t, totals); c != 6 || h != 12 || gauge {
		t.Errorf("totals counter %d, histogram count %d, a gauge %v; want 6, 12, none", c, h, gauge)
	}

	r = clean(t, 0, "-v", dir)
	hasLines(t, r.Stdout, "Totals of the files folded into it, kept: "+totals, "Removed 0  -  1 alive")
	r = clean(t, 0, "--json", dir)
	var line struct{ Kind, Decision, Reason, Path string }
	found := false
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
		found = found || line.Path == totals && line.Kind == "totals" && line.Decision == "skipped" && line.Reason == "totals"
	}
	if !found {
		t.Errorf("--json does not report the totals file as kind totals, skipped for reason totals:\n%s", r.Stdout)
	}

	ws[3].CloseStdin()
	if err := ws[3].Wait(t, 10*time.Second); err != nil {
		t.Fatalf("writer: %v: %s", err, ws[3].Stderr())
	}
	if c, h, _ := totalsOf(t, totals); c != 10 || h != 16 {
		t.Errorf("totals counter %d, histogram count %d; want 10, 16", c, h)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{writerTotals}) {
		t.Errorf("left: %q", got)
	}
}

// TestConcurrentFolds: four cleanstats run at once over 200 dead
// writers' files while four writers exit cleanly, folding their own:
// every file is folded once, the totals are exact, and nothing else is
// left.
func TestConcurrentFolds(t *testing.T) {
	dir := testutil.MemDir(t)
	const dead = 200
	for k := range dead {
		var m struct {
			C mmstats.Counter `mmstats:"every.counter"`
		}
		// The same name template as testwriter's files, so the same
		// totals file; renamed as another process's file would be named.
		f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "testwriter-{PID}-{TID}.mmstats"})
		if err != nil {
			t.Fatal(err)
		}
		m.C.Add(uint64(k))
		f.Close()
		if err := os.Rename(f.Path(), filepath.Join(dir, fmt.Sprintf("testwriter-%d-x%d.mmstats", os.Getpid(), k))); err != nil {
			t.Fatal(err)
		}
	}
	want := uint64(dead * (dead - 1) / 2)
	var ws []*testutil.Process
	for k := 1; k <= 4; k++ {
		w, _ := testutil.StartWriter(t, nil, "-dir", dir, "-counter", strconv.Itoa(1000*k))
		ws = append(ws, w)
		want += uint64(1000 * k)
	}
	var wg sync.WaitGroup
	results := make([]testutil.Result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = testutil.Run(t, nil, bin(t), "-q", dir)
		}()
	}
	for _, w := range ws {
		w.CloseStdin()
	}
	wg.Wait()
	for _, w := range ws {
		if err := w.Wait(t, 30*time.Second); err != nil {
			t.Errorf("writer: %v: %s", err, w.Stderr())
		}
	}
	for _, r := range results {
		if r.Code != 0 || r.Stderr != "" {
			t.Errorf("cleanstats: exit %d: %s", r.Code, r.Stderr)
		}
	}
	clean(t, 0, "-q", dir) // what the four ran too early to see as stale
	if c, _, _ := totalsOf(t, filepath.Join(dir, writerTotals)); c != want {
		t.Errorf("totals counter %d, want %d", c, want)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{writerTotals}) {
		t.Errorf("left: %q", got)
	}
}

// TestFoldAcrossPIDNamespaces: two writers, each PID 1 in a PID
// namespace of its own, the default file name template, one directory.
// Their files do not collide ({PID} is 1.NAMESPACE-INODE there), both are
// kept while they live, and both are folded into one totals file: the
// first by its writer at a clean exit, the second by cleanstats once its
// writer is killed.
func TestFoldAcrossPIDNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --pid --fork --mount-proc (scripts/test runs as root)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skipf("no unshare(1): %v", err)
	}
	prefix := []string{unshare, "--pid", "--fork", "--mount-proc", "--kill-child"}
	if out, err := exec.Command(prefix[0], append(prefix[1:], "true")...).CombinedOutput(); err != nil {
		t.Skipf("cannot make a PID namespace here: %v: %s", err, out)
	}
	dir := testutil.SharedDir(t, 0o755)
	totals := filepath.Join(dir, writerTotals)
	name := regexp.MustCompile(`^testwriter-1\.(\d+)-\d+\.mmstats$`)
	var ws []*testutil.Process
	var paths []string
	for range 2 {
		w, path := testutil.StartWriterVia(t, prefix, "-dir", dir)
		ws, paths = append(ws, w), append(paths, path)
		m := name.FindStringSubmatch(filepath.Base(path))
		if m == nil || m[1] == "4026531836" {
			t.Fatalf("a writer in a PID namespace of its own made %s; want testwriter-1.<its namespace's inode>-TID.mmstats", path)
		}
		stats, err := reader.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stats {
			if s.Label == "sys.pid" && s.Value.Uint() != 1 {
				t.Fatalf("%s: sys.pid %v, want 1", path, s.Value)
			}
			if s.Label == "sys.totals" && s.Value.Str() != writerTotals {
				t.Fatalf("%s: sys.totals %q", path, s.Value.Str())
			}
		}
	}
	if paths[0] == paths[1] {
		t.Fatalf("both writers use %s", paths[0])
	}

	r := clean(t, 0, "-v", dir)
	hasLines(t, r.Stdout, "Writer (PID 1) holds its lock. Keeping "+paths[0], "Writer (PID 1) holds its lock. Keeping "+paths[1],
		"Removed 0  -  2 alive")

	ws[0].CloseStdin() // a clean exit: it folds its own file
	if err := ws[0].Wait(t, 10*time.Second); err != nil {
		t.Fatalf("writer: %v: %s", err, ws[0].Stderr())
	}
	if c, _, _ := totalsOf(t, totals); c != 42 || testutil.Exists(t, paths[0]) || !testutil.Exists(t, paths[1]) {
		t.Fatalf("after the first writer's exit: totals %d, its file left %v, the other's there %v",
			c, testutil.Exists(t, paths[0]), testutil.Exists(t, paths[1]))
	}
	r = clean(t, 0, "-v", dir)
	hasLines(t, r.Stdout, "Writer (PID 1) holds its lock. Keeping "+paths[1], "Removed 0  -  1 alive")

	ws[1].Cmd.Process.Kill() // unshare --kill-child: the writer dies with it
	ws[1].Wait(t, 10*time.Second)
	testutil.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(clean(t, 0, "--dry-run", dir).Stdout, "Would remove 1")
	}, func() string { return "the killed writer's lock is still held" })
	r = clean(t, 0, dir)
	hasLines(t, r.Stdout, fmt.Sprintf("Writer (PID 1) no longer holds its lock. Deleting %s (folded into %s)", paths[1], totals),
		"Removed 1  -  0 alive")
	if c, _, _ := totalsOf(t, totals); c != 84 {
		t.Errorf("totals %d, want 84: both writers' counters", c)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{writerTotals}) {
		t.Errorf("left: %q", got)
	}
}
