//go:build unix

package main

// End-to-end tests of the built pollstats binary against live mmstats-demo
// processes: piped and in a pseudo-terminal, with processes that start and
// stop while it runs.

import (
	"bytes"
	"cmp"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

var escapes = regexp.MustCompile("\033\\[[0-9;?]*[A-Za-z]")

// smallValue is a value that is 0 or shows a non-zero digit: exact
// (0.000147) or short (0.012, 14µ, 1.2k), never rounded to nothing.
var smallValue = regexp.MustCompile(`^-?(0|[0-9.]*[1-9][0-9.]*(e[-+][0-9]+)?[kMGmµn]?)$`)

func bin(t *testing.T) string { return testutil.Binary(t, "cmd/pollstats") }

// client does not follow redirects, so that /redirect counts as one 3XX.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// requests sends n requests for path and returns how many answered with
// status want.
func requests(t *testing.T, url, path string, n, want int) int {
	got := 0
	for range n {
		resp, err := client.Get(url + path)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == want {
			got++
		}
	}
	return got
}

// parseRows checks that lines are a header of fields and rows of as many
// non-negative numbers, and returns the column sums.
func parseRows(t *testing.T, lines []string, header []string) []float64 {
	t.Helper()
	sums := make([]float64, len(header))
	rows := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if strings.Join(f, " ") == strings.Join(header, " ") {
			continue
		}
		if len(f) != len(header) {
			t.Fatalf("line %q is neither the header %v nor %d numbers", l, header, len(header))
		}
		rows++
		for i, s := range f {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 {
				t.Fatalf("line %q: %q is not a non-negative number", l, s)
			}
			sums[i] += v
		}
	}
	if rows == 0 {
		t.Fatalf("no rows in %q", lines)
	}
	return sums
}

var classes = []string{"2XX", "3XX", "4XX", "5XX"}

func TestPipedLinesAddUpToTheRequests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "2")
	args := append([]string{"-c", "3", "-d", "0.2", "-p", "web.stats.status", strings.Join(classes, ",")}, d.Files(t)...)
	p := testutil.Start(t, nil, bin(t), args...)
	var lines []string
	lines = append(lines, p.Line(t, 10*time.Second)) // printed after the first read

	// Requests answered after the first read and well before the last,
	// 0.6s later: the lines must add up to exactly them.
	sent := make(chan [4]int, 1)
	go func() {
		var n [4]int
		n[0] = requests(t, d.URL, "/", 20, http.StatusOK)
		n[1] = requests(t, d.URL, "/redirect", 3, http.StatusFound)
		n[2] = requests(t, d.URL, "/nope", 2, http.StatusNotFound)
		n[3] = requests(t, d.URL, "/500", 4, http.StatusInternalServerError)
		sent <- n
	}()
	var n [4]int
	select {
	case n = <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("requests not answered in 5s")
	}
	for range 3 {
		lines = append(lines, p.Line(t, 10*time.Second))
	}
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("pollstats: %v; stderr: %s", err, p.Stderr())
	}
	if len(p.Lines) > 0 {
		t.Errorf("more than a header and 3 lines: %q", append(lines, <-p.Lines))
	}
	out := strings.Join(lines, "\n")
	if strings.Contains(out, "\033") {
		t.Errorf("escape codes in piped output: %q", out)
	}
	sums := parseRows(t, lines, classes)
	for i, c := range classes {
		if sums[i] != float64(n[i]) {
			t.Errorf("%s column adds up to %v, want the %d answers sent:\n%s", c, sums[i], n[i], out)
		}
	}
}

func TestTheDocumentedCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "4", "--load")
	// pollstats -p web.stats.status 2XX,3XX,4XX,5XX $MMSTATS_PATH/mmstats-*
	files, _ := filepath.Glob(filepath.Join(dir, "mmstats-*"))
	if len(files) != 4 {
		t.Fatalf("files %v, want 4", files)
	}
	args := append([]string{"-c", "2", "-d", "0.2", "-p", "web.stats.status", "2XX,3XX,4XX,5XX"}, files...)
	res := testutil.Run(t, nil, bin(t), args...)
	if res.Code != 0 || res.Stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.Code, res.Stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "2XX 3XX 4XX 5XX" {
		t.Fatalf("want a header and 2 lines:\n%s", res.Stdout)
	}
	if sums := parseRows(t, lines, classes); sums[0] == 0 {
		t.Errorf("no 2XX answers counted under --load:\n%s", res.Stdout)
	}
}

func TestProcessesComingAndGoing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "1"), testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "1")
	aFile := a.Files(t)[0]
	// A quoted glob: pollstats expands it again every interval.
	p := testutil.Start(t, nil, bin(t), "-vv", "-d", "0.2", "-p", "web.stats.status", "2XX,5XX",
		filepath.Join(dir, "mmstats-demo-*.mmstats"))
	lines := []string{p.Line(t, 10*time.Second)}
	waitStderr := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(p.Stderr(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("pollstats did not report %q; stderr:\n%s", want, p.Stderr())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	ok := requests(t, a.URL, "/", 5, http.StatusOK) + requests(t, b.URL, "/", 7, http.StatusOK)
	c := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "1")
	waitStderr("added " + c.Files(t)[0])
	ok += requests(t, c.URL, "/", 11, http.StatusOK)
	failed := requests(t, c.URL, "/500", 2, http.StatusInternalServerError)
	a.Stop(t)
	waitStderr("removed " + aFile)
	ok += requests(t, b.URL, "/", 3, http.StatusOK)
	// Three more lines: the last requests are in one of them.
	drained := len(p.Lines)
	for range drained + 3 {
		lines = append(lines, p.Line(t, 10*time.Second))
	}
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("pollstats after SIGINT: %v (want exit status 0); stderr:\n%s", err, p.Stderr())
	}
	for len(p.Lines) > 0 {
		lines = append(lines, <-p.Lines)
	}
	sums := parseRows(t, lines, []string{"2XX", "5XX"})
	if sums[0] != float64(ok) || sums[1] != float64(failed) {
		t.Errorf("columns add up to %v, want [%d %d] (the new process's answers included):\n%s\nstderr:\n%s",
			sums, ok, failed, strings.Join(lines, "\n"), p.Stderr())
	}
}

func TestErrorsAndInterrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "1")
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-p", "web.stats.status", "2XY", dir}, 2, `no file has the field "2XY" (web.stats.status2XY or web.stats.status.2XY); did you mean "2XX"?`},
		{[]string{"-p", "web.stats", "last_path", dir}, 2, `field "last_path" (web.stats.last_path) is a string`},
		{[]string{"2XX", filepath.Join(dir, "none-*")}, 1, "no stats files match"},
		{[]string{"--version"}, 0, ""},
	} {
		res := testutil.Run(t, nil, bin(t), tt.args...)
		if res.Code != tt.code || !strings.Contains(res.Stderr, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, res.Code, res.Stderr, tt.code, tt.stderr)
		}
	}

	// MMSTATS_GLOB when no file is given; SIGINT mid-run exits 0.
	p := testutil.Start(t, []string{"MMSTATS_GLOB=" + filepath.Join(dir, "*.mmstats")}, bin(t), "-d", "0.1", "-p", "web.stats.status", "2XX")
	p.Line(t, 10*time.Second)
	p.Line(t, 10*time.Second)
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Errorf("after SIGINT: %v, want exit status 0; stderr: %s", err, p.Stderr())
	}
}

// terminal is pollstats running in a pseudo-terminal.
type terminal struct {
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// startTerminal runs pollstats in a pseudo-terminal cols wide, with colour
// allowed.
func startTerminal(t *testing.T, cols int, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(bin(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: uint16(cols)})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{cmd: cmd, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil { // EIO once pollstats has exited
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		tty.Close()
	})
	return term
}

// output returns what the terminal showed so far.
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// rewritten matches a line that the next one replaces: pollstats moves
// the cursor up over it and clears its row.
var rewritten = regexp.MustCompile("[^\n]*\n\033\\[1A\r\033\\[2K")

// lines returns the complete lines shown so far, without escapes, as the
// terminal shows them (a line rewritten in place is gone).
func (term *terminal) lines() []string {
	s := rewritten.ReplaceAllString(term.output(), "")
	s = strings.ReplaceAll(escapes.ReplaceAllString(s, ""), "\r", "")
	l := strings.Split(s, "\n")
	return l[:len(l)-1]
}

// waitLines waits until n lines were shown.
func (term *terminal) waitLines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(term.lines()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d lines after 10s, want %d:\n%q", len(term.lines()), n, term.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for pollstats to exit and returns its exit status.
func (term *terminal) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("pollstats still running; output:\n%q", term.output())
	}
	err := term.cmd.Wait()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// checkFits checks that no line is wider than cols.
func checkFits(t *testing.T, lines []string, cols int) {
	t.Helper()
	for _, l := range lines {
		if utf8.RuneCountInString(l) > cols {
			t.Errorf("line %q is wider than the %d-column terminal", l, cols)
		}
	}
}

// checkValues checks that no value of a line is rounded to nothing: a
// request time of tens of microseconds in a narrow column is 14µ, not
// 0.000 (what is not a number is a header).
func checkValues(t *testing.T, lines []string) {
	t.Helper()
	for _, l := range lines {
		for _, v := range strings.Fields(l) {
			if _, err := strconv.ParseFloat(strings.TrimRight(v, "kMGmµn"), 64); err != nil && v != ">" {
				break // a header
			}
			if v != ">" && !smallValue.MatchString(v) {
				t.Errorf("value %q in %q, want 0 or a short form such as 14µ", v, l)
			}
		}
	}
}

// checkReset checks that the output leaves no attribute set: the last
// SGR sequence resets.
func checkReset(t *testing.T, out string) {
	t.Helper()
	sgr := regexp.MustCompile("\033\\[[0-9;]*m").FindAllString(out, -1)
	if len(sgr) == 0 {
		t.Fatalf("no colour or bold in the terminal: %q", out)
	}
	if last := sgr[len(sgr)-1]; last != "\033[0m" {
		t.Errorf("the output ends with %q set: %q", last, out)
	}
}

func TestTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "2", "--load")
	fields := "status.2XX,status.3XX,status.4XX,status.5XX,timers.request,working"

	term := startTerminal(t, 40, "-c", "3", "-d", "0.2", "-p", "web.stats", fields, dir)
	if code := term.wait(t); code != 0 {
		t.Fatalf("exit %d: %q", code, term.output())
	}
	out := term.output()
	if !strings.Contains(out, "\033[1m") || !strings.Contains(out, "\033[33m") {
		t.Errorf("no bold header or coloured values on a terminal: %q", out)
	}
	checkReset(t, out)
	lines := term.lines()
	if len(lines) < 4 {
		t.Fatalf("want a header and 3 lines: %q", out)
	}
	checkFits(t, lines, 40)
	// The header shows once at the start, though the first line's values
	// change the columns (it is rewritten in place).
	if !strings.Contains(lines[0], "2XX") || strings.Contains(lines[1], "2XX") {
		t.Errorf("the header is not shown once at the start:\n%s", strings.Join(lines, "\n"))
	}
	checkValues(t, lines)

	// Resized to 30 columns, then Ctrl-C.
	term = startTerminal(t, 60, "-d", "0.1", "-p", "web.stats", fields, dir)
	term.waitLines(t, 3)
	if err := pty.Setsize(term.tty, &pty.Winsize{Rows: 24, Cols: 30}); err != nil { // sends SIGWINCH
		t.Fatal(err)
	}
	resized := len(term.lines()) + 1 // a line may have been on its way
	term.waitLines(t, resized+3)
	if _, err := term.tty.Write([]byte{3}); err != nil { // ^C
		t.Fatal(err)
	}
	if code := term.wait(t); code != 0 {
		t.Errorf("exit %d after Ctrl-C, want 0", code)
	}
	lines = term.lines()
	checkFits(t, lines[:resized-1], 60)
	checkFits(t, lines[resized:], 30)
	checkValues(t, lines)

	// At 24 columns the values are shown in 5 characters: the request
	// time too, as 17µ (it was 0.000).
	term = startTerminal(t, 24, "-c", "3", "-d", "0.2", "-p", "web.stats", "status.2XX,timers.request,timers.request.p50,working", dir)
	if code := term.wait(t); code != 0 {
		t.Fatalf("exit %d: %q", code, term.output())
	}
	lines = term.lines()
	checkFits(t, lines, 24)
	checkValues(t, lines)
	// The first line's values widen the columns: the header is rewritten
	// in place, not shown twice.
	if len(lines) < 4 || !strings.Contains(lines[0], "2XX") || strings.Contains(lines[1], "2XX") {
		t.Errorf("want the header once, then the lines, at 24 columns:\n%s", strings.Join(lines, "\n"))
	}

	// At 12 columns two request times (tens of microseconds) take 5
	// characters each: 24µ, not 0.000.
	term = startTerminal(t, 12, "-c", "2", "-d", "0.2", "-p", "web.stats", "timers.request,timers.request.p50", dir)
	if code := term.wait(t); code != 0 {
		t.Fatalf("exit %d: %q", code, term.output())
	}
	lines = term.lines()
	checkFits(t, lines, 12)
	checkValues(t, lines)
	if !regexp.MustCompile(`\d[µmn]`).MatchString(strings.Join(lines, "\n")) {
		t.Errorf("no request time with a prefix (µ) at 12 columns:\n%s", strings.Join(lines, "\n"))
	}
	checkReset(t, term.output())
}

// TestFieldKindsChooseDeltaOrValue runs with no --absolute against the
// demo, whose files carry field metadata: the request counters show as
// changes, the "working" flag and the request timer's percentile (gauges)
// as values.
func TestFieldKindsChooseDeltaOrValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "1")
	// Traffic before pollstats starts: in the counter's value, not in any
	// line; and a percentile to show once the timer publishes it.
	before := requests(t, d.URL, "/", 30, http.StatusOK)
	time.Sleep(1200 * time.Millisecond) // the timer's stats are published every second
	header := []string{"status.2XX", "working", "timers.request.count", "timers.request.p50"}
	args := append([]string{"-c", "2", "-d", "0.3", "-p", "web.stats", "status.2XX,working,timers.request.count,timers.request.p50"}, d.Files(t)...)
	r := testutil.Run(t, nil, bin(t), args...)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 lines:\n%s", r.Stdout)
	}
	if got := strings.Join(strings.Fields(lines[0]), " "); got != strings.Join(header, " ") {
		t.Errorf("header %q, want %q", got, header)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != len(header) {
			t.Fatalf("line %q has %d columns", l, len(f))
		}
		if f[0] != "0" || f[2] != "0" {
			t.Errorf("counters show %s and %s: want changes (0: no traffic during the run, %d before)", f[0], f[2], before)
		}
		if f[1] != "0" {
			t.Errorf("working = %s, want 0 files busy", f[1])
		}
		if p50, err := strconv.ParseFloat(f[3], 64); err != nil || p50 <= 0 {
			t.Errorf("p50 = %q: want the gauge's value, > 0", f[3])
		}
	}
}

// TestIntegersStayExact: the built binary sums uint64 gauges at their
// maximum exactly (0.8.0's pollstats, with Python's integers, printed
// 18446744073709551615; a float64 sum printed ...616), past 64 bits over
// two files, and negative integers too.
func TestIntegersStayExact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a.mmstats", "b.mmstats"} {
		var m struct {
			Big mmstats.Uint64 `mmstats:"big"`
		}
		f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Remove() })
		m.Big.Set(math.MaxUint64)
	}
	neg := filepath.Join(t.TempDir(), "neg.mmstats")
	v1file.Write(t, neg, v1file.Unbuffered("neg", "q", v1file.I64(math.MinInt64)))
	neg2 := filepath.Join(t.TempDir(), "neg.mmstats")
	v1file.Write(t, neg2, v1file.Unbuffered("neg", "q", v1file.I64(math.MinInt64)))

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"big", filepath.Join(dir, "a.mmstats")}, "18446744073709551615"},
		{[]string{"big", dir}, "36893488147419103230"},
		{[]string{"neg", neg, neg2}, "-18446744073709551616"},
	} {
		r := testutil.Run(t, nil, bin(t), append([]string{"-a", "-c", "2", "-d", "0.05"}, tt.args...)...)
		if r.Code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, r.Code, r.Stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if len(lines) != 3 || strings.TrimSpace(lines[1]) != tt.want || strings.TrimSpace(lines[2]) != tt.want {
			t.Errorf("%v: got\n%s\nwant lines of %s", tt.args, r.Stdout, tt.want)
		}
	}
}

// TestEach: --each prints a row per worker each interval, labelled with
// its PID and sorted by it; piped, the rows follow each other, and on a
// terminal a blank line separates the intervals and the time of the last
// hit shows as its age.
func TestEach(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "3", "--load")
	var pids []string
	for _, p := range d.PIDs {
		pids = append(pids, strconv.Itoa(p))
	}
	slices.SortFunc(pids, func(a, b string) int { // as numbers
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	})
	checkRows := func(t *testing.T, rows []string, hit *regexp.Regexp) {
		t.Helper()
		if len(rows) != len(pids) {
			t.Fatalf("rows %q, want one per worker %v", rows, pids)
		}
		for i, r := range rows {
			f := strings.Fields(r)
			if len(f) != 3 || f[0] != pids[i] || !hit.MatchString(f[2]) {
				t.Errorf("row %q, want pid %s, a count and a last hit like %v", r, pids[i], hit)
			}
			if n, err := strconv.Atoi(f[1]); err != nil || n < 0 {
				t.Errorf("row %q: count %q", r, f[1])
			}
		}
	}

	res := testutil.Run(t, nil, bin(t), "--each", "-c", "2", "-d", "0.2", "-p", "web.stats", "status.2XX,timers.last_hit", dir)
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	if res.Code != 0 || len(lines) != 1+2*len(pids) || strings.Join(strings.Fields(lines[0]), " ") != "pid status.2XX timers.last_hit" {
		t.Fatalf("exit %d, stderr %q; want a header and 2×%d rows:\n%s", res.Code, res.Stderr, len(pids), res.Stdout)
	}
	stamp := regexp.MustCompile(`^1[0-9]{9}$`) // seconds since the epoch
	checkRows(t, lines[1:1+len(pids)], stamp)
	checkRows(t, lines[1+len(pids):], stamp)

	term := startTerminal(t, 80, "--each", "-c", "2", "-d", "0.2", "-p", "web.stats", "status.2XX,timers.last_hit", dir)
	if code := term.wait(t); code != 0 {
		t.Fatalf("exit %d: %q", code, term.output())
	}
	lines = term.lines()
	if len(lines) != 2+2*len(pids) || lines[1+len(pids)] != "" {
		t.Fatalf("want a header, the rows, a blank line and the rows:\n%s", strings.Join(lines, "\n"))
	}
	age := regexp.MustCompile(`^[0-9.]+s$`) // the last hit, moments ago
	checkRows(t, lines[1:1+len(pids)], age)
	checkRows(t, lines[2+len(pids):], age)
	checkReset(t, term.output())
}
