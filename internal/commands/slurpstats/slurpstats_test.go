package slurpstats

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// fixture makes a directory with a.mmstats and b.mmstats.
func fixture(t *testing.T) (dir, a, b string) {
	t.Helper()
	dir = t.TempDir()
	a = v1file.Write(t, filepath.Join(dir, "a.mmstats"),
		v1file.Unbuffered("web.requests", "Q", v1file.U64(42)),
		v1file.Unbuffered("web.status", "16s", v1file.Str("ok", 16)),
		v1file.Unbuffered("load", "d", v1file.F64(1.5)),
	)
	b = v1file.Write(t, filepath.Join(dir, "b.mmstats"),
		v1file.Unbuffered("web.requests", "Q", v1file.U64(7)),
		v1file.Unbuffered("db.ratio", "d", v1file.F64(math.NaN())),
		v1file.Unbuffered("big", "d", v1file.F64(1e16)),
		v1file.Unbuffered("up", "?", []byte{1}),
	)
	return dir, a, b
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the command like main does, with fake streams: those of s
// (if not nil) with Out, unless set, and Err recorded.
func run(t *testing.T, s *cli.Streams, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	streams := cli.Streams{Out: &out}
	if s != nil {
		streams.IsTerminal, streams.Color = s.IsTerminal, s.Color
		if s.Out != nil {
			streams.Out = s.Out
		}
	}
	streams.Err = &errb
	streams.Width = func() int { return 80 }
	cmd := NewCmd(&streams, nil)
	cmd.SetArgs(args)
	code := cli.Main(cmd, &errb)
	return result{out.String(), errb.String(), code}
}

func TestText(t *testing.T) {
	dir, a, b := fixture(t)
	want := "==> " + a + "\n" +
		"  web.requests 42\n" +
		"  web.status   ok\n" +
		"  load         1.5\n" +
		"\n" +
		"==> " + b + "\n" +
		"  web.requests 7\n" +
		"  db.ratio     nan\n" +
		"  big          1e+16\n" +
		"  up           True\n" +
		"\n"
	// Text is the same on a terminal, in colour or not, and through a pipe.
	for _, s := range []cli.Streams{{}, {IsTerminal: true}, {IsTerminal: true, Color: true}} {
		for _, args := range [][]string{{dir}, {b, a}, {filepath.Join(dir, "*.mmstats")}, {"-o", "text", dir}} {
			r := run(t, &s, args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
			}
			if r.stdout != want {
				t.Errorf("%v (terminal %v): got\n%s\nwant\n%s", args, s.IsTerminal, r.stdout, want)
			}
		}
	}
}

func TestDefaultGlob(t *testing.T) {
	dir, a, b := fixture(t)
	t.Setenv("MMSTATS_GLOB", "")
	t.Setenv("MMSTATS_PATH", dir)
	r := run(t, nil)
	if r.code != 0 || !strings.Contains(r.stdout, "==> "+a+"\n") || !strings.Contains(r.stdout, "==> "+b+"\n") {
		t.Errorf("MMSTATS_PATH: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	t.Setenv("MMSTATS_GLOB", filepath.Join(dir, "b.*"))
	r = run(t, nil)
	if r.code != 0 || strings.Contains(r.stdout, a) || !strings.Contains(r.stdout, "==> "+b+"\n") {
		t.Errorf("MMSTATS_GLOB: exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

func TestFieldFilter(t *testing.T) {
	dir, a, b := fixture(t)
	tests := []struct {
		name   string
		args   []string
		want   string
		code   int
		stderr string
	}{
		{"prefix", []string{"-f", "web.*", dir},
			"==> " + a + "\n  web.requests 42\n  web.status   ok\n\n==> " + b + "\n  web.requests 7\n\n", 0, ""},
		{"repeated", []string{"-f", "load", "--field", "up", dir},
			"==> " + a + "\n  load 1.5\n\n==> " + b + "\n  up True\n\n", 0, ""},
		{"one pattern matches nothing, the other does", []string{"-f", "nothing", "-f", "up", dir},
			"==> " + a + "\n\n==> " + b + "\n  up True\n\n", 0, ""},
		// As grep: nothing selected is exit status 1, and stderr says so.
		{"no match keeps the header", []string{"-f", "nothing", a},
			"==> " + a + "\n\n", 1, "slurpstats: no label matches -f nothing\n"},
		{"no match of two patterns", []string{"-f", "web.*x", "-f", "it's", a},
			"==> " + a + "\n\n", 1, "slurpstats: no label matches -f 'web.*x' or -f 'it'\\''s'\n"},
		{"class", []string{"-f", "[bl]*", dir},
			"==> " + a + "\n  load 1.5\n\n==> " + b + "\n  big 1e+16\n\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.args...)
			if r.code != tt.code || r.stdout != tt.want || r.stderr != tt.stderr {
				t.Errorf("exit %d, stderr %q, got\n%s\nwant exit %d, stderr %q,\n%s", r.code, r.stderr, r.stdout, tt.code, tt.stderr, tt.want)
			}
		})
	}
	// Every format says so, and a file that cannot be read is not a
	// "no match": it is reported for itself.
	for _, mode := range formatNames {
		r := run(t, nil, "-o", mode, "-f", "nothing", dir)
		if r.code != 1 || r.stderr != "slurpstats: no label matches -f nothing\n" {
			t.Errorf("-o %s: exit %d, stderr %q", mode, r.code, r.stderr)
		}
	}
	r := run(t, nil, "-f", "nothing", filepath.Join(dir, "missing.mmstats"))
	if r.code != 1 || strings.Contains(r.stderr, "no label matches") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestJSON(t *testing.T) {
	dir, a, b := fixture(t)
	empty := v1file.Write(t, filepath.Join(dir, "c.mmstats"))
	inf := v1file.Write(t, filepath.Join(t.TempDir(), "inf.mmstats"),
		v1file.Unbuffered("pos", "d", v1file.F64(math.Inf(1))), v1file.Unbuffered("neg", "d", v1file.F64(math.Inf(-1))),
		v1file.Unbuffered("whole", "d", v1file.F64(30)), v1file.Unbuffered("max", "Q", v1file.U64(math.MaxUint64)))
	j := func(s string) string { return `"` + s + `"` }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"all", []string{"--json", dir}, "[\n" +
			` {"path": ` + j(a) + `, "stats": [` + "\n" +
			`  {"label": "web.requests", "type": "Q", "value": 42},` + "\n" +
			`  {"label": "web.status", "type": "16s", "value": "ok"},` + "\n" +
			`  {"label": "load", "type": "d", "value": 1.5}` + "\n ]},\n" +
			` {"path": ` + j(b) + `, "stats": [` + "\n" +
			`  {"label": "web.requests", "type": "Q", "value": 7},` + "\n" +
			`  {"label": "db.ratio", "type": "d", "value": "NaN"},` + "\n" +
			`  {"label": "big", "type": "d", "value": 1e+16},` + "\n" +
			`  {"label": "up", "type": "?", "value": true}` + "\n ]},\n" +
			` {"path": ` + j(empty) + `, "stats": []}` + "\n]\n"},
		{"filtered", []string{"-o", "json", "-f", "up", b, empty}, "[\n" +
			` {"path": ` + j(b) + `, "stats": [` + "\n" +
			`  {"label": "up", "type": "?", "value": true}` + "\n ]},\n" +
			` {"path": ` + j(empty) + `, "stats": []}` + "\n]\n"},
		{"specials", []string{"--json", "-o", "json", inf}, "[\n" +
			` {"path": ` + j(inf) + `, "stats": [` + "\n" +
			`  {"label": "pos", "type": "d", "value": "+Inf"},` + "\n" +
			`  {"label": "neg", "type": "d", "value": "-Inf"},` + "\n" +
			`  {"label": "whole", "type": "d", "value": 30.0},` + "\n" +
			`  {"label": "max", "type": "Q", "value": 18446744073709551615}` + "\n ]}\n]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, &cli.Streams{IsTerminal: true, Color: true}, tt.args...)
			if r.code != 0 || r.stdout != tt.want {
				t.Errorf("exit %d, got\n%s\nwant\n%s", r.code, r.stdout, tt.want)
			}
		})
	}
}

func TestPrometheus(t *testing.T) {
	dir, a, b := fixture(t)
	pid := v1file.Write(t, filepath.Join(dir, "c.mmstats"),
		v1file.Unbuffered("web.requests", "Q", v1file.U64(1)),
		v1file.Unbuffered("app.sys.pid", "Q", v1file.U64(4242)),
	)
	want := `# HELP mmstats_big big
# TYPE mmstats_big untyped
mmstats_big{file="b.mmstats"} 1e+16
# HELP mmstats_db_ratio db.ratio
# TYPE mmstats_db_ratio untyped
mmstats_db_ratio{file="b.mmstats"} NaN
# HELP mmstats_file_info One per file: the writer's info stats (PIDs, IDs, static numbers) as labels.
# TYPE mmstats_file_info gauge
mmstats_file_info{file="c.mmstats",pid="4242"} 1
# HELP mmstats_load load
# TYPE mmstats_load untyped
mmstats_load{file="a.mmstats"} 1.5
# HELP mmstats_up up
# TYPE mmstats_up untyped
mmstats_up{file="b.mmstats"} 1
# HELP mmstats_web_requests web.requests
# TYPE mmstats_web_requests untyped
mmstats_web_requests{file="a.mmstats"} 42
mmstats_web_requests{file="b.mmstats"} 7
mmstats_web_requests{file="c.mmstats",pid="4242"} 1
`
	// The same on a terminal and through a pipe, whatever the order of
	// the arguments.
	for _, s := range []cli.Streams{{}, {IsTerminal: true, Color: true}} {
		for _, args := range [][]string{{"-o", "prometheus", dir}, {"--output=prometheus", pid, b, a}} {
			r := run(t, &s, args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
			}
			if r.stdout != want {
				t.Errorf("%v: got\n%s\nwant\n%s", args, r.stdout, want)
			}
		}
	}
	families := promtest.Parse(t, want)
	if got := families["mmstats_web_requests"].GetMetric(); len(got) != 3 || got[0].GetUntyped().GetValue() != 42 {
		t.Errorf("parsed web.requests: %v", got)
	}
	// No stats: a valid, empty exposition (and exit status 1, as
	// nothing matched -f).
	r := run(t, nil, "-o", "prometheus", "-f", "nothing", dir)
	if r.code != 1 || r.stdout != "" {
		t.Errorf("no stats: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestTable(t *testing.T) {
	dir, a, b := fixture(t)
	r := run(t, &cli.Streams{IsTerminal: false}, "-o", "table", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("escape codes without colour:\n%q", r.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	// Border, header, separator, 6 labels, border.
	if len(lines) != 10 {
		t.Fatalf("got %d lines, want 10:\n%s", len(lines), r.stdout)
	}
	// Files of one directory are named by their base names.
	if got := cells(lines[1]); strings.Join(got, "|") != "label|"+filepath.Base(a)+"|"+filepath.Base(b) {
		t.Errorf("header: got %q", got)
	}
	wantRows := [][]string{
		{"web.requests", "42", "7"},
		{"web.status", "ok", ""},
		{"load", "1.5", ""},
		{"db.ratio", "", "nan"},
		{"big", "", "1e+16"},
		{"up", "", "True"},
	}
	for i, want := range wantRows {
		if got := cells(lines[3+i]); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("row %d: got %q, want %q", i, got, want)
		}
	}

	col := run(t, &cli.Streams{IsTerminal: true, Color: true}, "-o", "table", "-f", "web.*", dir)
	if col.code != 0 || !strings.Contains(col.stdout, "\x1b[1mlabel\x1b[0m") {
		t.Errorf("colour: no bold header:\n%q", col.stdout)
	}
	if strings.Contains(col.stdout, "load") {
		t.Errorf("-f ignored in the table:\n%s", col.stdout)
	}
	noColor := run(t, &cli.Streams{IsTerminal: true}, "-o", "table", dir)
	if strings.Contains(noColor.stdout, "\x1b[") {
		t.Errorf("escape codes on a terminal without colour:\n%q", noColor.stdout)
	}
}

// cells splits a table line into its trimmed cells.
func cells(line string) []string {
	parts := strings.Split(line, "│")
	if len(parts) < 3 {
		return nil
	}
	out := parts[1 : len(parts)-1]
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

func TestErrors(t *testing.T) {
	dir, a, _ := fixture(t)
	bad := filepath.Join(dir, "bad.mmstats")
	if err := os.WriteFile(bad, []byte{2, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.mmstats")
	for _, mode := range []string{"text", "table", "json", "prometheus"} {
		t.Run(mode, func(t *testing.T) {
			r := run(t, nil, "-o", mode, dir, missing)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			want := "slurpstats: " + bad + ": not an mmstats v1 file: version byte is 0x02 (at offset 0)\n" +
				"slurpstats: " + missing + ": no such file or directory\n"
			if r.stderr != want {
				t.Errorf("stderr: got\n%s\nwant\n%s", r.stderr, want)
			}
			if !strings.Contains(r.stdout, filepath.Base(a)) || !strings.Contains(r.stdout, "42") {
				t.Errorf("good files not printed:\n%s", r.stdout)
			}
			if mode == "json" && !strings.Contains(r.stdout, `{"path": "`+missing+`", "error": "`+missing+`: no such file or directory"}`) {
				t.Errorf("no error object:\n%s", r.stdout)
			}
		})
	}
}

func TestNoMatch(t *testing.T) {
	dir := t.TempDir()
	r := run(t, nil, dir)
	if r.code != 1 || r.stdout != "" || r.stderr != "slurpstats: no stats files match "+dir+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	t.Setenv("MMSTATS_GLOB", filepath.Join(dir, "*.stats"))
	r = run(t, nil)
	if r.code != 1 || !strings.Contains(r.stderr, "no stats files match "+filepath.Join(dir, "*.stats")) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	dir, _, _ := fixture(t)
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"-o", "xml", dir}, `invalid argument "xml" for "-o, --output" flag: must be one of text, table, json`},
		{[]string{"--output=", dir}, "must be one of"},
		{[]string{"--bogus", dir}, "unknown flag: --bogus"},
		{[]string{"-f", "[", dir}, `bad --field pattern "["`},
		{[]string{"--json", "-o", "table", dir}, "--json conflicts with --output table"},
		{[]string{"[", dir}, `bad pattern "["`},
		{[]string{"-o", "prometheus", "--classic-schema", "4", dir}, `invalid argument "4" for "--classic-schema" flag: must be 0, 1, 2 or 3`},
		{[]string{"-o", "prometheus", "--classic-schema=-1", dir}, `invalid argument "-1" for "--classic-schema" flag: must be 0, 1, 2 or 3`},
		{[]string{"-o", "prometheus", "--classic-schema", "two", dir}, `invalid argument "two" for "--classic-schema" flag: must be 0, 1, 2 or 3`},
		{[]string{"--classic-schema", "1", dir}, "--classic-schema is for -o prometheus"},
		{[]string{"--json", "--classic-schema", "1", dir}, "--classic-schema is for -o prometheus"},
	}
	for _, tt := range tests {
		r := run(t, nil, tt.args...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tt.msg) || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, r.code, r.stdout, r.stderr, tt.msg)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := run(t, nil, "--help")
	for _, s := range []string{"Usage:", "Examples:", "slurpstats -f 'web.stats.*' -o table", "--field GLOB", "--output FORMAT", "--json"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("help lacks %q:\n%s", s, r.stdout)
		}
	}
	r = run(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "slurpstats ") {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
}

// errWriter fails every write with err.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteErrors(t *testing.T) {
	dir, _, _ := fixture(t)
	for _, mode := range []string{"text", "table", "json", "prometheus"} {
		// A closed pipe ends the run quietly.
		r := run(t, &cli.Streams{Out: errWriter{syscall.EPIPE}}, "-o", mode, dir)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%s, EPIPE: exit %d, stderr %q", mode, r.code, r.stderr)
		}
		// Any other write error is reported.
		r = run(t, &cli.Streams{Out: errWriter{syscall.ENOSPC}}, "-o", mode, dir)
		if r.code != 1 || !strings.Contains(r.stderr, "no space left on device") {
			t.Errorf("%s, ENOSPC: exit %d, stderr %q", mode, r.code, r.stderr)
		}
	}
}

func TestExecuteErrors(t *testing.T) {
	dir, _, _ := fixture(t)
	var out, errb bytes.Buffer
	cmd := NewCmd(&cli.Streams{Out: &out, Err: &errb}, nil)
	cmd.SetArgs([]string{"-o", "nope", dir})
	var exit *cli.ExitError
	if err := cmd.Execute(); !errors.As(err, &exit) || exit.Code != cli.ExitUsage {
		t.Errorf("bad -o: got %v, want a usage ExitError", err)
	}
	cmd = NewCmd(&cli.Streams{Out: &out, Err: &errb}, nil)
	cmd.SetArgs([]string{dir})
	if err := cmd.Execute(); err != nil {
		t.Errorf("good run: %v", err)
	}
	if !strings.Contains(out.String(), "web.requests 42") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestColumnNames(t *testing.T) {
	if got := columnNames([]string{"/a/x.mmstats", "/a/y.mmstats"}); strings.Join(got, " ") != "x.mmstats y.mmstats" {
		t.Errorf("one directory: %q", got)
	}
	if got := columnNames([]string{"/a/x.mmstats", "/b/x.mmstats"}); strings.Join(got, " ") != "/a/x.mmstats /b/x.mmstats" {
		t.Errorf("two directories: %q", got)
	}
}

// metaFile writes a file with the Go writer, whose fields carry kinds and
// units.
func metaFile(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	var s struct {
		Hit   mmstats.Float64   `mmstats:"last_hit,kind=timestamp,unit=seconds"`
		Req   mmstats.Timer     `mmstats:"req,windows=none"`
		Size  mmstats.Histogram `mmstats:"size,unit=bytes,windows=none"`
		Plain mmstats.Float64   `mmstats:"plain"`
		Count mmstats.Counter   `mmstats:"count"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: "m.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Remove() })
	s.Hit.Set(1795635079.25)
	s.Req.Observe(12345 * time.Microsecond)
	s.Size.Observe(3 << 20)
	s.Plain.Set(1795635079.25)
	s.Count.Add(5)
	f.Refresh()
	return dir, f.Path()
}

func TestHuman(t *testing.T) {
	_, path := metaFile(t)
	lines := func(args ...string) map[string]string {
		var out bytes.Buffer
		streams := &cli.Streams{Out: &out, Err: new(bytes.Buffer)}
		opts := &Options{Streams: streams, Output: FormatText, Location: time.UTC, Args: []string{path}}
		for _, a := range args {
			if a == "-H" {
				opts.Human = true
			}
		}
		if err := Run(opts); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, l := range strings.Split(out.String(), "\n")[1:] {
			if f := strings.Fields(l); len(f) >= 2 {
				m[f[0]] = strings.Join(f[1:], " ")
			}
		}
		return m
	}
	human, plain := lines("-H"), lines()
	for label, want := range map[string]string{
		"last_hit":    "2026-11-25 19:31:19.250 UTC",
		"req":         "12.35ms",
		"req.p50":     "12.35ms", // one sample: min = max = p50
		"req.count":   "1",
		"size":        "3.0 MiB",
		"size.sum":    "3.0 MiB",
		"plain":       "1795635079.25", // a gauge without a unit
		"count":       "5",
		"sys.created": human["sys.created"],
	} {
		if human[label] != want {
			t.Errorf("--human %s = %q, want %q", label, human[label], want)
		}
	}
	if !strings.HasSuffix(human["sys.created"], " UTC") {
		t.Errorf("sys.created is not a date: %q", human["sys.created"])
	}
	if plain["last_hit"] != "1795635079.25" || plain["req"] != "0.012345" {
		t.Errorf("without --human: %q %q", plain["last_hit"], plain["req"])
	}
	// A file without metadata prints the same either way.
	dir, _, _ := fixture(t)
	r1 := run(t, nil, "-H", dir)
	r2 := run(t, nil, dir)
	if r1.stdout != r2.stdout {
		t.Errorf("--human changed a file without metadata:\n%s\n%s", r1.stdout, r2.stdout)
	}
}

func TestPrometheusKeepsThePIDWhenFiltered(t *testing.T) {
	dir, _ := metaFile(t)
	r := run(t, nil, "-o", "prometheus", "-f", "count", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := fmt.Sprintf(`mmstats_count_total{file="m.mmstats",pid="%d"} 5`, os.Getpid())
	if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "# TYPE mmstats_count_total counter") {
		t.Errorf("want %s and a counter type in\n%s", want, r.stdout)
	}
	if strings.Contains(r.stdout, "sys_pid") {
		t.Errorf("-f let other stats through:\n%s", r.stdout)
	}
}

// TestTableFitsTheTerminal: on a terminal, a table wider than it is
// printed in blocks that fit, each with the label column; piped, it is
// one table.
func TestTableFitsTheTerminal(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 6 {
		name := fmt.Sprintf("worker-%d-of-a-long-named-service.mmstats", i)
		names = append(names, name)
		v1file.Write(t, filepath.Join(dir, name),
			v1file.Unbuffered("web.requests", "Q", v1file.U64(uint64(1000*i))),
			v1file.Unbuffered("web.status", "16s", v1file.Str("ok", 16)))
	}
	piped := run(t, &cli.Streams{IsTerminal: false}, "-o", "table", dir)
	if lines := strings.Split(strings.TrimSuffix(piped.stdout, "\n"), "\n"); len(lines) != 6 {
		t.Errorf("piped: %d lines, want one table of 6:\n%s", len(lines), piped.stdout)
	}
	term := run(t, &cli.Streams{IsTerminal: true}, "-o", "table", dir) // 80 columns
	if term.code != 0 {
		t.Fatalf("exit %d: %s", term.code, term.stderr)
	}
	seen := map[string]int{}
	blocks := 0
	for _, l := range strings.Split(strings.TrimSuffix(term.stdout, "\n"), "\n") {
		if w := utf8.RuneCountInString(l); w > 80 {
			t.Errorf("line of %d columns on an 80-column terminal: %q", w, l)
		}
		c := cells(l)
		if len(c) == 0 {
			continue
		}
		switch c[0] {
		case "label":
			blocks++
			for _, n := range c[1:] {
				seen[n]++
			}
		case "web.requests":
			if len(c) < 2 {
				t.Errorf("a block without a file column: %q", l)
			}
		}
	}
	if blocks < 2 {
		t.Errorf("%d blocks, want the table split:\n%s", blocks, term.stdout)
	}
	for _, n := range names {
		if seen[n] != 1 {
			t.Errorf("%s is in %d blocks, want 1:\n%s", n, seen[n], term.stdout)
		}
	}
	// The values are whole: each file's requests are in its block.
	if !strings.Contains(term.stdout, "5000") || !strings.Contains(term.stdout, "4000") {
		t.Errorf("values lost:\n%s", term.stdout)
	}
}

// TestTableRowsAreBounded: a table holds at most maxTableRows labels; the
// rest are left out, and stderr says so (exit status 1).
func TestTableRowsAreBounded(t *testing.T) {
	var fields []v1file.Field
	for i := range maxTableRows + 5 {
		fields = append(fields, v1file.Unbuffered(fmt.Sprintf("l%d", i), "B", []byte{1}))
	}
	path := v1file.Write(t, filepath.Join(t.TempDir(), "many.mmstats"), fields...)
	r := run(t, nil, "-o", "table", path)
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("the table shows the first %d labels and leaves out 5", maxTableRows)) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n != maxTableRows+4 {
		t.Errorf("%d lines, want %d", n, maxTableRows+4)
	}
}

// TestVerbose: -v prints a summary line on stderr.
func TestVerbose(t *testing.T) {
	dir, _, _ := fixture(t)
	missing := filepath.Join(dir, "missing.mmstats")
	r := run(t, nil, "-v", "-f", "web.*", dir, missing)
	want := regexp.MustCompile(`^slurpstats: ` + regexp.QuoteMeta(missing) + `: no such file or directory\nslurpstats: 2 files read, 1 failed; 3 of 7 stats shown; [0-9.]+[µm]?s\n$`)
	if r.code != 1 || !want.MatchString(r.stderr) {
		t.Errorf("exit %d, stderr %q, want %v", r.code, r.stderr, want)
	}
	if q := run(t, nil, dir); q.stderr != "" {
		t.Errorf("without -v: stderr %q", q.stderr)
	}
}
