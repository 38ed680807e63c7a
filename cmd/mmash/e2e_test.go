//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// loadedDemo are the arguments of an mmstats-demo whose workers send
// themselves requests.
var loadedDemo = []string{"--workers", "2", "--load", "--rate", "50", "--listen", "127.0.0.1:0", "--duration", "5m"}

// getJSON GETs u and decodes its JSON body into v, returning the status.
func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v\n%s", u, res.StatusCode, err, b)
	}
	return res.StatusCode
}

// rawStatus sends a request line exactly as given (no client-side
// cleaning of the path) and returns the response's status code.
func rawStatus(t *testing.T, base, target string) int {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, u.Host)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestServeDemo(t *testing.T) {
	dir := testutil.StartDemo(t, t.TempDir(), loadedDemo...).Dir
	m := testutil.StartMmash(t, nil, dir)
	base, p := m.URL+"/", m.Process
	if m.Stats != filepath.Join(dir, "*.mmstats") {
		t.Errorf("mmash serves %s, want %s/*.mmstats", m.Stats, dir)
	}

	var files struct{ Files []string }
	testutil.Eventually(t, 20*time.Second, func() bool {
		getJSON(t, base+"files/", &files)
		return len(files.Files) == 2
	}, func() string { return fmt.Sprintf("files: %v", files.Files) })
	for _, f := range files.Files {
		if !strings.HasPrefix(f, "mmstats-demo-") || strings.Contains(f, "/") {
			t.Errorf("file %q is not named relative to the stats directory", f)
		}
	}

	var sum map[string]float64
	var last float64
	testutil.Eventually(t, 20*time.Second, func() bool {
		if code := getJSON(t, base+"stats/web.stats.status.2XX?exact=1&aggr=sum", &sum); code != 200 {
			t.Fatalf("status %d", code)
		}
		v := sum["web.stats.status.2XX"]
		grew := last > 0 && v > last
		last = v
		return grew
	}, func() string { return fmt.Sprintf("the 2XX counter does not grow: %v", sum) })

	var each map[string][]any
	getJSON(t, base+"stats/web.stats.status?aggr=list", &each)
	for _, class := range []string{"2XX", "3XX", "4XX", "5XX"} {
		if vals := each["web.stats.status."+class]; len(vals) != 2 {
			t.Errorf("%s: %v, want a value per worker", class, vals)
		}
	}
	// With no aggr, one value per label, by its policy: the counters sum,
	// the p99 of the merged buckets lies among the workers' own.
	var combined map[string]any
	getJSON(t, base+"stats/web.stats.status", &combined)
	for _, class := range []string{"2XX", "3XX", "4XX", "5XX"} {
		if _, ok := combined["web.stats.status."+class].(float64); !ok {
			t.Errorf("%s: %v, want one number for all the workers", class, combined["web.stats.status."+class])
		}
	}

	// Requests sent byte for byte: no client cleans these paths.
	for target, want := range map[string]int{
		"/files/..%2f..%2fetc":                   400,
		"/files/../../etc/passwd":                400,
		"/files/%2e%2e/%2e%2e/etc":               400,
		"/files/%252e%252e%252fetc":              400,
		"/stats/web?glob=../../etc/*":            400,
		"/stats/web?glob=%2fetc%2f*":             400,
		"/stats/web?glob=..%2f..%2fetc%2fpasswd": 400,
		"/../../etc/passwd":                      404,
		"/static/../../../etc/passwd":            404,
	} {
		if code := rawStatus(t, base, target); code != want {
			t.Errorf("GET %s: %d, want %d", target, code, want)
		}
	}

	// SIGTERM: a clean exit.
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Errorf("mmash exited with %v; stderr: %s", err, p.Stderr())
	}
}

func TestHelp(t *testing.T) {
	r := testutil.Run(t, nil, testutil.Binary(t, "cmd/mmash"), "--help")
	if r.Code != 0 || !strings.Contains(r.Stdout, "scrape_configs:") || !strings.Contains(r.Stdout, "Examples:") {
		t.Errorf("--help: exit %d\n%s", r.Code, r.Stdout)
	}
	r = testutil.Run(t, nil, testutil.Binary(t, "cmd/mmash"), "--listen", "nonsense")
	if r.Code != 2 || !strings.Contains(r.Stderr, "mmash: --listen") {
		t.Errorf("bad --listen: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// promBinary returns the path of Prometheus, or fails the test with how
// to install it.
func promBinary(t *testing.T) string {
	t.Helper()
	return testutil.Tool(t, "prometheus", "prometheus")
}

func TestPrometheusScrapesMmash(t *testing.T) {
	bin := promBinary(t)
	dir := testutil.StartDemo(t, t.TempDir(), loadedDemo...).Dir
	base := testutil.StartMmash(t, nil, dir).URL + "/"
	target, _ := url.Parse(base)

	work := t.TempDir()
	config := filepath.Join(work, "prometheus.yml")
	err := os.WriteFile(config, []byte(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mmash
    static_configs:
      - targets: ['`+target.Host+`']
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	promURL := "http://127.0.0.1:" + freePort(t)
	p := testutil.Start(t, nil, bin,
		"--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(work, "data"),
		"--web.listen-address="+strings.TrimPrefix(promURL, "http://"),
		"--log.level=warn")
	t.Cleanup(func() { p.Cmd.Process.Signal(syscall.SIGTERM) })

	var res struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	query := promURL + "/api/v1/query?query=" + url.QueryEscape("sum(mmstats_web_stats_status_2XX_total)")
	var value float64
	testutil.Eventually(t, 60*time.Second, func() bool {
		select {
		case <-p.Done():
			t.Fatalf("prometheus exited: %s", p.Stderr())
		default:
		}
		resp, err := http.Get(query)
		if err != nil {
			return false // not listening yet
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Status != "success" || len(res.Data.Result) != 1 {
			return false
		}
		s, _ := res.Data.Result[0].Value[1].(string)
		value, _ = strconv.ParseFloat(s, 64)
		return value > 0
	}, func() string {
		var targets any
		if resp, err := http.Get(promURL + "/api/v1/targets"); err == nil {
			json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		return fmt.Sprintf("no sum(mmstats_web_stats_status_2XX_total) > 0 in Prometheus: last answer %+v\ntargets: %v\nprometheus stderr:\n%s",
			res, targets, p.Stderr())
	})
	t.Logf("Prometheus reads sum(mmstats_web_stats_status_2XX_total) = %v", value)

	// One series per worker, with the labels mmash gives.
	var series struct {
		Data []map[string]string
	}
	getJSON(t, promURL+"/api/v1/series?match[]=mmstats_web_stats_status_2XX_total", &series)
	if len(series.Data) != 2 {
		t.Fatalf("series: %v", series.Data)
	}
	for _, s := range series.Data {
		if !strings.HasPrefix(s["file"], "mmstats-demo-"+s["pid"]+"-") || s["job"] != "mmash" {
			t.Errorf("series labels %v", s)
		}
	}
}

// TestMetricsMatchSlurpstats checks that mmash's /metrics and slurpstats -o
// prometheus (for the textfile collector) print the same text, on the
// reference files of Python mmstats and on a Go writer's file with
// histograms, at the default classic schema and with --classic-schema.
func TestMetricsMatchSlurpstats(t *testing.T) {
	dir := filepath.Join(testutil.Root(t), "cmd", "slurpstats", "testdata", "python-v1")
	base := testutil.StartMmash(t, nil, dir).URL + "/"
	res, err := http.Get(base + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	r := testutil.Run(t, nil, testutil.Binary(t, "cmd/slurpstats"), "-o", "prometheus", dir)
	if r.Code != 0 {
		t.Fatalf("slurpstats: exit %d: %s", r.Code, r.Stderr)
	}
	if string(served) != r.Stdout {
		t.Errorf("/metrics:\n%s\nslurpstats -o prometheus:\n%s", served, r.Stdout)
	}
	if !strings.Contains(r.Stdout, `mmstats_file_info{file="defaults.mmstats",pid="15055",myapp_sys_tid=`) {
		t.Errorf("no pid label:\n%s", r.Stdout)
	}

	// And a Go writer's file, with histograms, once its writer has
	// exited (so that its values stay).
	goDir := t.TempDir()
	w, _ := testutil.StartWriter(t, nil, "-dir", goDir, "-name", "w.mmstats", "-keep")
	w.CloseStdin()
	if err := w.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("testwriter: %v", err)
	}
	// every.timer, a Timer of the default range, 2^-22 s to 256 s: 31
	// bounds and +Inf at schema 0, 241 and +Inf at 3.
	for _, c := range []struct {
		args    []string
		buckets int
	}{{nil, 32}, {[]string{"--classic-schema", "0"}, 32}, {[]string{"--classic-schema", "3"}, 242}} {
		res, err = http.Get(testutil.StartMmash(t, nil, goDir, c.args...).URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		served, _ = io.ReadAll(res.Body)
		res.Body.Close()
		r = testutil.Run(t, nil, testutil.Binary(t, "cmd/slurpstats"), append([]string{"-o", "prometheus", goDir}, c.args...)...)
		if r.Code != 0 || string(served) != r.Stdout {
			t.Errorf("%v: /metrics:\n%s\nslurpstats -o prometheus (exit %d):\n%s", c.args, served, r.Code, r.Stdout)
		}
		for _, want := range []string{"# TYPE mmstats_every_latency_seconds histogram", `mmstats_every_histogram_bytes_bucket{file="w.mmstats"`} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("%v: slurpstats -o prometheus lacks %q:\n%s", c.args, want, r.Stdout)
			}
		}
		if n := strings.Count(r.Stdout, "mmstats_every_timer_seconds_bucket{"); n != c.buckets {
			t.Errorf("%v: %d _bucket lines of every.timer, want %d", c.args, n, c.buckets)
		}
	}
}

// TestPromtoolChecksMetrics: promtool check metrics (the linter of the
// Prometheus project) accepts mmash's /metrics and slurpstats -o
// prometheus on the files of the demo's workers under load, histograms
// included, at the default classic schema and at --classic-schema 3.
func TestPromtoolChecksMetrics(t *testing.T) {
	promtool := testutil.Tool(t, "prometheus", "promtool")
	dir := testutil.StartDemo(t, t.TempDir(), loadedDemo...).Dir
	for _, classic := range [][]string{nil, {"--classic-schema", "3"}} {
		checkPromtool(t, promtool, dir, classic)
	}
}

// checkPromtool runs promtool check metrics on mmash's /metrics and
// slurpstats -o prometheus of dir, with the args.
func checkPromtool(t *testing.T, promtool, dir string, args []string) {
	t.Helper()
	base := testutil.StartMmash(t, nil, dir, args...).URL + "/"
	var metrics string
	testutil.Eventually(t, 20*time.Second, func() bool {
		res, err := http.Get(base + "metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		metrics = string(b)
		return strings.Count(metrics, "mmstats_web_stats_status_2XX_total{") == 2
	}, func() string { return "no 2XX counter of each worker in /metrics:\n" + metrics })
	slurp := testutil.Run(t, nil, testutil.Binary(t, "cmd/slurpstats"), append([]string{"-o", "prometheus", dir}, args...)...)
	if slurp.Code != 0 {
		t.Fatalf("slurpstats %v: exit %d: %s", args, slurp.Code, slurp.Stderr)
	}
	for what, text := range map[string]string{"/metrics": metrics, "slurpstats -o prometheus": slurp.Stdout} {
		what += fmt.Sprint(" ", args)
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics on %s: %v\n%s\non:\n%s", what, err, out, text)
		}
		for _, want := range []string{
			"# TYPE mmstats_web_stats_status_2XX_total counter", "mmstats_file_info{",
			"# TYPE mmstats_web_stats_timers_request_seconds histogram",
			`mmstats_web_stats_timers_request_seconds_bucket{file="mmstats-demo-`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", what, want, text)
			}
		}
	}
}

// TestVerbose: -v logs each request on stderr, and nothing else.
func TestVerbose(t *testing.T) {
	dir := t.TempDir()
	m := testutil.StartMmash(t, nil, dir, "-v")
	base, p := m.URL+"/", m.Process
	for _, path := range []string{"files/", "nope", "stats/x?glob=..%2fetc"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("mmash: %v", err)
	}
	logLine := regexp.MustCompile(`^mmash: GET (\S+) (\d{3}) \d+(\.\d+)?(µs|ms|s)$`)
	want := [][2]string{{"/files/", "200"}, {"/nope", "404"}, {"/stats/x?glob=..%2fetc", "400"}}
	got := strings.Split(strings.TrimSpace(p.Stderr()), "\n")
	if len(got) != len(want) {
		t.Fatalf("stderr:\n%s", p.Stderr())
	}
	for i, l := range got {
		m := logLine.FindStringSubmatch(l)
		if m == nil || m[1] != want[i][0] || m[2] != want[i][1] {
			t.Errorf("log line %q, want GET %s %s and a duration", l, want[i][0], want[i][1])
		}
	}
}
