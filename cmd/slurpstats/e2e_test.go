//go:build unix

package main

// End-to-end tests of the built slurpstats binary: the Python fixtures,
// live writer processes, an independent Python reader, corrupt files,
// broken pipes and the flags.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

const fixtures = "testdata/python-v1"

func slurpBin(t *testing.T) string { return testutil.Binary(t, "cmd/slurpstats") }

// decodeJSON decodes JSON keeping numbers exact (json.Number), so that
// 2^63 and 30.0 compare as written.
func decodeJSON(t *testing.T, what string, data []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: bad JSON: %v\n%s", what, err, data)
	}
	return v
}

func fixtureNames(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(fixtures, "*.mmstats"))
	if err != nil || len(names) != 6 {
		t.Fatalf("fixtures: %v, %v", names, err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	return names
}

func TestPythonFixtures(t *testing.T) {
	bin := slurpBin(t)
	raw, err := os.ReadFile(filepath.Join(fixtures, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := decodeJSON(t, "expected.json", raw)
	for _, args := range [][]string{
		{"--json", "*.mmstats"},                            // a quoted glob
		append([]string{"-o", "json"}, fixtureNames(t)...), // files
	} {
		r := testutil.RunIn(t, fixtures, nil, bin, args...)
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("%v: exit %d, stderr %s", args, r.Code, r.Stderr)
		}
		if got := decodeJSON(t, "slurpstats", []byte(r.Stdout)); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: got\n%s\nwant\n%s", args, r.Stdout, raw)
		}
		// The layout is documented to be the one of expected.json.
		if r.Stdout != string(raw) {
			t.Errorf("%v: not byte-identical to expected.json", args)
		}
	}
}

// TestPythonReaderFixtures validates the independent Python reader on the
// files that the Python writer wrote.
func TestPythonReaderFixtures(t *testing.T) {
	py, script := python(t)
	raw, err := os.ReadFile(filepath.Join(fixtures, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := testutil.RunIn(t, fixtures, nil, py, append([]string{script}, fixtureNames(t)...)...)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("v1reader.py: exit %d, stderr %s", r.Code, r.Stderr)
	}
	if got, want := decodeJSON(t, "v1reader.py", []byte(r.Stdout)), decodeJSON(t, "expected.json", raw); !reflect.DeepEqual(got, want) {
		t.Errorf("v1reader.py: got\n%s\nwant\n%s", r.Stdout, raw)
	}
}

// python returns python3 and the path of testdata/python/v1reader.py.
func python(t *testing.T) (py, script string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required by this test (scripts/test installs it): %v", err)
	}
	return py, filepath.Join(testutil.Root(t), "testdata", "python", "v1reader.py")
}

// section is one file of the text output.
type section struct {
	path  string
	lines []string
}

// parseText splits text output into sections, checking its framing.
func parseText(t *testing.T, out string) []section {
	t.Helper()
	var secs []section
	for _, block := range strings.SplitAfter(out, "\n\n") {
		if block == "" {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(block, "\n\n"), "\n")
		if !strings.HasPrefix(lines[0], "==> ") || !strings.HasSuffix(block, "\n\n") {
			t.Fatalf("bad section %q in:\n%s", block, out)
		}
		secs = append(secs, section{strings.TrimPrefix(lines[0], "==> "), lines[1:]})
	}
	return secs
}

// values checks that a section's values are aligned one space after the
// longest label, and returns label -> value.
func (s section) values(t *testing.T) map[string]string {
	t.Helper()
	width := 0
	for _, l := range s.lines {
		label, _, _ := strings.Cut(strings.TrimPrefix(l, "  "), " ")
		width = max(width, utf8.RuneCountInString(label))
	}
	m := map[string]string{}
	for _, l := range s.lines {
		runes := []rune(l)
		if !strings.HasPrefix(l, "  ") || len(runes) < 3+width || runes[2+width] != ' ' {
			t.Fatalf("%s: line %q is not aligned to width %d", s.path, l, width)
		}
		label := strings.TrimRight(string(runes[2:2+width]), " ")
		m[label] = string(runes[3+width:])
	}
	return m
}

// everyValues are the values the testwriter sets (every field type).
var everyValues = map[string]string{
	"every.average": "30.0", "every.moving": "3.0", "every.timer": "1.5",
	"every.bool": "True", "every.byte": "-5", "every.short": "-1234",
	"every.ushort": "54321", "every.int": "-100000", "every.uint": "3000000000",
	"every.uint64": "1099511627783", "every.float": "0.10000000149011612",
	"every.double": "3.14159", "every.string": "hello, world",
	"every.static_uint": "4000000000", "every.static_int64": "-42",
	"every.static_uint64": "9223372036854775808", "every.static_float": "2.5",
	"every.static_double": "-0.001", "every.static_text": "static text",
}

// withoutRates is slurpstats' text output without the lines of rates
// over time windows (….rate10s, ….rate1m), which the writers publish
// anew as time passes: two runs a refresh apart differ there only.
func withoutRates(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], ".rate") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

func TestLiveWriters(t *testing.T) {
	bin := slurpBin(t)
	dir := t.TempDir()
	// Started out of order; the output is sorted by path.
	_, c := testutil.StartWriter(t, nil, "-dir", dir, "-name", "c.mmstats", "-counter", "3", "-prefix", "x.")
	_, a := testutil.StartWriter(t, nil, "-dir", dir, "-name", "a.mmstats", "-counter", "1")
	_, b := testutil.StartWriter(t, nil, "-dir", dir, "-name", "b.mmstats", "-counter", "2")
	sorted := []string{a, b, c}
	env := []string{"MMSTATS_PATH=" + dir, "MMSTATS_GLOB="}

	noArgs := testutil.Run(t, env, bin)
	if noArgs.Code != 0 || noArgs.Stderr != "" {
		t.Fatalf("exit %d, stderr %s", noArgs.Code, noArgs.Stderr)
	}
	secs := parseText(t, noArgs.Stdout)
	if len(secs) != 3 {
		t.Fatalf("got %d sections, want 3:\n%s", len(secs), noArgs.Stdout)
	}
	for i, s := range secs {
		if s.path != sorted[i] {
			t.Errorf("section %d is %s, want %s", i, s.path, sorted[i])
		}
		prefix := ""
		if s.path == c {
			prefix = "x."
		}
		got := s.values(t)
		for label, want := range everyValues {
			if got[prefix+label] != want {
				t.Errorf("%s: %s%s = %q, want %q", s.path, prefix, label, got[prefix+label], want)
			}
		}
		if want := strconv.Itoa(i + 1); got[prefix+"every.counter"] != want {
			t.Errorf("%s: counter = %q, want %q", s.path, got[prefix+"every.counter"], want)
		}
	}

	// A DIR argument, a quoted glob and files in any order give the same.
	for _, args := range [][]string{{dir}, {filepath.Join(dir, "*.mmstats")}, {c, a, b}} {
		r := testutil.Run(t, nil, bin, args...)
		if r.Code != 0 || withoutRates(r.Stdout) != withoutRates(noArgs.Stdout) {
			t.Errorf("%v: exit %d, output differs from no arguments:\n%s", args, r.Code, r.Stdout)
		}
	}

	// The table: one column per file, labels in first-seen order, empty
	// cells where a file lacks a label.
	table := testutil.Run(t, env, bin, "-o", "table", "-f", "*every.counter", "-f", "*every.static_int64")
	if table.Code != 0 {
		t.Fatalf("table: exit %d: %s", table.Code, table.Stderr)
	}
	want := [][]string{
		{"label", filepath.Base(a), filepath.Base(b), filepath.Base(c)},
		{"every.counter", "1", "2", ""},
		{"every.static_int64", "-42", "-42", ""},
		{"x.every.counter", "", "", "3"},
		{"x.every.static_int64", "", "", "-42"},
	}
	if rows := tableRows(table.Stdout); !reflect.DeepEqual(rows, want) {
		t.Errorf("table: got %q, want %q\n%s", rows, want, table.Stdout)
	}

	// JSON values, typed.
	js := testutil.Run(t, env, bin, "--json", "-f", "*every.static_uint64", "-f", "*every.bool", "-f", "*every.double")
	if js.Code != 0 {
		t.Fatalf("json: exit %d: %s", js.Code, js.Stderr)
	}
	var files []struct {
		Path  string
		Stats []struct {
			Label, Type string
			Value       any
		}
	}
	d := json.NewDecoder(strings.NewReader(js.Stdout))
	d.UseNumber()
	if err := d.Decode(&files); err != nil || len(files) != 3 {
		t.Fatalf("json: %v, %d files:\n%s", err, len(files), js.Stdout)
	}
	for i, f := range files {
		if f.Path != sorted[i] || len(f.Stats) != 3 {
			t.Fatalf("json file %d: %+v", i, f)
		}
		for _, s := range f.Stats {
			var want any
			switch strings.TrimPrefix(s.Label, "x.") {
			case "every.static_uint64":
				want = json.Number("9223372036854775808")
			case "every.bool":
				want = true
			case "every.double":
				want = json.Number("3.14159")
			}
			if s.Value != want {
				t.Errorf("%s: %s = %#v (%s), want %#v", f.Path, s.Label, s.Value, s.Type, want)
			}
		}
	}
}

// tableRows returns the cells of a table's header and rows, trimmed.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		parts := strings.Split(line, "│")
		if len(parts) < 3 {
			continue // a border
		}
		cells := parts[1 : len(parts)-1]
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows
}

// TestPythonReaderAgrees reads a file with every field type, written by
// the Go writer, with slurpstats and with the independent Python reader.
func TestPythonReaderAgrees(t *testing.T) {
	py, script := python(t)
	bin := slurpBin(t)
	_, path := testutil.StartWriter(t, nil, "-dir", t.TempDir(), "-prefix", "p.", "-counter", "123456789")
	// The writer's refresher publishes rates and averages each second:
	// one that lands between the two reads changes them, so the reads
	// are made again (a few times at most) until none did.
	var fromGo, fromPy testutil.Result
	for try := 1; ; try++ {
		fromGo = testutil.Run(t, nil, bin, "--json", path)
		fromPy = testutil.Run(t, nil, py, script, path)
		if fromGo.Code != 0 || fromPy.Code != 0 {
			t.Fatalf("exit %d (slurpstats: %s), %d (python: %s)", fromGo.Code, fromGo.Stderr, fromPy.Code, fromPy.Stderr)
		}
		g := decodeJSON(t, "slurpstats", []byte(fromGo.Stdout))
		p := decodeJSON(t, "v1reader.py", []byte(fromPy.Stdout))
		if reflect.DeepEqual(g, p) {
			break
		}
		if try == 5 {
			t.Fatalf("slurpstats:\n%s\nv1reader.py:\n%s", fromGo.Stdout, fromPy.Stdout)
		}
	}
	if !strings.Contains(fromGo.Stdout, `{"label": "p.every.counter", "type": "Q", "value": 123456789}`) ||
		!strings.Contains(fromGo.Stdout, `"p.every.string16", "type": "16s"`) ||
		!strings.Contains(fromGo.Stdout, `{"label": "p.every.latency.count", "type": "Q8520x", "value": 5}`) { // buckets in the pad bytes
		t.Errorf("missing fields:\n%s", fromGo.Stdout)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// badFile makes one unreadable "file" at path; reason is part of the
// message expected on stderr ("" when the file is readable after all).
type badFile struct {
	name   string
	make   func(t *testing.T, path string)
	reason string
}

func badFiles() []badFile {
	data := func(b []byte) func(*testing.T, string) {
		return func(t *testing.T, p string) { writeFile(t, p, b) }
	}
	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(garbage)
	garbage[0] = 1 // get past the version byte
	full := v1file.Bytes(0, v1file.Unbuffered("ok", "Q", v1file.U64(1)), v1file.Unbuffered("cut", "Q", v1file.U64(2)))
	return []badFile{
		{"empty.mmstats", data(nil), "empty file"},
		{"version.mmstats", data(append([]byte{2}, v1file.Bytes(0, v1file.Unbuffered("a", "Q", v1file.U64(1)))[1:]...)), "not an mmstats v1 file"},
		{"truncated.mmstats", data(full[:len(full)-3]), "truncated field"},
		{"label.mmstats", data([]byte{1, 0xe8, 0x03, 'a', 'b', 'c'}), "truncated field"},
		{"type.mmstats", data(v1file.Bytes(0, v1file.Unbuffered("a", "Z", v1file.U64(1)))), "bad type signature"},
		{"garbage.mmstats", data(garbage), ""},
		{"x.mmstats", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"y.mmstats", func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	}
}

func TestCorruptFiles(t *testing.T) {
	bin := slurpBin(t)
	for _, bf := range badFiles() {
		t.Run(bf.name, func(t *testing.T) {
			dir := t.TempDir()
			good := filepath.Join(dir, "good.mmstats")
			writeFile(t, good, v1file.Bytes(0, v1file.Unbuffered("good.requests", "Q", v1file.U64(77))))
			bad := filepath.Join(dir, bf.name)
			bf.make(t, bad)
			for _, mode := range []string{"text", "table", "json"} {
				r := testutil.Run(t, nil, bin, "-o", mode, dir)
				if r.Code != 1 {
					t.Errorf("%s: exit %d, want 1", mode, r.Code)
				}
				line, rest, _ := strings.Cut(r.Stderr, "\n")
				if rest != "" || !strings.HasPrefix(line, "slurpstats: "+bad+": ") || !strings.Contains(line, bf.reason) {
					t.Errorf("%s: stderr %q, want one line about %s (%s)", mode, r.Stderr, bad, bf.reason)
				}
				shown := good
				if mode == "table" { // columns are named by base name within one directory
					shown = filepath.Base(good)
				}
				if !strings.Contains(r.Stdout, shown) || !strings.Contains(r.Stdout, "77") {
					t.Errorf("%s: the good file is not printed:\n%s", mode, r.Stdout)
				}
				if mode == "json" {
					var files []struct{ Path, Error string }
					if err := json.Unmarshal([]byte(r.Stdout), &files); err != nil {
						t.Fatalf("json: %v\n%s", err, r.Stdout)
					}
					msg := strings.TrimPrefix(line, "slurpstats: ")
					if len(files) != 2 || files[0].Path != bad && files[1].Path != bad {
						t.Fatalf("json: got %+v, want good and bad", files)
					}
					for _, f := range files {
						if f.Path == bad && f.Error != msg {
							t.Errorf("json: error %q, want %q", f.Error, msg)
						}
					}
				}
			}
		})
	}

	// All of them at once: one line each, in path order.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "good.mmstats"), v1file.Bytes(0, v1file.Unbuffered("good.requests", "Q", v1file.U64(77))))
	bfs := badFiles()
	var want []string
	for _, bf := range bfs {
		bf.make(t, filepath.Join(dir, bf.name))
		want = append(want, filepath.Join(dir, bf.name))
	}
	slices.Sort(want)
	r := testutil.Run(t, nil, bin, dir)
	lines := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
	if r.Code != 1 || len(lines) != len(want) {
		t.Fatalf("exit %d, %d stderr lines for %d bad files:\n%s", r.Code, len(lines), len(want), r.Stderr)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "slurpstats: "+want[i]+": ") {
			t.Errorf("line %d: %q, want it about %s", i, l, want[i])
		}
	}
	if !strings.Contains(r.Stdout, "  good.requests 77\n") {
		t.Errorf("good file not printed:\n%s", r.Stdout)
	}
}

// TestUnreadable: a file without read permission is reported, except for
// root, who can read it anyway.
func TestUnreadable(t *testing.T) {
	bin := slurpBin(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.mmstats")
	writeFile(t, good, v1file.Bytes(0, v1file.Unbuffered("good.requests", "Q", v1file.U64(77))))
	locked := filepath.Join(dir, "locked.mmstats")
	writeFile(t, locked, v1file.Bytes(0, v1file.Unbuffered("locked.requests", "Q", v1file.U64(5))))
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	r := testutil.Run(t, nil, bin, dir)
	if os.Geteuid() == 0 {
		if r.Code != 0 || r.Stderr != "" || !strings.Contains(r.Stdout, "  locked.requests 5\n") {
			t.Errorf("as root: exit %d, stderr %q, stdout:\n%s", r.Code, r.Stderr, r.Stdout)
		}
	} else if r.Code != 1 || r.Stderr != "slurpstats: "+locked+": permission denied\n" {
		t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "  good.requests 77\n") {
		t.Errorf("good file not printed:\n%s", r.Stdout)
	}
}

func TestBrokenPipe(t *testing.T) {
	bin := slurpBin(t)
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(fixtures, "defaults.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 { // ~150 KB of text: more than a pipe holds
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%03d.mmstats", i)), data)
	}

	// stdout is a pipe whose reader has gone: the first write fails.
	for _, mode := range []string{"text", "table", "json"} {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pr.Close()
		cmd := exec.Command(bin, "-o", mode, dir)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = pw, &stderr
		err = cmd.Run()
		pw.Close()
		if err != nil || stderr.Len() != 0 {
			t.Errorf("%s, closed pipe: %v, stderr %q; want exit 0 and no message", mode, err, stderr.String())
		}
	}

	// A reader that stops early, as with `| head -1`.
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is required by this test: %v", err)
	}
	r := testutil.Run(t, []string{"BIN=" + bin, "DIR=" + dir}, bash, "-c", `"$BIN" "$DIR" | head -1; exit "${PIPESTATUS[0]}"`)
	if r.Code != 0 || r.Stderr != "" || r.Stdout != "==> "+filepath.Join(dir, "f000.mmstats")+"\n" {
		t.Errorf("| head -1: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestFlags(t *testing.T) {
	bin := slurpBin(t)
	r := testutil.Run(t, nil, bin, "--version")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "slurpstats ") {
		t.Errorf("--version: exit %d, %q", r.Code, r.Stdout)
	}
	r = testutil.Run(t, nil, bin, "--help")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Examples:") || !strings.Contains(r.Stdout, "slurpstats --json DIR | jq") {
		t.Errorf("--help: exit %d:\n%s", r.Code, r.Stdout)
	}
	for _, args := range [][]string{{"--bogus"}, {"-o", "xml"}, {"-f", "["},
		{"-o", "prometheus", "--classic-schema", "4"}, {"-o", "prometheus", "--classic-schema=x"}, {"--classic-schema", "1"}} {
		r = testutil.Run(t, nil, bin, append(args, fixtures)...)
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, "slurpstats: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	r = testutil.Run(t, []string{"MMSTATS_GLOB=" + filepath.Join(t.TempDir(), "*.mmstats")}, bin)
	if r.Code != 1 || !strings.Contains(r.Stderr, "slurpstats: no stats files match ") {
		t.Errorf("no match: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
