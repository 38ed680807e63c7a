//go:build linux

package clean

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// The fault-injection test of folding: processes that fold (writers
// removing their own file, Cleaners folding stale ones) run at the same
// time and are killed with SIGKILL at chosen steps of their folds, round
// after round; then one last clean folds what is left. The totals must
// be the exact sum of everything every writer counted, and nothing but
// the totals file may remain.
//
// The children are this test binary, run again with foldRoleEnv set
// (see foldRole, called by TestMain). Where a child dies is decided by
// the parent from a seeded random generator, so a run is repeated
// exactly by its seed (MMSTATS_FOLD_SEED); the interleaving of the
// children is the system's.

const (
	foldRoleEnv = "MMSTATS_TEST_FOLD_ROLE" // writer or cleaner
	foldDirEnv  = "MMSTATS_TEST_FOLD_DIR"
	foldSeedEnv = "MMSTATS_TEST_FOLD_SEED"   // a writer's values
	foldDoEnv   = "MMSTATS_TEST_FOLD_ACTION" // writer: remove, crash, close
	foldKillEnv = "MMSTATS_TEST_FOLD_KILL"   // "STEP" or "N:STEP" (cleaner: its Nth fold); STEP aside is a Cleaner's move aside
)

// foldTemplate is the writers' file name template: their totals file is
// "wtotals.mmstats".
const (
	foldTemplate = "w{PID}-{TID}.mmstats"
	foldTotals   = "wtotals.mmstats"
)

// contribution is what the writer of seed counts: requests, and values
// observed into the histogram "lat" (integers, so that sums are exact).
func contribution(seed uint64) (requests uint64, values []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	requests = 1 + r.Uint64N(1000)
	values = make([]float64, 1+r.IntN(20))
	for i := range values {
		values[i] = float64(1 + r.IntN(100000))
	}
	return requests, values
}

// foldModel is the writers' model.
type foldModel struct {
	Requests mmstats.Counter   `mmstats:"requests"`
	InFlight mmstats.Int32     `mmstats:"inflight"`
	Lat      mmstats.Histogram `mmstats:"lat,windows=10s"`
}

// killSelf dies at once, as kill -9 would make it.
func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// foldRole runs the child role named by foldRoleEnv, if any.
func foldRole() (code int, ok bool) {
	role := os.Getenv(foldRoleEnv)
	if role == "" {
		return 0, false
	}
	dir := os.Getenv(foldDirEnv)
	kill := os.Getenv(foldKillEnv)
	killAt, step := 1, kill
	if n, s, found := strings.Cut(kill, ":"); found {
		killAt, _ = strconv.Atoi(n)
		step = s
	}
	folds := 0
	fold.TestHook = func(s fold.Step, name string) {
		if s == fold.StepLocked {
			folds++
		}
		// The trace that the test prints if the round fails.
		fmt.Fprintf(os.Stderr, "%d %s fold %d %s %s\n", os.Getpid(), role, folds, s, name)
		if s.String() == step && folds == killAt {
			killSelf()
		}
	}
	switch role {
	case "writer":
		return foldWriter(dir), true
	case "cleaner":
		c := &Cleaner{}
		c.afterAside = func(string, string) {
			if step == "aside" && folds == killAt {
				killSelf()
			}
		}
		paths, err := Matches(dir, DefaultPattern)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1, true
		}
		failed := false
		c.Clean(paths, func(r *Result) error {
			if r.Reason != YoungTemporary {
				fmt.Fprintf(os.Stderr, "%d result %s %s %s %v into=%s already=%v\n",
					os.Getpid(), filepath.Base(r.Path), r.Decision, r.Reason, r.Err, r.FoldedInto, r.AlreadyFolded)
			}
			if r.Decision == Failed && r.Reason != NameTaken {
				fmt.Fprintf(os.Stderr, "%s: %s %s: %v\n", r.Path, r.Decision, r.Reason, r.Err)
				failed = true
			}
			return nil
		})
		if failed {
			return 1, true
		}
		return 0, true
	}
	fmt.Fprintln(os.Stderr, "unknown role", role)
	return 2, true
}

// foldWriter is a writer's life: it counts its contribution, says
// "created" (from then on it counts in the totals) and ends as told.
func foldWriter(dir string) int {
	seed, _ := strconv.ParseUint(os.Getenv(foldSeedEnv), 10, 64)
	var m foldModel
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: foldTemplate})
	if errors.Is(err, os.ErrExist) {
		// A dead writer with this PID left its file, not folded yet.
		fmt.Println("taken")
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	requests, values := contribution(seed)
	m.Requests.Add(requests)
	m.InFlight.Set(1)
	for _, v := range values {
		m.Lat.Observe(v)
	}
	f.Refresh() // the histogram's stats, published
	fmt.Println("created")
	switch os.Getenv(foldDoEnv) {
	case "crash": // as if killed: the file stays, unfolded
		os.Exit(0)
	case "close":
		f.Close()
		return 0
	}
	if err := f.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// foldKills is how many kills TestFoldSurvivesKills makes:
// $MMSTATS_FOLD_KILLS (scripts/bench runs 2,000), or def.
func foldKills(t *testing.T, def int) int {
	if s := os.Getenv("MMSTATS_FOLD_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("MMSTATS_FOLD_KILLS=%q: want a positive number", s)
		}
		return n
	}
	return def
}

// child is a folding process of a round.
type child struct {
	cmd     *exec.Cmd
	role    string
	kill    string
	seed    uint64
	created bool
	stderr  strings.Builder
}

// TestFoldSurvivesKills runs rounds of writers (removing their file,
// crashing, or closing it) and Cleaners folding at the same time, and
// kills a random choice of them at a random step of a fold: once the
// totals lock is taken, the totals file read, the new one created empty,
// written, renamed over the old one (the commit), after a Cleaner's move
// aside, and after the removal. A final clean folds what is left. The
// totals are then exactly the sum of what every writer counted, and the
// directory holds the totals file only.
// $MMSTATS_FOLD_KILLS sets the number of kills (default 200), and
// $MMSTATS_FOLD_SEED the seed (default 1).
func TestFoldSurvivesKills(t *testing.T) {
	wantKills := foldKills(t, 200)
	seed := uint64(1)
	if s := os.Getenv("MMSTATS_FOLD_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	dir := shmDir(t)
	steps := []string{"locked", "read", "temp-created", "temp-written", "committed", "removed"}

	var wantRequests, wantCount uint64
	var wantSum float64
	wantMin, wantMax := math.Inf(1), math.Inf(-1)
	wantBuckets := map[int]uint64{}
	kills, rounds, writers, folds := 0, 0, 0, 0
	byStep := map[string]int{}
	for kills < wantKills {
		rounds++
		var children []*child
		for range 1 + rng.IntN(3) {
			c := &child{role: "writer", seed: rng.Uint64()}
			action := []string{"remove", "remove", "crash", "close"}[rng.IntN(4)]
			if action == "remove" && rng.IntN(4) > 0 {
				c.kill = steps[rng.IntN(len(steps))]
			}
			c.cmd = foldChild(dir, c, foldDoEnv+"="+action)
			children = append(children, c)
		}
		for range 1 + rng.IntN(3) {
			c := &child{role: "cleaner"}
			if rng.IntN(5) > 0 {
				aside := append(slices.Clone(steps), "aside")
				c.kill = strconv.Itoa(1+rng.IntN(2)) + ":" + aside[rng.IntN(len(aside))]
			}
			c.cmd = foldChild(dir, c)
			children = append(children, c)
		}
		var wg sync.WaitGroup
		for _, c := range children {
			out, err := c.cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					c.created = c.created || sc.Text() == "created"
				}
			}()
		}
		wg.Wait()
		for _, c := range children {
			err := c.cmd.Wait()
			var exit *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
				kills++
				byStep[c.role+" "+c.kill]++
			default:
				t.Fatalf("%s (kill %q): %v\n%s", c.role, c.kill, err, c.stderr.String())
			}
			if c.role != "writer" || !c.created {
				continue
			}
			writers++
			requests, values := contribution(c.seed)
			wantRequests += requests
			for _, v := range values {
				wantCount++
				wantSum += v
				wantMin, wantMax = math.Min(wantMin, v), math.Max(wantMax, v)
				wantBuckets[v1.Bucket6(math.Float64bits(v))]++
			}
		}
		// After each round, a reader sees exactly what the writers
		// counted: nothing lost, nothing twice, however the folds died.
		if got := seen(t, dir); got != wantRequests {
			for _, c := range children {
				t.Logf("%s (kill %q) said:\n%s", c.role, c.kill, c.stderr.String())
			}
			t.Fatalf("seed %d, round %d: readers see %d requests, the writers counted %d; in the directory: %s",
				seed, rounds, got, wantRequests, describeDir(t, dir))
		}
	}

	// The last clean, with nobody killed: the temporary files of folders
	// killed while writing are old enough to go, as an hour later.
	for _, name := range names(t, dir) {
		if convention.IsTempName(name) {
			old := time.Now().Add(-2 * TemporaryMinAge)
			os.Chtimes(filepath.Join(dir, name), old, old)
		}
	}
	for range 2 {
		paths, err := Matches(dir, DefaultPattern)
		if err != nil {
			t.Fatal(err)
		}
		c := &Cleaner{}
		c.Clean(paths, func(r *Result) error {
			if r.Decision == Failed {
				t.Errorf("last clean: %s: %s: %v", r.Path, r.Reason, r.Err)
			}
			if r.FoldedInto != "" {
				folds++
			}
			return nil
		})
	}
	if got := names(t, dir); !slices.Equal(got, []string{foldTotals}) {
		t.Errorf("left in the directory: %q", got)
	}
	// One more lifetime, folded by its writer: sys.folded then lists it
	// last, and of the others only the fold.KeepGone-1 folded last.
	var m foldModel
	last, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: foldTemplate})
	if err != nil {
		t.Fatal(err)
	}
	m.Requests.Inc()
	wantRequests++
	if err := last.Remove(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, foldTotals))
	if err != nil {
		t.Fatal(err)
	}
	l, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var requests reader.Value
	var h reader.Histogram
	var folded string
	for i, f := range l.Fields {
		switch f.Label {
		case "requests":
			requests, _ = reader.ReadValue(data, &l.Fields[i])
		case "lat":
			if err := reader.ReadHistogram(data, l, i, &h); err != nil {
				t.Fatal(err)
			}
		case convention.Folded:
			v, _ := reader.ReadValue(data, &l.Fields[i])
			folded = v.Str()
		case "inflight":
			t.Error("a gauge was folded")
		}
	}
	got := map[int]uint64{}
	for k, c := range h.Counts {
		if c > 0 {
			got[h.Lo+k] = c
		}
	}
	if requests.Uint() != wantRequests || h.Count != wantCount || h.Sum != wantSum || h.Min != wantMin || h.Max != wantMax ||
		h.Underflow+h.Overflow != 0 || !mapsEqual(got, wantBuckets) {
		t.Errorf("totals: requests %v, lat count %d sum %v [%v, %v], %d buckets; want %d, %d, %v [%v, %v], %d buckets",
			requests, h.Count, h.Sum, h.Min, h.Max, len(got), wantRequests, wantCount, wantSum, wantMin, wantMax, len(wantBuckets))
	}
	entries, err := convention.ParseFolded(folded)
	ids := map[uint64]bool{}
	for _, e := range entries {
		ids[e.ID] = true
	}
	if err != nil || len(ids) > fold.KeepGone || len(entries) == 0 || entries[len(entries)-1].Name != filepath.Base(last.Path()) {
		t.Errorf("sys.folded: %d entries of %d files (%v), want at most %d files, the last file last: %q",
			len(entries), len(ids), err, fold.KeepGone, folded)
	}
	t.Logf("seed %d: %d rounds, %d writers, %d kills (by role and step: %v), %d files folded by the last clean; "+
		"totals exact: %d requests, %d values; totals file %d bytes, sys.folded %d entries",
		seed, rounds, writers, kills, byStep, folds, wantRequests, wantCount, len(data), len(entries))
}

// describeDir describes the stats files in dir: name, sys.id,
// requests, and the sys.folded of a totals file.
func describeDir(t *testing.T, dir string) string {
	var out []string
	for _, n := range names(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || convention.IsTempName(n) {
			continue
		}
		l, err := reader.Parse(data)
		if err != nil {
			out = append(out, n+": "+err.Error())
			continue
		}
		d := n
		for i := range l.Fields {
			switch f := &l.Fields[i]; f.Label {
			case "requests", "sys.id", convention.Folded:
				v, _ := reader.ReadValue(data, f)
				d += fmt.Sprintf(" %s=%v", f.Label, v)
			}
		}
		out = append(out, d)
	}
	return strings.Join(out, "; ")
}

// seen is what a reader sees of requests in dir.
func seen(t *testing.T, dir string) uint64 {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.mmstats"))
	var files []*reader.File
	for _, p := range paths {
		f, err := reader.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	var a aggregate.Accumulator
	a.AddFiles(files, nil)
	tot, _ := a.Total("requests")
	return tot.Value.Uint()
}

// foldChild returns the command of a child of TestFoldSurvivesKills.
func foldChild(dir string, c *child, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// GORACE: a child built with -race would wait a second at exit.
	cmd.Env = append(os.Environ(), append(env, foldRoleEnv+"="+c.role, foldDirEnv+"="+dir,
		foldSeedEnv+"="+strconv.FormatUint(c.seed, 10), foldKillEnv+"="+c.kill, "GORACE=atexit_sleep_ms=0")...)
	cmd.Stderr = &c.stderr
	return cmd
}

// names returns the sorted names in dir.
func names(t *testing.T, dir string) []string {
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

func mapsEqual(a, b map[int]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
