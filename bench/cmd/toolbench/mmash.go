package main

// toolbench mmash: the real mmash binary serving /metrics over HTTP on
// loopback, against cat(1) of the same files, interleaved.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

const (
	rawMmash      = "mmash.json"      // toolbench mmash
	rawMmashFolds = "mmash-folds.txt" // go test -bench BenchmarkMetricsAfterFolds ./internal/commands/mmash
)

// plainStats is webStats without its timer, whose histogram is 32
// bucket lines of /metrics per file at the default classic schema (242
// at --classic-schema 3): 0.8 KB of text a file.
type plainStats struct {
	S2XX     mmstats.Counter `mmstats:"status.2XX"`
	S3XX     mmstats.Counter `mmstats:"status.3XX"`
	S4XX     mmstats.Counter `mmstats:"status.4XX"`
	S5XX     mmstats.Counter `mmstats:"status.5XX"`
	LastHit  mmstats.Float64 `mmstats:"timers.last_hit,kind=timestamp,unit=seconds"`
	Working  mmstats.Bool    `mmstats:"working"`
	LastPath mmstats.String  `mmstats:"last_path,size=64"`
}

// plainTemplate is template for plainStats.
func plainTemplate() ([]byte, error) {
	var s plainStats
	return writeTemplate(&s, func() {
		s.S2XX.Add(1234)
		s.S3XX.Add(56)
		s.LastHit.Set(float64(time.Now().UnixNano()) / 1e9)
		s.Working.Set(true)
		s.LastPath.Set("/index.html")
	})
}

// mmashSet is what toolbench mmash measured on one set of files.
type mmashSet struct {
	Name      string
	Args      []string // mmash's flags beyond the defaults
	Changing  int      // files that see a request between two scrapes
	Files     int
	FileSize  int
	TextBytes int64         // the /metrics text
	GzBytes   int64         // the answer, gzip-compressed
	Metrics   time.Duration // GET /metrics, gzip, body read: median wall
	Identity  time.Duration // the same without gzip (curl)
	Cat       time.Duration // cat of the files: median wall
	// MetricsCPU is mmash's CPU (user and system, all its threads) per
	// GET /metrics with gzip, over the Runs: what the answer costs
	// whatever else the cores run, where the wall counts the waits.
	MetricsCPU time.Duration
	Runs       int
	// RssAnon of mmash after serving the files (gzip, as to Prometheus),
	// and after serving one file: (Rss - RssOne) / (Files - 1) is its
	// memory per file.
	RssAnonKiB, RssAnonOneKiB int64
}

type mmashResults struct {
	Root string
	Sets []mmashSet
}

func mmashMain(args []string) error {
	fs := flag.NewFlagSet("mmash", flag.ExitOnError)
	bin := fs.String("bin", "", "directory of the built mmash")
	out := fs.String("out", "", "JSON file to write")
	files := fs.Int("files", 1000, "files to serve")
	reps := fs.Int("reps", 15, "requests (and cat runs) per set")
	fs.Parse(args)
	if *bin == "" || *out == "" {
		return errors.New("mmash needs -bin and -out")
	}
	root, err := os.MkdirTemp(scratchRoot(), "toolbench-mmash-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	res := mmashResults{Root: root}
	for _, set := range []struct {
		name     string
		make     func() ([]byte, error)
		changing int // in 1,000 files
		args     []string
	}{
		{"plain (the web worker's file without its timer)", plainTemplate, 0, nil},
		{"web worker (with its timer: a histogram)", template, 0, nil},
		{"web worker, --classic-schema 3", template, 0, []string{"--classic-schema", "3"}},
		{"web worker, 100 in 1,000 see a request between scrapes", template, 100, nil},
		{"web worker, all see a request between scrapes", template, 1000, nil},
	} {
		data, err := set.make()
		if err != nil {
			return err
		}
		changing := set.changing * *files / 1000
		r, err := measureMmash(filepath.Join(*bin, "mmash"), root, data, *files, *reps, changing, set.args...)
		if err != nil {
			return fmt.Errorf("%s: %w", set.name, err)
		}
		r.Name, r.Args, r.Changing = set.name, set.args, changing
		res.Sets = append(res.Sets, r)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

// measureMmash serves n copies of data with mmash (and its args), and
// times its /metrics (after one request that opens the files) against
// cat of the files, interleaved. Before each request, changing of the
// files, spread over the n, see a request (see requests).
func measureMmash(mmash, root string, data []byte, n, reps, changing int, args ...string) (mmashSet, error) {
	r := mmashSet{Files: n, FileSize: len(data), Runs: reps}
	dir, err := os.MkdirTemp(root, "set-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	if err := writeCopies(dir, data, span(0, 1, 1)); err != nil {
		return r, err
	}
	// The memory of mmash serving one file, then the n.
	one, err := startMmash(mmash, dir, args...)
	if err != nil {
		return r, err
	}
	if _, _, err := one.get(true); err != nil {
		one.stop()
		return r, err
	}
	r.RssAnonOneKiB = one.settledRss()
	one.stop()
	if err := writeCopies(dir, data, span(1, n, 1)); err != nil {
		return r, err
	}
	var paths []string
	for i := range n {
		paths = append(paths, filepath.Join(dir, fileName(i)))
	}
	m, err := startMmash(mmash, dir, args...)
	if err != nil {
		return r, err
	}
	defer m.stop()
	var busy []string
	for i := range changing {
		busy = append(busy, paths[i*n/changing])
	}
	reqs, err := newRequests(busy)
	if err != nil {
		return r, err
	}
	defer reqs.close()
	var gets, idents, cats []time.Duration
	var cpu time.Duration
	for i := -1; i < reps; i++ {
		c, err := runChunks("cat", nil, paths)
		if err != nil {
			return r, err
		}
		if err := reqs.serve(); err != nil {
			return r, err
		}
		before := m.cpu()
		d, size, err := m.get(true)
		if err != nil {
			return r, err
		}
		if i >= 0 {
			cats, gets = append(cats, c.Wall), append(gets, d)
			r.GzBytes = size
			cpu += m.cpu() - before
		}
	}
	// Its memory as Prometheus scrapes it (gzip), then the answers of a
	// client without gzip, which are the whole text.
	r.RssAnonKiB = m.settledRss()
	for range reps {
		if err := reqs.serve(); err != nil {
			return r, err
		}
		d, text, err := m.get(false)
		if err != nil {
			return r, err
		}
		idents, r.TextBytes = append(idents, d), text
	}
	r.Metrics, r.Identity, r.Cat = median(gets), median(idents), median(cats)
	r.MetricsCPU = cpu / time.Duration(reps)
	logf("%d files of %d bytes (%d changing), mmash %v: /metrics %v (gzip, %d bytes; %v for %d bytes of text), cat %v (wall, median of %d); mmash CPU %v a request (gzip); RssAnon %d KiB (one file: %d)",
		n, len(data), changing, args, r.Metrics, r.GzBytes, r.Identity, r.TextBytes, r.Cat, reps, r.MetricsCPU, r.RssAnonKiB, r.RssAnonOneKiB)
	return r, nil
}

// requests changes files as a web worker's request does: its 2XX
// counter, and its timer's count, sum and one bucket (so that the count
// stays the buckets' total, as the writer keeps it), written in place.
type requests struct {
	files []*os.File
	words []int64 // the offsets of the words to add to
	adds  []uint64
	buf   []byte
}

// newRequests opens the files, which are copies of one template.
func newRequests(paths []string) (*requests, error) {
	q := &requests{}
	if len(paths) == 0 {
		return q, nil
	}
	rf, err := reader.Open(paths[0])
	if err != nil {
		return nil, err
	}
	for _, f := range rf.Fields() {
		switch {
		case f.Buffered:
		case f.Label == "web.stats.status.2XX", f.Label == "web.stats.timers.request.count":
			q.words, q.adds = append(q.words, int64(f.Value)), append(q.adds, 1)
			if f.HasBuckets() {
				// Bucket 1,000 of the window (about 5 ms): underflow and
				// overflow come first.
				q.words, q.adds = append(q.words, int64(f.Buckets.Offset+16+8*1000)), append(q.adds, 1)
			}
		case f.Label == "web.stats.timers.request.sum":
			q.words, q.adds = append(q.words, int64(f.Value)), append(q.adds, 0) // a float: see serve
		}
	}
	rf.Close()
	if len(q.words) != 4 {
		return nil, fmt.Errorf("%s: %d of the 4 words of a request", paths[0], len(q.words))
	}
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			q.close()
			return nil, err
		}
		q.files = append(q.files, f)
	}
	return q, nil
}

// serve makes each file see one more request of 5 ms.
func (q *requests) serve() error {
	var w [8]byte
	for _, f := range q.files {
		for k, off := range q.words {
			if _, err := f.ReadAt(w[:], off); err != nil {
				return err
			}
			v := binary.LittleEndian.Uint64(w[:])
			if q.adds[k] == 0 {
				v = math.Float64bits(math.Float64frombits(v) + 0.005)
			} else {
				v += q.adds[k]
			}
			binary.LittleEndian.PutUint64(w[:], v)
			if _, err := f.WriteAt(w[:], off); err != nil {
				return err
			}
		}
	}
	return nil
}

func (q *requests) close() {
	for _, f := range q.files {
		f.Close()
	}
}

// mmashProc is a running mmash.
type mmashProc struct {
	cmd    *exec.Cmd
	url    string
	client *http.Client
}

// startMmash starts mmash on dir, on a free port of loopback, with the
// args, and waits until it answers.
func startMmash(mmash, dir string, args ...string) (*mmashProc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(mmash, append([]string{"--listen", addr, "--dir", dir, "--glob", "*.mmstats"}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// No transparent decompression: the client takes what it asks for.
	m := &mmashProc{cmd: cmd, url: "http://" + addr + "/metrics",
		client: &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := m.client.Get("http://" + addr + "/static/nothing")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("mmash did not answer on %s: %v", addr, err)
		}
	}
}

// get times one GET /metrics, the body read to its end, gzip-compressed
// as Prometheus asks for it if gz, and returns the bytes received.
func (m *mmashProc) get(gz bool) (time.Duration, int64, error) {
	req, err := http.NewRequest("GET", m.url, nil)
	if err != nil {
		return 0, 0, err
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: %s", m.url, resp.Status)
	}
	return d, n, err
}

// rssAnon returns RssAnon of the process, in KiB, from /proc (0 where
// there is none).
func (m *mmashProc) rssAnon() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpu returns the CPU time mmash has used, user and system, from
// /proc/PID/stat (in clock ticks of 10 ms: summed over the runs of a
// set), or 0 where there is none.
func (m *mmashProc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// After the command's name in parentheses: fields 3 on; utime and
	// stime are fields 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond // USER_HZ, 100 on Linux
}

// settledRss returns rssAnon once the garbage of the first request (the
// files opened, the text made) is given back: after 5 s idle, and one
// more request, as between two scrapes.
func (m *mmashProc) settledRss() int64 {
	time.Sleep(5 * time.Second)
	m.get(true)
	return m.rssAnon()
}

func (m *mmashProc) stop() {
	m.cmd.Process.Kill()
	m.cmd.Wait()
}

// mmashRows prints the rows of toolbench mmash and of
// BenchmarkMetricsAfterFolds.
func mmashRows(t *table, raw, folds string) {
	var res mmashResults
	if err := json.Unmarshal([]byte(raw), &res); err != nil || len(res.Sets) == 0 {
		t.section("mmash: no results (toolbench mmash did not run)")
	} else {
		t.section("mmash /metrics: the real binary over HTTP on loopback, files open (one request before); GET with gzip, body read, against cat of the same files; wall medians")
		for _, s := range res.Sets {
			perFile := "RssAnon " + mib(s.RssAnonKiB)
			if s.Files > 1 && s.RssAnonKiB > s.RssAnonOneKiB {
				perFile += fmt.Sprintf(" (%.1f KiB/file more than at 1 file)", float64(s.RssAnonKiB-s.RssAnonOneKiB)/float64(s.Files-1))
			}
			t.row(s.Name, count(s.Files)+" files", dur(s.Metrics)+" wall",
				fmt.Sprintf("%.2fx cat of the files (%s)", ratio(s.Metrics, s.Cat), dur(s.Cat)),
				fmt.Sprintf("%.2f MB of text (%.1f KB a file), %.3f MB gzip; without gzip %s", float64(s.TextBytes)/1e6, float64(s.TextBytes)/1e3/float64(max(s.Files, 1)), float64(s.GzBytes)/1e6, dur(s.Identity)),
				fmt.Sprintf("%s; %d runs", perFile, s.Runs))
		}
	}
	m := firstMatch(folds, `(BenchmarkMetricsAfterFolds\S*\s+\d+\s+.*)`)
	metric := func(unit string) string { return firstMatch(m, `([\d.e+]+) `+regexp.QuoteMeta(unit)+`(?:\s|$)`) }
	if m == "" {
		t.row("mmash /metrics after 10,000 folded lifetimes", "BenchmarkMetricsAfterFolds", "no result", "", "", "")
		return
	}
	ns := func(s string) string {
		v, _ := strconv.ParseFloat(s, 64)
		return dur(time.Duration(v))
	}
	t.row("mmash /metrics after "+count(atoi(metric("lifetimes")))+" folded lifetimes", "1,000 live files + the totals file",
		ns(metric("folded-ns/req"))+" wall",
		fmt.Sprintf("%sx one lifetime (%s)", metric("folded/one"), ns(metric("one-ns/req"))),
		fmt.Sprintf("%sx none (%s: no totals file)", metric("folded/none"), ns(metric("none-ns/req"))),
		"in-process requests, alternating; BenchmarkMetricsAfterFolds")
}
