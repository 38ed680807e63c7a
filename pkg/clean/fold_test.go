//go:build linux

package clean

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// deadFile writes the file of a dead Go writer with the template of the
// fold tests (its totals file is wtotals.mmstats), named after k: it
// counted n requests and has one request in flight (a gauge).
func deadFile(t *testing.T, dir string, k int, n uint64) string {
	t.Helper()
	var m foldModel
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: foldTemplate})
	if err != nil {
		t.Fatal(err)
	}
	m.Requests.Add(n)
	m.InFlight.Set(1)
	m.Lat.Observe(float64(n))
	f.Close() // the lock goes: as if the process had died
	path := filepath.Join(dir, fmt.Sprintf("w%d-%d.mmstats", os.Getpid(), k))
	if err := os.Rename(f.Path(), path); err != nil {
		t.Fatal(err)
	}
	return path
}

// cleanDir cleans the files of dir and returns the results by base name.
func cleanDir(t *testing.T, c *Cleaner, dir string) map[string]Result {
	t.Helper()
	paths, err := Matches(dir, DefaultPattern)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Result{}
	c.Clean(paths, func(r *Result) error {
		out[filepath.Base(r.Path)] = *r
		return nil
	})
	return out
}

// requestsIn returns requests and inflight in the file at path (inflight
// -1 if it has none).
func requestsIn(t *testing.T, path string) (requests uint64, inflight int64) {
	t.Helper()
	stats, err := reader.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inflight = -1
	for _, s := range stats {
		switch s.Label {
		case "requests":
			requests = s.Value.Uint()
		case "inflight":
			inflight = s.Value.Int()
		}
	}
	return requests, inflight
}

// TestCleanerFolds: the stale files of the Go writer are folded into
// their totals file before they are removed (and the result says so),
// a Python writer's file is removed without folding, a live file is
// kept, --dry-run folds nothing, and the totals file is kept, reported
// as such (Kind Totals).
func TestCleanerFolds(t *testing.T) {
	dir := t.TempDir()
	var dead []string
	for k := 1; k <= 3; k++ {
		dead = append(dead, deadFile(t, dir, k, uint64(k)))
	}
	var live foldModel
	lf, err := mmstats.New(&live, mmstats.Options{Dir: dir, Filename: foldTemplate})
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Remove()
	live.Requests.Add(100)
	py := testutil.WriteFile(t, dir, "python.mmstats", v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now()))
	totals := filepath.Join(dir, foldTotals)

	got := cleanDir(t, &Cleaner{DryRun: true}, dir)
	for _, p := range dead {
		if r := got[filepath.Base(p)]; r.Decision != WouldRemove || r.FoldedInto != totals {
			t.Errorf("dry run: %s: %s, folded into %q", p, r.Decision, r.FoldedInto)
		}
	}
	if r := got["python.mmstats"]; r.Decision != WouldRemove || r.FoldedInto != "" {
		t.Errorf("dry run: python file: %s, folded into %q", r.Decision, r.FoldedInto)
	}
	if _, err := os.Stat(totals); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a dry run made a totals file: %v", err)
	}

	got = cleanDir(t, &Cleaner{}, dir)
	for _, p := range dead {
		r := got[filepath.Base(p)]
		if r.Decision != Removed || r.Reason != LockFree || r.FoldedInto != totals || r.AlreadyFolded {
			t.Errorf("%s: %s %s, folded into %q (already %v)", p, r.Decision, r.Reason, r.FoldedInto, r.AlreadyFolded)
		}
		if testutil.Exists(t, p) {
			t.Errorf("%s is still there", p)
		}
	}
	if r := got["python.mmstats"]; r.Decision != Removed || r.FoldedInto != "" || testutil.Exists(t, py) {
		t.Errorf("python file: %s, folded into %q", r.Decision, r.FoldedInto)
	}
	if r := got[filepath.Base(lf.Path())]; r.Decision != Alive {
		t.Errorf("live file: %s", r.Decision)
	}
	if req, inflight := requestsIn(t, totals); req != 6 || inflight != -1 {
		t.Errorf("totals: requests %d, inflight %d; want 6 and no gauge", req, inflight)
	}

	got = cleanDir(t, &Cleaner{}, dir)
	if r := got[foldTotals]; r.Kind != Totals || r.Decision != Skipped || r.Reason != TotalsFile || r.Err != nil {
		t.Errorf("the totals file: kind %s, %s %s %v", r.Kind, r.Decision, r.Reason, r.Err)
	}
	if len(got) != 2 {
		t.Errorf("second run: %v", got)
	}
}

// TestCleanerKeepsWhatItCannotFold: a stale file whose totals file
// cannot be used (its name holds a stats file; its lock stays taken) is
// kept and reported (FoldFailed), and nothing else changes.
func TestCleanerKeepsWhatItCannotFold(t *testing.T) {
	t.Run("not a totals file", func(t *testing.T) {
		dir := t.TempDir()
		x := deadFile(t, dir, 1, 5)
		other := v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now())
		testutil.WriteFile(t, dir, foldTotals, other)
		r := cleanDir(t, &Cleaner{}, dir)[filepath.Base(x)]
		if r.Decision != Failed || r.Reason != FoldFailed || !errors.Is(r.Err, fold.ErrNotTotals) || !testutil.Exists(t, x) {
			t.Errorf("%s %s %v; exists %v", r.Decision, r.Reason, r.Err, testutil.Exists(t, x))
		}
		if data, _ := os.ReadFile(filepath.Join(dir, foldTotals)); string(data) != string(other) {
			t.Error("the file under the totals name changed")
		}
	})
	t.Run("lock held", func(t *testing.T) {
		dir := t.TempDir()
		x := deadFile(t, dir, 1, 5)
		testutil.WriteFile(t, dir, foldTotals, v1file.Bytes(256, v1file.Unbuffered(convention.Folded, "16s", v1file.Str("", 16))))
		fd, err := unix.Open(filepath.Join(dir, foldTotals), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		unix.Flock(fd, unix.LOCK_EX)
		old := fold.LockWait
		fold.LockWait = 50 * time.Millisecond
		defer func() { fold.LockWait = old }()
		r := cleanDir(t, &Cleaner{}, dir)[filepath.Base(x)]
		if r.Decision != Failed || r.Reason != FoldFailed || !errors.Is(r.Err, fold.ErrLockWait) || !testutil.Exists(t, x) {
			t.Errorf("%s %s %v; exists %v", r.Decision, r.Reason, r.Err, testutil.Exists(t, x))
		}
	})
}

// TestCleanerFinishesAKilledFold: a Cleaner killed after its fold's
// commit, once it moved the file to its private name, leaves it there;
// the next Cleaner finds it folded and only removes it: it counts once.
func TestCleanerFinishesAKilledFold(t *testing.T) {
	dir := t.TempDir()
	x := deadFile(t, dir, 1, 5)
	deadFile(t, dir, 2, 7)
	c := &Cleaner{}
	c.afterAside = func(path, aside string) {
		if path == x {
			panic(killed{aside})
		}
	}
	var aside string
	func() {
		defer func() { aside = recover().(killed).aside }()
		c.CleanFile(x) // "killed" between its moves (the panic closes its descriptors, as death would)
	}()
	if !testutil.Exists(t, filepath.Join(dir, aside)) {
		t.Fatalf("the file is not aside: %q", names(t, dir))
	}
	got := cleanDir(t, &Cleaner{}, dir)
	r := got[aside]
	if r.Kind != Aside || r.Decision != Removed || !r.AlreadyFolded || r.FoldedInto == "" {
		t.Errorf("the file left aside: kind %s, %s %s %v, already folded %v", r.Kind, r.Decision, r.Reason, r.Err, r.AlreadyFolded)
	}
	if req, _ := requestsIn(t, filepath.Join(dir, foldTotals)); req != 12 {
		t.Errorf("totals: %d requests, want 12", req)
	}
	if n := names(t, dir); !slices.Equal(n, []string{foldTotals}) {
		t.Errorf("left: %q", n)
	}
}

type killed struct{ aside string }

// TestWriterFields: what a Cleaner reads of sys.id, sys.totals and
// sys.folded.
func TestWriterFields(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		want Writer
	}{
		"go writer": {v1file.Bytes(256, v1file.Unbuffered("p.sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered("p.sys.id", "Q", v1file.U64(0xabc)), v1file.Unbuffered("p.sys.totals", "16s", v1file.Str("x-totals", 16))),
			Writer{PID: 3, HasPID: true, ID: 0xabc, Totals: "x-totals"}},
		"signed sys.id is none": {v1file.Bytes(256, v1file.Unbuffered("sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered("sys.id", "q", v1file.U64(5))), Writer{PID: 3, HasPID: true}},
		"totals file": {v1file.Bytes(256, v1file.Unbuffered(convention.Folded, "16s", v1file.Str("", 16))),
			Writer{IsTotals: true}},
		"sys.folded with sys.pid is a stats file": {v1file.Bytes(256, v1file.Unbuffered("sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered(convention.Folded, "16s", v1file.Str("", 16))), Writer{PID: 3, HasPID: true}},
	} {
		w, _, scanErr, err := scanWriter(tc.data)
		if scanErr != nil || err != nil || w != tc.want {
			t.Errorf("%s: %+v (%v, %v), want %+v", name, w, scanErr, err, tc.want)
		}
	}
}

// TestFold10000Lifetimes folds 10,000 dead writers' files (copies of
// one made by the library, each with its own sys.id) in one Cleaner run:
// the totals are exact, and the totals file is as large as after the
// first fold but for the entries of the fold.KeepGone files folded last
// in sys.folded: its size depends on the labels, not on the lifetimes,
// and sys.folded is pruned at every fold.
func TestFold10000Lifetimes(t *testing.T) {
	const lifetimes = 10000
	dir := shmDir(t)
	proto, err := os.ReadFile(deadFile(t, dir, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, fmt.Sprintf("w%d-0.mmstats", os.Getpid())))
	l, err := reader.Parse(proto)
	if err != nil {
		t.Fatal(err)
	}
	idAt := -1
	for _, f := range l.Fields {
		if f.Label == "sys.id" {
			idAt = f.Value
		}
	}
	write := func(k int) {
		data := slices.Clone(proto)
		copy(data[idAt:], v1file.U64(uint64(k)+1))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%d.mmstats", k)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// One lifetime folded: the size of the totals file of these labels.
	write(0)
	cleanDir(t, &Cleaner{}, dir)
	first, err := os.Stat(filepath.Join(dir, foldTotals))
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k < lifetimes; k++ {
		write(k)
	}
	start := time.Now()
	folded := 0
	for _, r := range cleanDir(t, &Cleaner{}, dir) {
		if r.Decision == Removed && r.FoldedInto != "" {
			folded++
		} else if r.Kind != Totals {
			t.Errorf("%s: %s %s %v", r.Path, r.Decision, r.Reason, r.Err)
		}
	}
	took := time.Since(start)
	totals := filepath.Join(dir, foldTotals)
	last, err := os.Stat(totals)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := reader.ReadFile(totals)
	if err != nil {
		t.Fatal(err)
	}
	var requests, count uint64
	var folds string
	for _, s := range stats {
		switch s.Label {
		case "requests":
			requests = s.Value.Uint()
		case "lat.count":
			count = s.Value.Uint()
		case convention.Folded:
			folds = s.Value.Str()
		}
	}
	entries, _ := convention.ParseFolded(folds)
	// Each file is listed under its name and the Cleaner's private name.
	if folded != lifetimes-1 || requests != 3*lifetimes || count != lifetimes || len(entries) > 2*fold.KeepGone ||
		last.Size() > first.Size()+int64(len(folds))+16 {
		t.Errorf("folded %d files; totals: requests %d, lat.count %d, %d bytes (%d after one), sys.folded %d entries (%d bytes); "+
			"want %d, %d, %d, the same size but for sys.folded, at most %d entries", folded, requests, count, last.Size(), first.Size(),
			len(entries), len(folds), lifetimes-1, 3*lifetimes, lifetimes, 2*fold.KeepGone)
	}
	if n := names(t, dir); len(n) != 1 {
		t.Errorf("left: %d files", len(n))
	}
	t.Logf("folded %d lifetimes in %v (%v each); totals file %d bytes, after one lifetime %d; sys.folded %d entries",
		folded, took.Round(time.Millisecond), (took / time.Duration(folded)).Round(time.Microsecond), last.Size(), first.Size(), len(entries))
}
