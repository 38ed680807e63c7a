package mmash

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/prom"
)

// parse runs the command with args and a runF that records the options.
func parse(t *testing.T, args ...string) (*Options, int, string) {
	t.Helper()
	return parseOptions(args...)
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MMSTATS_PATH", dir)
	t.Setenv("MMSTATS_GLOB", "")
	tests := []struct {
		env              string // MMSTATS_GLOB
		args             []string
		listen, dir, glb string
	}{
		{"", nil, "127.0.0.1:5002", dir, "*.mmstats"},
		{"", []string{"--listen", "[::1]:0", "--dir", "/srv/stats", "--glob", "web-*"}, "[::1]:0", "/srv/stats", "web-*"},
		{filepath.Join(dir, "app-*.mmstats"), nil, "127.0.0.1:5002", dir, "app-*.mmstats"},
		{filepath.Join(dir, "sub", "*.stats"), nil, "127.0.0.1:5002", dir, "sub/*.stats"},
		{"/elsewhere/*.mmstats", []string{"--glob", "x*"}, "127.0.0.1:5002", dir, "x*"},
	}
	for _, tt := range tests {
		t.Setenv("MMSTATS_GLOB", tt.env)
		o, code, msg := parse(t, tt.args...)
		if code != 0 || o == nil {
			t.Errorf("%v: exit %d: %s", tt.args, code, msg)
			continue
		}
		if o.Listen != tt.listen || o.Dir != tt.dir || o.Glob != tt.glb {
			t.Errorf("%v, MMSTATS_GLOB=%s: got %+v, want %s %s %s", tt.args, tt.env, *o, tt.listen, tt.dir, tt.glb)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("MMSTATS_PATH", "/var/stats")
	tests := []struct {
		env  string
		args []string
		msg  string
	}{
		{"", []string{"--listen", "5002"}, "--listen: address 5002: missing port in address"},
		{"", []string{"--glob", "../*"}, `--glob "../*": must not contain ".."`},
		{"", []string{"--glob", "/etc/*"}, "must be relative"},
		{"", []string{"extra"}, `unknown command "extra"`},
		{"", []string{"--bogus"}, "unknown flag: --bogus"},
		{"", []string{"--max-memory", "lots"}, `invalid argument "lots" for "--max-memory" flag: "lots" is not a size such as 512M`},
		{"", []string{"--max-memory", "100K"}, "--max-memory must be at least 1M"},
		{"", []string{"--max-requests", "0"}, "--max-requests must be at least 1"},
		{"", []string{"--max-connections", "0"}, "--max-connections must be at least 1"},
		{"", []string{"--timeout", "0s"}, "--timeout must be more than 0"},
		{"", []string{"--classic-schema", "4"}, `invalid argument "4" for "--classic-schema" flag: must be 0, 1, 2 or 3`},
		{"", []string{"--classic-schema=-1"}, `invalid argument "-1" for "--classic-schema" flag: must be 0, 1, 2 or 3`},
		{"", []string{"--classic-schema", "fine"}, `invalid argument "fine" for "--classic-schema" flag: must be 0, 1, 2 or 3`},
		{"/tmp/*.mmstats", nil, "$MMSTATS_GLOB (/tmp/*.mmstats) is not inside the stats directory /var/stats"},
		{"relative/*.mmstats", nil, "is not inside the stats directory"},
	}
	for _, tt := range tests {
		t.Setenv("MMSTATS_GLOB", tt.env)
		o, code, msg := parse(t, tt.args...)
		if code != cli.ExitUsage || o != nil || !strings.Contains(msg, tt.msg) {
			t.Errorf("%v: exit %d, ran %v, output %q; want exit 2 and %q", tt.args, code, o != nil, msg, tt.msg)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	_, code, out := parse(t, "--help")
	for _, want := range []string{"Usage:", "Examples:", "--listen HOST:PORT", "--dir DIR", "--glob GLOB",
		"scrape_configs:", "targets: ['127.0.0.1:5002']", "GET /metrics", "nonzero-avg", "127.0.0.1:5002",
		"-v, --verbose", "--max-connections N", "--max-requests N", "--max-memory SIZE", "--max-file-size SIZE",
		"--timeout DURATION", "--read-timeout DURATION", "--idle-timeout DURATION", "(default 512M)", "[a-zA-Z0-9_]",
		"--classic-schema N", "mmash --classic-schema 3", "9.05% at 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	if _, code, out = parse(t, "--version"); code != 0 || !strings.HasPrefix(out, "mmash ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	dir := fixture(t)
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runWith(ctx, testOptions(dir, "127.0.0.1:0"), &out, io.Discard) }()

	startLine := regexp.MustCompile(`^mmash: serving (http://127\.0\.0\.1:\d+/) \(stats: (.+)\)\n$`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no startup line: %q", out.String())
		}
		m = startLine.FindStringSubmatch(out.String())
	}
	if m[2] != filepath.Join(dir, "*.mmstats") {
		t.Errorf("stats: %s", m[2])
	}
	res, err := http.Get(m[1] + "stats/web.requests?aggr=sum")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != `{"web.requests": 49}`+"\n" {
		t.Errorf("got %s", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

func TestRunErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runWith(context.Background(), testOptions(t.TempDir(), ln.Addr().String()), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("busy port: %v", err)
	}
	err = runWith(context.Background(), testOptions(filepath.Join(t.TempDir(), "nope"), "127.0.0.1:0"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("missing dir: %v", err)
	}
}

// testOptions are the options of the flags' defaults for dir, serving on
// listen.
func testOptions(dir, listen string) *Options {
	o, _, _ := parseOptions("--dir", dir, "--listen", listen)
	return o
}

// runWith runs mmash with o until ctx ends, printing on out and errw.
func runWith(ctx context.Context, o *Options, out, errw io.Writer) error {
	o.Streams = &cli.Streams{Out: out, Err: errw}
	o.ctx = ctx
	return Run(o)
}

// parseOptions parses args as the command does, without serving.
func parseOptions(args ...string) (*Options, int, string) {
	streams, out, errb := cli.TestStreams()
	var got *Options
	cmd := NewCmd(streams, func(o *Options) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	code := cli.Main(cmd, errb)
	return got, code, out.String() + errb.String()
}

func TestLimitFlags(t *testing.T) {
	o, code, msg := parse(t, "-v", "--max-connections", "9", "--max-requests", "3", "--max-memory", "1GiB",
		"--max-file-size", "64k", "--timeout", "5s", "--read-timeout", "2s", "--idle-timeout", "1m")
	if code != 0 || o == nil {
		t.Fatalf("exit %d: %s", code, msg)
	}
	c := o.config(io.Discard)
	if !c.verbose || o.MaxConnections != 9 || c.maxRequests != 3 || c.maxMemory != 1<<30 || c.maxFileSize != 64<<10 ||
		c.timeout != 5*time.Second || o.ReadTimeout != 2*time.Second || o.IdleTimeout != time.Minute {
		t.Errorf("options %+v, config %+v", *o, c)
	}
	o, _, _ = parse(t)
	if def := defaultConfig(); o.config(nil).maxMemory != def.maxMemory || o.config(nil).maxFileSize != def.maxFileSize ||
		o.MaxConnections != 256 || o.ReadTimeout != 10*time.Second || o.config(nil).classic != prom.DefaultClassicSchema {
		t.Errorf("defaults: %+v", *o)
	}
	for _, n := range []prom.ClassicSchema{0, 1, 2, 3} {
		o, code, msg = parse(t, "--classic-schema", n.String())
		if code != 0 || o == nil || o.config(nil).classic != n {
			t.Errorf("--classic-schema %d: exit %d: %s; options %+v", n, code, msg, o)
		}
	}
	for in, want := range map[string]int64{"1048576": 1 << 20, "512M": 512 << 20, "2g": 2 << 30, "16MiB": 16 << 20, "3KB": 3 << 10} {
		var b ByteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("ByteSize.Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "M", "-1", "1T", "1.5G", "99999999999G"} {
		var b ByteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("ByteSize.Set(%q) = %d, want an error", bad, b)
		}
	}
	for _, b := range []ByteSize{512 << 20, 1 << 30, 1000, 3 << 10} {
		var back ByteSize
		if err := back.Set(b.String()); err != nil || back != b {
			t.Errorf("%d prints as %q, which reads back as %d", b, b.String(), back)
		}
	}
}
