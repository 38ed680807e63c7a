//go:build unix

// Package test holds the cross-tool torture tests: hostile files for
// every reading tool, the writer's refusal to follow or take over what is
// at its file name, and many writer processes under load. They run the
// built binaries (testutil.Binary) against files of the real writer.
package test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/reader"
)

func slurpstats(t testing.TB) string { return testutil.Binary(t, "cmd/slurpstats") }
func pollstats(t testing.TB) string  { return testutil.Binary(t, "cmd/pollstats") }
func cleanstats(t testing.TB) string { return testutil.Binary(t, "cmd/cleanstats") }
func testwriter(t testing.TB) string { return testutil.Binary(t, "internal/testwriter") }

// counterLabel is the testwriter's counter, 42 unless told otherwise.
const counterLabel = "every.counter"

var (
	templateOnce sync.Once
	templateData []byte
	templateErr  error
)

// template returns the bytes of a file that a real testwriter process
// wrote (every.counter = 42) and left behind when it exited: copies of it
// are stale files (nobody holds their lock) that every tool can read.
func template(t testing.TB) []byte {
	t.Helper()
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mmstatstest-template-")
		if err != nil {
			templateErr = err
			return
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command(testwriter(t), "-dir", dir, "-name", "template.mmstats", "-keep")
		// stdin is /dev/null: the writer exits at once, keeping its file.
		out, err := cmd.CombinedOutput()
		if err != nil {
			templateErr = fmt.Errorf("testwriter: %v: %s", err, out)
			return
		}
		templateData, templateErr = os.ReadFile(filepath.Join(dir, "template.mmstats"))
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	return templateData
}

// withCounter returns a copy of the template whose every.counter is v.
func withCounter(t testing.TB, v uint64) []byte {
	t.Helper()
	data := bytes.Clone(template(t))
	for _, off := range counterOffsets(t, data) {
		binary.NativeEndian.PutUint64(data[off:], v)
	}
	return data
}

// counterOffsets returns where every.counter's value is in a template
// file (both buffers if it is double buffered).
func counterOffsets(t testing.TB, data []byte) []int {
	t.Helper()
	layout, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range layout.Fields {
		if f.Label == counterLabel {
			if f.Sig.Size != 8 {
				t.Fatalf("%s has size %d", counterLabel, f.Sig.Size)
			}
			if f.Buffered {
				return []int{f.Value, f.Value + 8}
			}
			return []int{f.Value}
		}
	}
	t.Fatalf("no %s in the template", counterLabel)
	return nil
}

// proc is a background process: testutil.Start's, with credentials.
type proc struct {
	*testutil.Process
}

// start starts bin as cred (nil: as this process) with a stdin pipe that
// stays open until CloseStdin or the end of the test (testwriter exits
// when it closes). At the end of the test, the process gets a few seconds
// to exit after its stdin closes, then is killed.
func start(t testing.TB, cred *syscall.Credential, bin string, args ...string) *proc {
	t.Helper()
	return &proc{testutil.StartAs(t, cred, bin, args...)}
}

// line waits up to timeout for the next line of output.
func (p *proc) line(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case l := <-p.Lines:
		return l
	case <-p.Done():
		select {
		case l := <-p.Lines: // printed before it exited
			return l
		default:
		}
		t.Fatalf("%s exited (%v) instead of printing a line; stderr:\n%s", filepath.Base(p.Cmd.Path), p.Err(), brief(p.Stderr()))
	case <-time.After(timeout):
		t.Fatalf("no output from %s within %v; stderr:\n%s", filepath.Base(p.Cmd.Path), timeout, brief(p.Stderr()))
	}
	return ""
}

// brief shortens a long stderr for a failure message: its first lines,
// and the first lines from a Go crash (fatal error, panic) on.
func brief(stderr string) string {
	ls := strings.Split(stderr, "\n")
	if len(ls) <= 30 {
		return stderr
	}
	out := append([]string(nil), ls[:5]...)
	out = append(out, fmt.Sprintf("... (%d lines)", len(ls)))
	for i, l := range ls {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") {
			out = append(out, ls[max(i-1, 5):min(i+25, len(ls))]...)
			break
		}
	}
	return strings.Join(out, "\n")
}

// stop sends SIGTERM and returns the exit status.
func (p *proc) stop(t testing.TB) int {
	t.Helper()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	return p.wait(t, 30*time.Second)
}

// wait waits up to timeout for the process to exit and returns its exit
// status.
func (p *proc) wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v; stderr:\n%s", filepath.Base(p.Cmd.Path), timeout, brief(p.Stderr()))
	}
	if err := p.Err(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		t.Fatalf("%s: %v", filepath.Base(p.Cmd.Path), err)
	}
	return 0
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// noCrash fails the test if a tool's stderr shows a Go panic or a fatal
// runtime error.
func noCrash(t testing.TB, tool, stderr string) {
	t.Helper()
	for _, bad := range []string{"panic:", "fatal error:", "goroutine ", "SIGSEGV", "SIGBUS", "[signal "} {
		if strings.Contains(stderr, bad) {
			t.Errorf("%s crashed (%q on stderr):\n%s", tool, bad, stderr)
			return
		}
	}
}

// oneLineEach checks that stderr is exactly one line per path in paths,
// each "tool: PATH: reason", in any order.
func oneLineEach(t testing.TB, tool, stderr string, paths ...string) {
	t.Helper()
	got := lines(stderr)
	if len(got) != len(paths) {
		t.Errorf("%s: %d stderr lines, want one for each of %v:\n%s", tool, len(got), paths, stderr)
		return
	}
	for _, p := range paths {
		n := 0
		for _, l := range got {
			if strings.HasPrefix(l, tool+": "+p+": ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d stderr lines \"%s: %s: reason\", want 1:\n%s", tool, n, tool, p, stderr)
		}
	}
}

// slurpJSON runs slurpstats --json over args (as cred) and returns the
// counter of each file that has one, by path, and the result.
func slurpJSON(t testing.TB, cred *syscall.Credential, args ...string) (map[string]uint64, testutil.Result) {
	t.Helper()
	counters, r, err := slurpJSONErr(t, cred, args...)
	if err != nil {
		t.Fatal(err)
	}
	return counters, r
}

// slurpJSONErr is slurpJSON for other goroutines than the test's: it
// returns what went wrong instead of ending the test.
func slurpJSONErr(t testing.TB, cred *syscall.Credential, args ...string) (map[string]uint64, testutil.Result, error) {
	r := testutil.RunAs(t, cred, slurpstats(t), append([]string{"--json"}, args...)...)
	noCrash(t, "slurpstats", r.Stderr)
	var files []struct {
		Path  string `json:"path"`
		Error string `json:"error"`
		Stats []struct {
			Label string          `json:"label"`
			Value json.RawMessage `json:"value"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &files); err != nil {
		return nil, r, fmt.Errorf("slurpstats --json %v: exit %d, bad JSON (%v):\n%s\nstderr:\n%s", args, r.Code, err, r.Stdout, r.Stderr)
	}
	counters := map[string]uint64{}
	for _, f := range files {
		for _, s := range f.Stats {
			if s.Label == counterLabel {
				v, err := strconv.ParseUint(string(s.Value), 10, 64)
				if err != nil {
					return nil, r, fmt.Errorf("%s: %s = %s", f.Path, counterLabel, s.Value)
				}
				counters[f.Path] = v
			}
		}
	}
	return counters, r, nil
}

// fileID is a file's device and inode.
type fileID struct{ dev, ino uint64 }

func idOf(t testing.TB, path string) fileID {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatalf("lstat %s: %v", path, err)
	}
	return fileID{uint64(st.Dev), st.Ino}
}

// snapshot is what a file looks like, to check it was not touched.
type snapshot struct {
	id    fileID
	mode  os.FileMode
	size  int64
	mtime time.Time
	data  []byte
	link  string
}

func snap(t testing.TB, path string) snapshot {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s := snapshot{id: idOf(t, path), mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime()}
	if fi.Mode()&os.ModeSymlink != 0 {
		s.link, _ = os.Readlink(path)
	} else if fi.Mode().IsRegular() {
		s.data, _ = os.ReadFile(path)
	}
	return s
}

// untouched checks that path is still what snap saw. A live mmstats file
// keeps changing under its writer (its refresher publishes rates every
// second), so for one the check is its identity, mode, size and layout
// (labels at their offsets), which only its writer growing it could
// change; any other file must be byte for byte the same, mtime included.
func untouched(t testing.TB, path string, before snapshot) {
	t.Helper()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("%s is gone: %v", path, err)
		return
	}
	after := snap(t, path)
	same := after.id == before.id && after.mode == before.mode && after.size == before.size && after.link == before.link
	if lb, la := layoutOf(before.data), layoutOf(after.data); lb != "" || la != "" {
		same = same && lb == la
	} else {
		same = same && after.mtime.Equal(before.mtime) && bytes.Equal(after.data, before.data)
	}
	if !same {
		t.Errorf("%s was changed: %+v, was %+v", path, after, before)
	}
}

// layoutOf returns the labels and offsets of the fields of a v1 file, or
// "" if data is not one.
func layoutOf(data []byte) string {
	l, err := reader.Parse(data)
	if err != nil || len(l.Fields) == 0 {
		return ""
	}
	var b strings.Builder
	for _, f := range l.Fields {
		fmt.Fprintf(&b, "%d %s\n", f.Offset, f.Label)
	}
	return b.String()
}
