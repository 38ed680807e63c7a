//go:build unix

package main

// End-to-end tests of pollstats --view against live mmstats-demo workers,
// which publish the Go runtime's stats (mmstats.Options.Runtime).

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// gcHeader is the header of --view gc.
var gcHeader = []string{"gcs", "gc%", "pause.p99", "live", "goal", "alloc/s", "goroutines", "cpu%"}

// The values of the units of a view.
var (
	countRE   = regexp.MustCompile(`^[0-9]+$`)
	percentRE = regexp.MustCompile(`^[0-9]+\.[0-9]+%$`)
	secondsRE = regexp.MustCompile(`^(0s|[0-9.]+(ns|µs|ms|s))$`)
	bytesRE   = regexp.MustCompile(`^([0-9]+B|[0-9.]+[KMGTPE]iB)$`)
)

// gcUnits are the units of --view gc's columns, in order.
var gcUnits = []*regexp.Regexp{countRE, percentRE, secondsRE, bytesRE, bytesRE, bytesRE, countRE, percentRE}

// checkGCRow checks the fields of a row of --view gc (after any label
// fields) and returns its GC cycles and whether its allocation rate and
// CPU percentage are above zero.
func checkGCRow(t *testing.T, line string, f []string) (cycles int, allocating, busy bool) {
	t.Helper()
	if len(f) != len(gcUnits) {
		t.Fatalf("line %q: %d fields, want %d (%v)", line, len(f), len(gcUnits), gcHeader)
	}
	for i, re := range gcUnits {
		if !re.MatchString(f[i]) {
			t.Errorf("line %q: %s is %q, want a value like %v", line, gcHeader[i], f[i], re)
		}
	}
	cycles, _ = strconv.Atoi(f[0])
	if n, _ := strconv.Atoi(f[6]); n <= 0 {
		t.Errorf("line %q: no goroutines", line)
	}
	return cycles, !strings.HasPrefix(f[5], "0"), f[7] != "0.0%"
}

// TestViewGCUnderLoad runs the documented command, pollstats --view gc
// piped, over the workers of mmstats-demo --load: the header is the
// view's, every value has its column's unit, the GC cycles move (read
// lines until some GC ran), and the workers allocate and use CPU.
func TestViewGCUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "2", "--load")
	// At the default delay of 1 s, as documented: the workers publish
	// their runtime stats every second, and a shorter delay would show 0
	// and twice the rate in turn.
	p := testutil.Start(t, nil, bin(t), "--view", "gc", "-c", "60", dir)
	if h := strings.Fields(p.Line(t, 10*time.Second)); strings.Join(h, " ") != strings.Join(gcHeader, " ") {
		t.Fatalf("header %q, want %q", h, gcHeader)
	}
	var lines []string
	cycles, allocating, busy := 0, false, false
	for cycles == 0 || !allocating || !busy {
		if len(lines) == 60 {
			t.Fatalf("in 60 s of --load, cycles %d, allocating %v, busy %v:\n%s", cycles, allocating, busy, strings.Join(lines, "\n"))
		}
		l := p.Line(t, 10*time.Second)
		lines = append(lines, l)
		c, a, b := checkGCRow(t, l, strings.Fields(l))
		cycles, allocating, busy = cycles+c, allocating || a, busy || b
	}
	p.Cmd.Process.Signal(syscall.SIGINT)
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Errorf("pollstats: %v", err)
	}
	if s := p.Stderr(); s != "" {
		t.Errorf("stderr: %q", s)
	}
	t.Logf("%d GC cycles in %d lines:\n%s", cycles, len(lines), strings.Join(lines, "\n"))
}

// TestViewGCEach: --view gc --each prints a row per worker, labelled
// with its PID in order, and leaves out a file without runtime stats,
// which -v names.
func TestViewGCEach(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "3", "--load")
	_, other := testutil.StartWriter(t, nil, "-dir", dir, "-name", "other.mmstats")
	res := testutil.Run(t, nil, bin(t), "--view", "gc", "--each", "-v", "-c", "2", "-d", "0.3", dir)
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	if res.Code != 0 || len(lines) != 1+2*len(d.PIDs) {
		t.Fatalf("exit %d, stderr %q; want a header and 2×%d rows:\n%s", res.Code, res.Stderr, len(d.PIDs), res.Stdout)
	}
	if h := strings.Join(strings.Fields(lines[0]), " "); h != "pid "+strings.Join(gcHeader, " ") {
		t.Errorf("header %q", h)
	}
	pids := sortedPIDs(d.PIDs)
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != pids[i%len(pids)] {
			t.Errorf("row %q, want the row of worker %s", l, pids[i%len(pids)])
			continue
		}
		checkGCRow(t, l, f[1:])
	}
	want := other + ": no Go runtime stats (a Go writer's Options.Runtime): left out of the view\n"
	if res.Stderr != "pollstats: "+want {
		t.Errorf("stderr %q, want %q", res.Stderr, "pollstats: "+want)
	}
}

// sortedPIDs returns pids as text, in numeric order.
func sortedPIDs(pids []int) []string {
	s := append([]int(nil), pids...)
	for i := range s { // a handful: insertion sort
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = strconv.Itoa(p)
	}
	return out
}

// TestViewListAndUsage: --view list lists the views without reading any
// file; a view with FIELDS, or an unknown view, is a usage error (exit
// 2) in one line; a view over files without runtime stats exits 1.
func TestViewListAndUsage(t *testing.T) {
	t.Parallel()
	res := testutil.Run(t, []string{"MMSTATS_GLOB=" + t.TempDir() + "/none*"}, bin(t), "--view", "list")
	if res.Code != 0 || res.Stderr != "" {
		t.Fatalf("--view list: exit %d, stderr %q", res.Code, res.Stderr)
	}
	for _, v := range []string{"gc", "sched", "mem"} {
		if !regexp.MustCompile(`(?m)^` + v + ` +\S`).MatchString(res.Stdout) {
			t.Errorf("--view list does not list %s:\n%s", v, res.Stdout)
		}
	}
	if !strings.Contains(res.Stdout, "  pause.p99 ") || !strings.Contains(res.Stdout, "go.sched.pauses.total.gc.p99") {
		t.Errorf("--view list does not show the gc columns and their labels:\n%s", res.Stdout)
	}

	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--view", "gc", "-p", "web.stats.status", "2XX,3XX", dir},
			"pollstats: --prefix does not apply to --view: a view finds its labels under each file's own prefix\n"},
		{[]string{"--view", "gc", "2XX,3XX", dir},
			"pollstats: --view takes no FIELDS, only files: \"2XX,3XX\" is no file, directory or glob\n"},
		{[]string{"--view", "jvm"},
			"pollstats: unknown view \"jvm\": want gc, sched, mem, list\n"},
	} {
		res := testutil.Run(t, nil, bin(t), tt.args...)
		if res.Code != 2 || !strings.HasPrefix(res.Stderr, tt.want) || res.Stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", tt.args, res.Code, res.Stdout, res.Stderr, tt.want)
		}
	}

	_, path := testutil.StartWriter(t, nil, "-dir", dir, "-name", "other.mmstats")
	res = testutil.Run(t, nil, bin(t), "--view", "sched", "-c", "1", path)
	if res.Code != 1 || !strings.Contains(res.Stderr, "has the Go runtime's stats") {
		t.Errorf("no runtime stats: exit %d, stderr %q; want 1 and why", res.Code, res.Stderr)
	}
}
