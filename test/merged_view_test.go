//go:build unix

package test

// The merged view of many processes, end to end: real writer processes
// publish known distributions, and the built pollstats and slurpstats
// --total give the percentiles of all their values pooled; frozen demo
// workers show that a merged percentile lies among the files' own and a
// timestamp is the latest, never a sum.

import (
	"encoding/json"
	"fmt"
	"math"
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

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// sampleWriterEnv makes the test binary a writer process: "DIR INDEX"
// (see runSampleWriter). It is checked in init, before TestMain, so that
// the shared TestMain needs no role of its own.
const sampleWriterEnv = "MMSTATS_TEST_SAMPLE_WRITER"

func init() {
	if v := os.Getenv(sampleWriterEnv); v != "" {
		os.Exit(runSampleWriter(v))
	}
}

// sampleWriters is the number of writer processes of the merge test.
const sampleWriters = 5

// sampleModel is what each writer process publishes.
type sampleModel struct {
	Lat  mmstats.Timer     `mmstats:"lat,windows=none"`
	Size mmstats.Histogram `mmstats:"size,unit=bytes,windows=none"`
}

// sampleLatencies returns writer i's durations, from a fixed seed: a
// different distribution per writer, and a different number of them.
func sampleLatencies(i int) []time.Duration {
	return testutil.Latencies(i, 13, 40_000+10_000*i)
}

// sampleSizes returns writer i's sizes in bytes.
func sampleSizes(i int) []float64 {
	return testutil.Sizes(i, 31, 20_000+5_000*i)
}

// runSampleWriter is a writer process: it publishes writer INDEX's
// values in DIR/sINDEX.mmstats, prints the file's path and lives until
// its stdin closes, then removes its file.
func runSampleWriter(arg string) int {
	dir, idx, _ := strings.Cut(arg, " ")
	i, _ := strconv.Atoi(idx)
	var m sampleModel
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("s%d.mmstats", i)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, d := range sampleLatencies(i) {
		m.Lat.Observe(d)
	}
	for _, s := range sampleSizes(i) {
		m.Size.Observe(s)
	}
	f.Refresh() // publish the buckets and percentiles now
	fmt.Println(f.Path())
	os.Stdin.Read(make([]byte, 1)) // until the test ends
	if err := f.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startSampleWriters starts the writer processes and returns their files
// once they are written.
func startSampleWriters(t *testing.T, dir string) []string {
	t.Helper()
	procs := make([]*testutil.Process, sampleWriters)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", sampleWriterEnv, dir, i))
		procs[i] = testutil.StartCmd(t, cmd, 16)
	}
	var paths []string
	for i, p := range procs {
		path := p.Line(t, time.Minute)
		if path != filepath.Join(dir, fmt.Sprintf("s%d.mmstats", i)) {
			t.Fatalf("writer %d printed %q; stderr:\n%s", i, path, p.Stderr())
		}
		paths = append(paths, path)
	}
	return paths
}

// exactQuantile returns the value of rank ceil(q·n) of sorted values:
// the rule of the writer's percentiles.
func exactQuantile(sorted []float64, q float64) float64 {
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

// bucketError is the documented error of a percentile, merged or not:
// half a schema-6 bucket, 2^(1/128)-1 = 0.54%.
var bucketError = math.Exp2(1.0/128) - 1

// printError bounds the rounding of pollstats' text, 6 significant
// digits.
const printError = 1e-5

// pollstatsLine runs pollstats -a -c 1, piped, and returns its line by
// header.
func pollstatsLine(t *testing.T, args ...string) map[string]string {
	t.Helper()
	r := testutil.Run(t, nil, pollstats(t), append([]string{"-a", "-c", "1", "-d", "0.05"}, args...)...)
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if r.Code != 0 || r.Stderr != "" || len(lines) != 2 {
		t.Fatalf("pollstats %q: exit %d, stderr %q, output:\n%s", args, r.Code, r.Stderr, r.Stdout)
	}
	head, vals := strings.Fields(lines[0]), strings.Fields(lines[1])
	if len(head) != len(vals) {
		t.Fatalf("pollstats %q: header and line differ:\n%s", args, r.Stdout)
	}
	out := map[string]string{}
	for i, h := range head {
		out[h] = vals[i]
	}
	return out
}

// slurpTotal runs slurpstats --total --json and returns its stats by
// label.
func slurpTotal(t *testing.T, args ...string) map[string]totalStat {
	t.Helper()
	r := testutil.Run(t, nil, slurpstats(t), append([]string{"--total", "--json"}, args...)...)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("slurpstats --total %q: exit %d, stderr %q", args, r.Code, r.Stderr)
	}
	var got struct {
		Stats []totalStat `json:"stats"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("slurpstats --total %q: %v:\n%s", args, err, r.Stdout)
	}
	out := map[string]totalStat{}
	for _, s := range got.Stats {
		out[s.Label] = s
	}
	return out
}

// totalStat is a stat of slurpstats --total --json.
type totalStat struct {
	Label  string          `json:"label"`
	Policy string          `json:"policy"`
	Files  int             `json:"files"`
	Value  json.RawMessage `json:"value"`
	From   string          `json:"from"`
}

// TestToolsMergePercentilesAcrossProcesses: 5 writer processes publish
// known, different latency and size distributions (40,000 to 80,000
// values each); pollstats' columns and slurpstats --total give the p50,
// p90, p99 and p999 of all their values pooled, within the bucket error
// of the exact ones, which the test computes from the same samples.
func TestToolsMergePercentilesAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	pooled := map[string][]float64{}
	wg.Add(1)
	go func() { // the exact percentiles, while the writers start
		defer wg.Done()
		for i := range sampleWriters {
			for _, d := range sampleLatencies(i) {
				pooled["lat"] = append(pooled["lat"], float64(d)/1e9) // as Timer.Observe converts
			}
			pooled["size"] = append(pooled["size"], sampleSizes(i)...)
		}
		slices.Sort(pooled["lat"])
		slices.Sort(pooled["size"])
	}()
	startSampleWriters(t, dir)
	wg.Wait()

	suffixes := []string{"p50", "p90", "p99", "p999"}
	qs := []float64{0.5, 0.9, 0.99, 0.999}
	var cols []string
	for _, h := range []string{"lat", "size"} {
		for _, s := range suffixes {
			cols = append(cols, h+"."+s)
		}
	}
	line := pollstatsLine(t, strings.Join(cols, ","), dir)
	total := slurpTotal(t, "-f", "lat.p*", "-f", "size.p*", dir)
	for _, h := range []string{"lat", "size"} {
		for k, s := range suffixes {
			label := h + "." + s
			exact := exactQuantile(pooled[h], qs[k])
			polled, err := strconv.ParseFloat(line[label], 64)
			if err != nil {
				t.Fatalf("pollstats %s: %q", label, line[label])
			}
			tot := total[label]
			summed, err := strconv.ParseFloat(string(tot.Value), 64)
			if err != nil || tot.Policy != "quantile" || tot.Files != sampleWriters {
				t.Fatalf("slurpstats --total %s: %+v", label, tot)
			}
			pe, se := math.Abs(polled-exact)/exact, math.Abs(summed-exact)/exact
			t.Logf("%-9s exact %.6g of %d values pooled; pollstats %.6g (%.3f%% off), slurpstats --total %.6g (%.3f%% off)",
				label, exact, len(pooled[h]), polled, 100*pe, summed, 100*se)
			if pe > bucketError+printError {
				t.Errorf("pollstats %s = %v, exact %v: %.3f%% off, more than %.3f%%", label, polled, exact, 100*pe, 100*bucketError)
			}
			if se > bucketError*(1+1e-9) {
				t.Errorf("slurpstats --total %s = %v, exact %v: %.3f%% off, more than %.3f%%", label, summed, exact, 100*se, 100*bucketError)
			}
		}
	}
}

// TestMergedP99OfFrozenDemoWorkers: with 4 demo workers under load
// frozen (SIGSTOP), pollstats' and slurpstats --total's request p99 lies
// between the smallest and the largest of the workers' own p99 (within
// the bucket error), never at their sum; the time of the last hit and
// sys.created are the latest of the files', not their sum; --each shows
// each worker's own p99, labelled with its PID. The workers are resumed
// (SIGCONT) and stopped at the end.
func TestMergedP99OfFrozenDemoWorkers(t *testing.T) {
	dir := t.TempDir()
	d := testutil.StartDemo(t, dir, "--listen", "127.0.0.1:0", "--workers", "4", "--load")
	files := d.Files(t)
	// Every worker has served some requests and published its timer.
	testutil.Eventually(t, 20*time.Second, func() bool {
		for _, f := range files {
			if v := statsOf(t, f)["web.stats.timers.request.count"]; v.Float() < 100 {
				return false
			}
		}
		return true
	}, func() string { return "the workers served fewer than 100 requests each" })
	time.Sleep(1100 * time.Millisecond) // one more refresh: percentiles of them

	t.Cleanup(func() { signalAll(d.PIDs, syscall.SIGCONT) }) // before the demo's own cleanup stops them
	own := freeze(t, d.PIDs, files)

	var p99s, hits, created []float64
	for _, f := range files {
		s := own[f]
		p99s = append(p99s, s["web.stats.timers.request.p99"].Float())
		hits = append(hits, s["web.stats.timers.last_hit"].Float())
		created = append(created, s["web.stats.sys.created"].Float())
	}
	lo, hi := slices.Min(p99s), slices.Max(p99s)
	var sum float64
	for _, p := range p99s {
		sum += p
	}
	inRange := func(v float64, slack float64) bool {
		return v >= lo*(1-bucketError-slack) && v <= hi*(1+bucketError+slack)
	}

	line := pollstatsLine(t, "-p", "web.stats", "timers.request.p99,timers.last_hit,sys.created", dir)
	p99, _ := strconv.ParseFloat(line["timers.request.p99"], 64)
	hit, _ := strconv.ParseFloat(line["timers.last_hit"], 64)
	cr, _ := strconv.ParseFloat(line["sys.created"], 64)
	t.Logf("p99 per worker %.4g (sum %.4g); pollstats %v", p99s, sum, p99)
	if !inRange(p99, printError) || math.Abs(p99-sum) < 1e-3*sum {
		t.Errorf("pollstats p99 %v outside the workers' [%v, %v] (sum %v)", p99, lo, hi, sum)
	}
	// Piped, a timestamp prints in whole seconds.
	if latest := slices.Max(hits); math.Abs(hit-latest) > 1 {
		t.Errorf("pollstats last_hit %v, want the latest %v (of %v), not the sum", hit, latest, hits)
	}
	if latest := slices.Max(created); math.Abs(cr-latest) > 1 {
		t.Errorf("pollstats sys.created %v, want the latest %v (of %v)", cr, latest, created)
	}

	total := slurpTotal(t, "-f", "web.stats.timers.*", "-f", "web.stats.sys.created", dir)
	tp99, _ := strconv.ParseFloat(string(total["web.stats.timers.request.p99"].Value), 64)
	if !inRange(tp99, 0) || total["web.stats.timers.request.p99"].Files != 4 {
		t.Errorf("slurpstats --total p99 %v outside the workers' [%v, %v]", tp99, lo, hi)
	}
	latest := slices.Index(hits, slices.Max(hits))
	if h := total["web.stats.timers.last_hit"]; !sameFloat(h.Value, hits[latest]) || h.Policy != "latest" || h.From != files[latest] {
		t.Errorf("slurpstats --total last_hit %+v, want %v from %s", h, hits[latest], files[latest])
	}

	// --each: each worker's own p99, by PID.
	r := testutil.Run(t, nil, pollstats(t), "--each", "-c", "1", "-d", "0.05", "-p", "web.stats.timers.request", "p99", dir)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if r.Code != 0 || len(lines) != 5 {
		t.Fatalf("pollstats --each: exit %d, stderr %q:\n%s", r.Code, r.Stderr, r.Stdout)
	}
	pids := slices.Sorted(slices.Values(d.PIDs))
	for k, l := range lines[1:] {
		f := strings.Fields(l)
		i := slices.Index(d.PIDs, pids[k])
		v, _ := strconv.ParseFloat(f[1], 64)
		if f[0] != strconv.Itoa(pids[k]) || math.Abs(v-p99s[i]) > printError*p99s[i] {
			t.Errorf("--each row %q, want pid %d with p99 %v", l, pids[k], p99s[i])
		}
	}
}

// freeze stops the workers and returns the stats of their files, once
// every file reads whole: a worker stopped in the middle of publishing a
// group (its sequence word odd) is resumed and stopped again.
func freeze(t *testing.T, pids []int, files []string) map[string]map[string]reader.Value {
	t.Helper()
	for range 20 {
		signalAll(pids, syscall.SIGSTOP)
		time.Sleep(50 * time.Millisecond) // the signals are delivered
		out := map[string]map[string]reader.Value{}
		for _, f := range files {
			if s, err := readWhole(f); err == nil {
				out[f] = s
			}
		}
		if len(out) == len(files) {
			return out
		}
		signalAll(pids, syscall.SIGCONT)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the workers' files never read whole while they were stopped")
	return nil
}

// readWhole reads every stat of the file at path and its histograms.
func readWhole(path string) (map[string]reader.Value, error) {
	f, err := reader.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]reader.Value{}
	var h reader.Histogram
	err = f.ScanFields(func(i int, fl *reader.Field) bool {
		if fl.HasBuckets() {
			err = f.ReadHistogram(i, &h)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return out, f.ScanStats(func(s *reader.Stat) bool {
		out[s.Label] = s.Value
		return true
	})
}

// statsOf returns the stats of the file at path, or none.
func statsOf(t *testing.T, path string) map[string]reader.Value {
	t.Helper()
	s, _ := readWhole(path)
	return s
}

// signalAll sends sig to every process of pids.
func signalAll(pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
}

// sameFloat reports whether the JSON number raw is v.
func sameFloat(raw json.RawMessage, v float64) bool {
	f, err := strconv.ParseFloat(string(raw), 64)
	return err == nil && f == v
}
