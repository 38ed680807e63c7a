//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// prometheus is a Prometheus server that a test started.
type prometheus struct {
	URL string // http://127.0.0.1:PORT
	p   *testutil.Process
}

// startPrometheus starts Prometheus on a free port of loopback, with its
// data in a temporary directory, scraping the targets (HOST:PORT) every
// second, with the extra args (--enable-feature=...). It gets SIGTERM
// when the test ends.
func startPrometheus(t *testing.T, targets []string, args ...string) *prometheus {
	t.Helper()
	bin := promBinary(t)
	work := t.TempDir()
	config := filepath.Join(work, "prometheus.yml")
	err := os.WriteFile(config, []byte(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mmash
    static_configs:
      - targets: ['`+strings.Join(targets, "', '")+`']
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	u := "http://127.0.0.1:" + freePort(t)
	p := testutil.Start(t, nil, bin, append([]string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + filepath.Join(work, "data"),
		"--web.listen-address=" + strings.TrimPrefix(u, "http://"),
		"--log.level=warn"}, args...)...)
	t.Cleanup(func() { p.Cmd.Process.Signal(syscall.SIGTERM) })
	return &prometheus{URL: u, p: p}
}

// query evaluates an instant query and returns its one value; ok is
// false while Prometheus does not answer, or answers no value or more
// than one.
func (p *prometheus) query(t *testing.T, q string) (v float64, ok bool) {
	t.Helper()
	select {
	case <-p.p.Done():
		t.Fatalf("prometheus exited: %s", p.p.Stderr())
	default:
	}
	resp, err := http.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, false // not listening yet
	}
	defer resp.Body.Close()
	var res struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Status != "success" || len(res.Data.Result) != 1 {
		return 0, false
	}
	s, _ := res.Data.Result[0].Value[1].(string)
	v, err = strconv.ParseFloat(s, 64)
	return v, err == nil
}

// waitFor waits until query q gives want.
func (p *prometheus) waitFor(t *testing.T, q string, want float64) {
	t.Helper()
	var got float64
	testutil.Eventually(t, time.Minute, func() bool {
		v, ok := p.query(t, q)
		got = v
		return ok && v == want
	}, func() string {
		return fmt.Sprintf("Prometheus %s: %s is %v, want %v; stderr:\n%s", p.URL, q, got, want, p.p.Stderr())
	})
}

// latencyWriter is a process of runLatencyWriter.
type latencyWriter struct {
	stdin io.WriteCloser
	lines chan string
	path  string
}

// startLatencyWriter starts writer i in dir and waits for its file.
func startLatencyWriter(t *testing.T, dir string, i int) *latencyWriter {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", latencyWriterEnv, dir, i))
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &latencyWriter{stdin: stdin, lines: make(chan string, 8)}
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		stdin.Close() // the writer removes its file and exits
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	w.path = w.line(t)
	return w
}

// line waits for the writer's next line.
func (w *latencyWriter) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-w.lines:
		if !ok {
			t.Fatal("the latency writer exited")
		}
		return l
	case <-time.After(time.Minute):
		t.Fatal("the latency writer says nothing")
	}
	return ""
}

// TestPrometheusMergedQuantiles: four writer processes observe durations
// of known, different distributions; a real Prometheus scrapes mmash and
// histogram_quantile over the sum of their rates lands within the
// documented error of the exact quantile of all the durations pooled:
// one Prometheus with the classic buckets of the text format, from an
// mmash at the default classic schema (0: 2^1-1, 100%) and from one with
// --classic-schema 3 (2^(1/8)-1, 9.05%), one with native histograms,
// which asks for the protobuf format (2^(1/64)-1, 1.09%). mmash's own
// merged percentiles (?aggr=policy) are within the writer's
// 2^(1/128)-1, 0.54%.
func TestPrometheusMergedQuantiles(t *testing.T) {
	promBinary(t) // before the writers: skip or fail at once
	dir := t.TempDir()
	writers := make([]*latencyWriter, latencyWriters)
	var pooled []float64
	for i := range writers {
		writers[i] = startLatencyWriter(t, dir, i)
		for _, d := range latencies(i) {
			pooled = append(pooled, seconds(d))
		}
	}
	slices.Sort(pooled)
	n := float64(len(pooled))
	mm := testutil.StartMmash(t, nil, dir)
	mm3 := testutil.StartMmash(t, nil, dir, "--classic-schema", "3")
	target, target3 := strings.TrimPrefix(mm.URL, "http://"), strings.TrimPrefix(mm3.URL, "http://")
	classic := startPrometheus(t, []string{target, target3})
	native := startPrometheus(t, []string{target}, "--enable-feature=native-histograms")

	// Both have scraped the four files (of each mmash), before any
	// value: the series start at 0, so that rate() sees every value.
	classic.waitFor(t, "count(mmstats_lat_seconds_count)", 2*latencyWriters)
	native.waitFor(t, "count(mmstats_lat_seconds)", latencyWriters)
	for _, w := range writers {
		io.WriteString(w.stdin, "observe\n")
	}
	for _, w := range writers {
		if l := w.line(t); l != "observed" {
			t.Fatalf("writer %s said %q", w.path, l)
		}
	}
	classic.waitFor(t, "sum(mmstats_lat_seconds_count)", 2*n)
	native.waitFor(t, "sum(histogram_count(mmstats_lat_seconds))", n)
	// Each mmash's _bucket series: 31 and 241 bounds and +Inf per file.
	for _, c := range []struct {
		target string
		want   float64
	}{{target, 32}, {target3, 242}} {
		classic.waitFor(t, fmt.Sprintf("count(mmstats_lat_seconds_bucket{instance=%q})", c.target), c.want*latencyWriters)
	}

	var merged map[string]float64
	if code := getJSON(t, mm.URL+"/stats/lat.p?aggr=policy", &merged); code != 200 || len(merged) != 4 {
		t.Fatalf("/stats/lat.p?aggr=policy: %d %v", code, merged)
	}
	const (
		classic0Err = 1.0                 // 2^1 - 1
		classic3Err = 0.0905077326652577  // 2^(1/8) - 1
		nativeErr   = 0.01088993475811632 // 2^(1/64) - 1
		mmashErr    = 0.00542953666418173 // 2^(1/128) - 1
	)
	for _, q := range []struct {
		q    float64
		stat string
	}{{0.5, "lat.p50"}, {0.9, "lat.p90"}, {0.99, "lat.p99"}, {0.999, "lat.p999"}} {
		exact := pooled[int(math.Ceil(q.q*n))-1]
		classicQ := `histogram_quantile(%g, sum by (le) (rate(mmstats_lat_seconds_bucket{instance=%q}[10m])))`
		c0, ok0 := classic.query(t, fmt.Sprintf(classicQ, q.q, target))
		c3, ok3 := classic.query(t, fmt.Sprintf(classicQ, q.q, target3))
		nat, ok2 := native.query(t, fmt.Sprintf("histogram_quantile(%g, sum(rate(mmstats_lat_seconds[10m])))", q.q))
		own := merged[q.stat]
		t.Logf("%-8s exact %.6g s; Prometheus classic schema 0 %.6g (%+.2f%%), schema 3 %.6g (%+.2f%%), native %.6g (%+.2f%%); mmash %.6g (%+.3f%%)",
			q.stat, exact, c0, 100*(c0/exact-1), c3, 100*(c3/exact-1), nat, 100*(nat/exact-1), own, 100*(own/exact-1))
		if !ok0 || math.Abs(c0/exact-1) > classic0Err {
			t.Errorf("%s: Prometheus over the classic buckets of schema 0 gives %v (ok %v), exact %v: more than %.2f%% off", q.stat, c0, ok0, exact, 100*classic0Err)
		}
		if !ok3 || math.Abs(c3/exact-1) > classic3Err {
			t.Errorf("%s: Prometheus over the classic buckets of schema 3 gives %v (ok %v), exact %v: more than %.2f%% off", q.stat, c3, ok3, exact, 100*classic3Err)
		}
		if !ok2 || math.Abs(nat/exact-1) > nativeErr {
			t.Errorf("%s: Prometheus over the native histograms gives %v (ok %v), exact %v: more than %.2f%% off", q.stat, nat, ok2, exact, 100*nativeErr)
		}
		if math.Abs(own/exact-1) > mmashErr {
			t.Errorf("%s: mmash gives %v, exact %v: more than %.2f%% off", q.stat, own, exact, 100*mmashErr)
		}
	}
}
