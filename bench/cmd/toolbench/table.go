package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The raw files scripts/bench leaves in its directory.
const (
	rawCompare = "compare.txt" // go test -bench BenchmarkCompare -count N (bench module)
	rawTools   = "tools.json"  // toolbench tools
	rawTorn    = "torn.txt"    // go test -v -run TestNoTornReads...|TestGroups... ./pkg/mmstats
	rawFuzz    = "fuzz.txt"    // go test -fuzz FuzzParse ./pkg/reader
	rawTests   = "tests.txt"   // go test -v -run TestManyFiles|TestLoad ./test
	rawMeta    = "meta.txt"    // key=value lines: torn_ms, fuzztime, count, many_files
)

func tableMain(args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	raw := fs.String("raw", "", "directory of the raw outputs")
	fs.Parse(args)
	if *raw == "" {
		return fmt.Errorf("table needs -raw")
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(*raw, name))
		return string(b)
	}
	meta := parseMeta(read(rawMeta))
	t := &table{}
	cpu := firstMatch(read(rawCompare), `(?m)^cpu: (.*)$`)
	t.title = fmt.Sprintf("mmstats scripts/bench — %s, %s/%s, %s, %d CPUs — %s",
		time.Now().Format("2006-01-02 15:04"), runtime.GOOS, runtime.GOARCH, runtime.Version(), runtime.NumCPU(), cpu)
	writerRows(t, read(rawCompare), meta["count"])
	if err := toolRows(t, read(rawTools)); err != nil {
		return err
	}
	mmashRows(t, read(rawMmash), read(rawMmashFolds))
	pollDiskRows(t, read(rawPollDisk))
	pollMapsRows(t, read(rawPollMaps))
	proofRows(t, read(rawTorn), read(rawFuzz), read(rawTests), meta)
	t.print(os.Stdout)
	fmt.Printf("raw outputs: %s\n", *raw)
	return nil
}

func parseMeta(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// table is rows of cells under section titles, printed in fixed-width
// columns.
type table struct {
	title string
	rows  [][]string // a row of one cell is a section title
}

var header = []string{"measure", "subject", "value", "vs same-run anchor", "second figure", "notes"}

func (t *table) section(title string) { t.rows = append(t.rows, []string{title}) }
func (t *table) row(cells ...string)  { t.rows = append(t.rows, cells) }

func (t *table) print(w *os.File) {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, t.rows...) {
		if len(r) == 1 {
			continue
		}
		for i, c := range r {
			widths[i] = max(widths[i], runeLen(c))
		}
	}
	total := 0
	for _, wd := range widths[:len(widths)-1] {
		total += wd + 2
	}
	total += min(widths[len(widths)-1], 40)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintln(bw, t.title)
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-runeLen(c)+2))
			}
		}
		fmt.Fprintln(bw, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, r := range t.rows {
		if len(r) == 1 {
			title := "── " + r[0] + " "
			fmt.Fprintln(bw, title+strings.Repeat("─", max(3, total-runeLen(title))))
			continue
		}
		line(r)
	}
}

func runeLen(s string) int { return len([]rune(s)) }

func firstMatch(s, re string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// benchResult is one sub-benchmark's runs, in the order they ran.
type benchResult struct {
	ns, allocs []float64
}

// median is the median ns/op.
func (r benchResult) median() float64 { return median(r.ns) }

// vs is the median, over the rounds of -count, of the ratio of r's ns/op
// to other's in the same round: each round runs every sub-benchmark once,
// so a round's figures were taken seconds apart, in the same state of a
// busy machine.
func (r benchResult) vs(other benchResult) float64 {
	if len(r.ns) != len(other.ns) || len(r.ns) == 0 {
		return r.median() / other.median()
	}
	ratios := make([]float64, len(r.ns))
	for i := range r.ns {
		ratios[i] = r.ns[i] / other.ns[i]
	}
	return median(ratios)
}

// notes are the allocations per op and the range of ns/op over the rounds.
func (r benchResult) notes() string {
	return fmt.Sprintf("%s; rounds %s to %s", allocs(median(r.allocs)), ns(slices.Min(r.ns)), ns(slices.Max(r.ns)))
}

var benchLine = regexp.MustCompile(`^BenchmarkCompare/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ B/op\s+([\d.]+) allocs/op)?`)

func parseBench(s string) map[string]benchResult {
	out := map[string]benchResult{}
	for _, l := range strings.Split(s, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		r := out[m[1]]
		v, _ := strconv.ParseFloat(m[2], 64)
		r.ns = append(r.ns, v)
		if m[3] != "" {
			a, _ := strconv.ParseFloat(m[3], 64)
			r.allocs = append(r.allocs, a)
		}
		out[m[1]] = r
	}
	return out
}

func writerRows(t *table, raw, count string) {
	res := parseBench(raw)
	if count == "" {
		count = "N"
	}
	type impl struct{ name, key string }
	ops := []struct {
		what  string
		impls []impl
		prom  string // the Prometheus equivalent's key, "" if none
	}{
		{"counter increment", []impl{{"mmstats Counter.Inc", "counter_inc/mmstats"}, {"prometheus Counter.Inc", "counter_inc/prometheus"}}, "counter_inc/prometheus"},
		{"double set", []impl{{"mmstats Double.Set", "double_set/mmstats"}, {"prometheus Gauge.Set", "double_set/prometheus_gauge"}}, "double_set/prometheus_gauge"},
		{"string set", []impl{{"mmstats String.Set (32 B)", "string_set/mmstats"}}, ""},
		{"observation", []impl{{"mmstats Histogram.Observe", "observe/mmstats_histogram"}, {"mmstats Timer.Observe", "observe/mmstats_timer"},
			{"prometheus Histogram.Observe", "observe/prometheus_histogram"}}, "observe/prometheus_histogram"},
	}
	modes := []struct{ key, title string }{
		{"single", "writer, one goroutine: ns/op, median of " + count + " rounds of BenchmarkCompare (bench/); ratios: median of each round's ratio"},
		{"parallel", fmt.Sprintf("writer, b.RunParallel on %d CPUs, all on one field: the throughput of one contended cache line (on this VM it flips, for seconds at a time, between modes about 2-3x apart)", runtime.NumCPU())},
	}
	for _, mode := range modes {
		t.section(mode.title)
		anchor, ok := res["anchor/raw_atomic_add/"+mode.key]
		if !ok {
			t.row("(no BenchmarkCompare output)", "", "", "", "", "")
			continue
		}
		t.row("anchor", "atomic.AddUint64, mapped word", ns(anchor.median()), "1.00x raw atomic", "", anchor.notes())
		for _, op := range ops {
			for k, im := range op.impls {
				r, ok := res[im.key+"/"+mode.key]
				if !ok {
					continue
				}
				what := op.what
				if k > 0 {
					what = ""
				}
				vsProm := "no Prometheus equivalent"
				if p, ok := res[op.prom+"/"+mode.key]; ok && op.prom != "" {
					vsProm = fmt.Sprintf("%.2fx prometheus", r.vs(p))
				}
				if im.key == op.prom {
					vsProm = ""
				}
				t.row(what, im.name, ns(r.median()), fmt.Sprintf("%.2fx raw atomic", r.vs(anchor)), vsProm, r.notes())
			}
		}
	}
}

func ns(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f ns", v)
	}
	return fmt.Sprintf("%.1f ns", v)
}

func allocs(v float64) string { return fmt.Sprintf("%g allocs/op", v) }

func toolRows(t *table, raw string) error {
	if raw == "" {
		t.section("tools: no results (toolbench tools did not run)")
		return nil
	}
	var res toolResults
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return fmt.Errorf("%s: %w", rawTools, err)
	}
	t.section(fmt.Sprintf("tools: copies of one %d-byte file by the real writer, in %s; wall/CPU medians, peak RSS = child's ru_maxrss", res.FileSize, res.Root))
	if len(res.Sizes) == 0 {
		return nil
	}
	// The growth is the cost per file relative to the first size that
	// the tool was measured at.
	type baseline struct {
		d time.Duration
		n int
	}
	bases := map[string]baseline{}
	growth := func(tool string, d time.Duration, n int) string {
		per := d / time.Duration(n)
		b, ok := bases[tool]
		if !ok {
			bases[tool] = baseline{d, n}
			return dur(per) + "/file"
		}
		return fmt.Sprintf("%s/file (%.2fx of %s files)", dur(per), float64(per)/float64(b.d/time.Duration(b.n)), count(b.n))
	}
	failed := func(what string, s sizeResults, tool string) bool {
		msg, ok := s.Errors[tool]
		if !ok {
			return false
		}
		if len(msg) > 160 {
			msg = msg[:160] + "..."
		}
		t.row(what, count(s.Files)+" files", "FAILED", "", "", msg)
		return true
	}
	var slurpPrev *sizeResults // the size before, for the cost of a file more
	for i, s := range res.Sizes {
		what := ""
		if i == 0 {
			what = "slurpstats DIR (text)"
		}
		if failed(what, s, "slurpstats") {
			continue
		}
		note := "peak RSS " + mib(s.Slurp.RSSKiB) + fmt.Sprintf(" (cat %s); %d runs", mib(s.Cat.RSSKiB), s.Slurp.Runs)
		grow := growth("slurpstats", s.Slurp.Wall, s.Files)
		if p := slurpPrev; p != nil && s.Files > p.Files {
			// Linear from the size before: the time of a file more, and
			// its memory (the difference of the peak RSS).
			extra := s.Files - p.Files
			per := float64(s.Slurp.Wall-p.Slurp.Wall) / float64(extra)
			grow += fmt.Sprintf("; %s/file more than %s files (%.2fx their %s/file)", dur(time.Duration(per)), count(p.Files), per/float64(p.Slurp.Wall/time.Duration(p.Files)), dur(p.Slurp.Wall/time.Duration(p.Files)))
			note += fmt.Sprintf("; memory per file %.0f bytes ((RSS %s − RSS %s) / %s files)",
				float64(s.Slurp.RSSKiB-p.Slurp.RSSKiB)*1024/float64(extra), count(s.Files), count(p.Files), count(extra))
		}
		t.row(what, count(s.Files)+" files", dur(s.Slurp.Wall)+" wall",
			fmt.Sprintf("%.2fx cat of the files (%s); %s", ratio(s.Slurp.Wall, s.Cat.Wall), dur(s.Cat.Wall), target(ratio(s.Slurp.Wall, s.Cat.Wall), 1.0)),
			grow, note)
		slurpPrev = &res.Sizes[i]
	}
	for i, s := range res.Sizes {
		what := ""
		if i == 0 {
			what = "pollstats, one interval: 2 counters, a merged p99, a bool"
		}
		if failed(what, s, "pollstats") {
			continue
		}
		note := fmt.Sprintf("peak RSS %s; -c %d minus -c %d, -d 0.05", mib(s.Poll[1].RSSKiB), s.PollK[1], s.PollK[0])
		if s.PollCopies {
			note += "; > vm.max_map_count: some files read from a copy"
		}
		cat := "(no cat run)"
		if _, ok := s.Errors["slurpstats"]; !ok {
			cat = fmt.Sprintf("%.3fx cat's CPU (%s)", ratio(s.PollCPU, s.Cat.CPU), dur(s.Cat.CPU))
		}
		t.row(what, count(s.Files)+" files × 4 fields", dur(s.PollCPU)+" CPU", cat, growth("pollstats", s.PollCPU, s.Files), note)
	}
	pollTargetRows(t, res)
	for i, s := range res.Sizes {
		what := ""
		if i == 0 {
			what = "cleanstats -q DIR, half stale"
		}
		if failed(what, s, "cleanstats") {
			continue
		}
		verified := "left exactly the live half"
		if !s.CleanVerified {
			verified = "WRONG FILES LEFT"
		}
		t.row(what, count(s.Files)+" files", dur(s.Clean.Wall)+" wall",
			fmt.Sprintf("%.2fx rm of the %s stale (%s); %s", ratio(s.Clean.Wall, s.Rm.Wall), count(s.CleanStale), dur(s.Rm.Wall), target(ratio(s.Clean.Wall, s.Rm.Wall), 3.0)),
			growth("cleanstats", s.Clean.Wall, s.Files), fmt.Sprintf("peak RSS %s; %s; %d runs", mib(s.Clean.RSSKiB), verified, s.Clean.Runs))
		cleanAnchorRow(t, s)
	}
	return nil
}

// target says whether the ratio r meets the target of at most limit
// (issue 15's targets: slurpstats ≤ 1.0x cat, cleanstats ≤ 3x rm).
func target(r, limit float64) string {
	verdict := "met"
	if r > limit {
		verdict = "NOT met"
	}
	return fmt.Sprintf("target ≤ %.1fx: %s", limit, verdict)
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	case d >= time.Microsecond:
		return fmt.Sprintf("%.2f µs", float64(d)/1e3)
	}
	return fmt.Sprintf("%d ns", d.Nanoseconds())
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// count formats n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// testStatus returns PASS or FAIL for a test in go test -v output, or
// "did not run".
func testStatus(out, name string) string {
	if m := regexp.MustCompile(`--- (PASS|FAIL|SKIP): ` + name + ` \(([\d.]+)s\)`).FindStringSubmatch(out); m != nil {
		return m[1] + " in " + m[2] + " s"
	}
	return "did not run"
}

// testLines returns the lines of test name's output in go test -v output
// (between its "=== RUN"/"=== CONT" line and the next "=== " line) for
// which keep returns ok, as keep rewrites them.
func testLines(out, name string, keep func(line string) (string, bool)) []string {
	var lines []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "=== RUN   "+name) || strings.HasPrefix(l, "=== CONT  "+name):
			in = true
		case strings.HasPrefix(l, "=== "):
			in = false
		case in:
			if r, ok := keep(l); ok {
				lines = append(lines, r)
			}
		}
	}
	return lines
}

// results returns the text of a test's "result: ..." log lines.
func results(out, name string) []string {
	return testLines(out, name, func(l string) (string, bool) {
		_, r, ok := strings.Cut(l, "result: ")
		return r, ok
	})
}

func proofRows(t *table, torn, fuzz, tests string, meta map[string]string) {
	t.section("guarantees under stress (long form of the tests scripts/test runs short)")
	reads := firstMatch(torn, `reader process: (\d+) reads`)
	viol := firstMatch(torn, `reader process: \d+ reads, (\d+) violations`)
	t.row("torn reads, across processes", "TestNoTornReadsAcrossProcesses", count(atoi(reads))+" reads",
		viol+" violations", "MMSTATS_TORN_MS="+meta["torn_ms"], testStatus(torn, "TestNoTornReadsAcrossProcesses"))
	m := regexp.MustCompile(`(\d+) group reads, (\d+) torn; reading the fields one by one saw (\d+) mixes`).FindStringSubmatch(torn)
	if m != nil {
		t.row("group snapshots", "TestGroupsAreReadConsistently", count(atoi(m[1]))+" reads", m[2]+" torn",
			"one by one, unprotected: "+count(atoi(m[3]))+" mixed", testStatus(torn, "TestGroupsAreReadConsistently"))
	}
	fm := regexp.MustCompile(`elapsed: (\S+), execs: (\d+) \((\d+)/sec\)(?:, new interesting: (\d+) \(total: (\d+)\))?`).FindAllStringSubmatch(fuzz, -1)
	status := "FAIL"
	if regexp.MustCompile(`(?m)^(ok|PASS)\b`).MatchString(fuzz) && !strings.Contains(fuzz, "--- FAIL") {
		status = "PASS"
	}
	if len(fm) > 0 {
		last := fm[len(fm)-1]
		corpus := ""
		if last[5] != "" {
			corpus = "corpus " + count(atoi(last[5]))
		}
		crashes := "0 crashes"
		if status != "PASS" {
			crashes = "FAILED: see " + rawFuzz
		}
		// The last lines report the rate of their last few seconds (0 at
		// the very end): the mean rate is execs over the time elapsed.
		rate := ""
		if el, err := time.ParseDuration(last[1]); err == nil && el > 0 {
			rate = count(int(float64(atoi(last[2]))/el.Seconds())) + "/s, "
		}
		t.row("fuzzing the parser", "FuzzParse, -fuzztime "+meta["fuzztime"], count(atoi(last[2]))+" execs",
			rate+crashes, corpus, status)
	} else {
		t.row("fuzzing the parser", "FuzzParse", "no output", "", "", status)
	}
	for _, tc := range []struct{ what, name string }{
		{fmt.Sprintf("hostile: %s files (vm.max_map_count %s)", count(atoi(meta["many_files"])), count(maxMapCount())), "TestManyFiles/pollstats"},
		{"", "TestManyFiles/slurpstats"},
		{"", "TestManyFiles/mmash"},
		{"", "TestManyFiles/cleanstats"},
		{"load: 64 writers × 10^6 increments", "TestLoad"},
	} {
		status := testStatus(tests, tc.name)
		rs := results(tests, tc.name)
		if strings.HasPrefix(status, "FAIL") {
			rs = firstLog(tests, tc.name)
		}
		first := ""
		if len(rs) > 0 {
			first = rs[0]
		}
		t.row(tc.what, tc.name, status, "", "", first)
	}
}

// firstLog returns the first log line of a test (its first error, when
// it failed), shortened.
func firstLog(out, name string) []string {
	re := regexp.MustCompile(`^\s+\w+_test\.go:\d+: (.*)$`)
	lines := testLines(out, name, func(l string) (string, bool) {
		m := re.FindStringSubmatch(l)
		if m == nil {
			return "", false
		}
		msg := "FAILED: " + m[1]
		if len(msg) > 160 {
			msg = msg[:160] + "..."
		}
		return msg, true
	})
	if len(lines) > 1 {
		lines = lines[:1]
	}
	return lines
}

// cleanAnchorRow prints, under a cleanstats row, its CPU against rm's and
// the anchor of the same run (clean.go): what a minimal safe cleaner
// costs against rm, wall and CPU, and cleanstats against it.
func cleanAnchorRow(t *table, s sizeResults) {
	a := s.CleanAnchor
	cpu := fmt.Sprintf("CPU %s: %.2fx rm's (%s)", dur(s.Clean.CPU), ratio(s.Clean.CPU, s.Rm.CPU), dur(s.Rm.CPU))
	if a.Error != "" || a.Anchor.Runs == 0 {
		t.row("", "", "", cpu, "", "no anchor: "+a.Error)
		return
	}
	verified := "left exactly the live half"
	if !a.Verified {
		verified = "WRONG FILES LEFT"
	}
	t.row("", "  minimal safe cleaner", dur(a.Anchor.Wall)+" wall",
		fmt.Sprintf("%s; anchor %.2fx rm wall, %.2fx rm CPU", cpu, ratio(a.Anchor.Wall, a.Rm.Wall), ratio(a.Anchor.CPU, a.Rm.CPU)),
		fmt.Sprintf("cleanstats %.2fx anchor CPU", ratio(s.Clean.CPU, a.Anchor.CPU)), "toolbench cleananchor; "+verified)
}
