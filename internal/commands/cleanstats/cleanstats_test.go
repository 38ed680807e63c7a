package cleanstats

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/clean"
)

// pyFile returns a v1 file as the Python writer makes it, with the Go
// writer's sys.flock marker if flock.
func pyFile(pid uint32, uid uint64, created float64, flock bool) []byte {
	if flock {
		return v1file.Python(pid, uid, created, v1file.Unbuffered("sys.flock", "?", []byte{1}))
	}
	return v1file.Python(pid, uid, created)
}

// files makes a directory with a stale, a live and an invalid file.
func files(t *testing.T) (dir, stale, live, invalid string) {
	t.Helper()
	dir = t.TempDir()
	stale, live, invalid = filepath.Join(dir, "a-stale.mmstats"), filepath.Join(dir, "b-live.mmstats"), filepath.Join(dir, "c-invalid.mmstats")
	os.WriteFile(stale, pyFile(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now(), false), 0o644)
	os.WriteFile(live, pyFile(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now(), false), 0o644)
	os.WriteFile(invalid, []byte("junk"), 0o644)
	return
}

// run executes the command with args and returns stdout, stderr and the
// exit status.
func run(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	cmd := NewCmd(&cli.Streams{Out: &out, Err: &errOut, Width: func() int { return 0 }}, nil)
	cmd.SetArgs(args)
	code := cli.Main(cmd, &errOut)
	return out.String(), errOut.String(), code
}

func TestCommand(t *testing.T) {
	pid := func(p string) string {
		data, _ := os.ReadFile(p)
		const at = 1 + 2 + len("sys.pid") + 2 + len("I") + 1 // the value of sys.pid
		return fmt.Sprint(binary.NativeEndian.Uint32(data[at:]))
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }

	t.Run("text", func(t *testing.T) {
		dir, stale, live, invalid := files(t)
		stalePID := pid(stale)
		out, errOut, code := run(dir)
		want := "PID " + stalePID + " not found. Deleting " + stale + "\n" +
			"Invalid file: " + invalid + " (not an mmstats v1 file: version byte is 0x6a (at offset 0))\n" +
			"Removed 1  -  1 alive\n"
		if out != want || errOut != "" || code != 0 {
			t.Errorf("got %d, stdout\n%s\nstderr\n%s\nwant stdout\n%s", code, out, errOut, want)
		}
		if exists(stale) || !exists(live) || !exists(invalid) {
			t.Error("wrong files removed")
		}
	})
	t.Run("verbose", func(t *testing.T) {
		dir, _, live, _ := files(t)
		out, _, _ := run("-v", dir)
		if want := "PID " + pid(live) + " is alive. Keeping " + live + "\n"; !strings.Contains(out, want) {
			t.Errorf("no line %q in\n%s", want, out)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		dir, stale, _, _ := files(t)
		out, _, code := run("--dry-run", dir)
		if !strings.Contains(out, "not found. Would delete "+stale+"\n") || !strings.HasSuffix(out, "Would remove 1  -  1 alive\n") || code != 0 {
			t.Errorf("got %d:\n%s", code, out)
		}
		if !exists(stale) {
			t.Error("dry run removed a file")
		}
	})
	t.Run("quiet", func(t *testing.T) {
		dir, stale, _, _ := files(t)
		out, errOut, code := run("-q", dir)
		if out != "" || errOut != "" || code != 0 || exists(stale) {
			t.Errorf("got %d, %q, %q, stale exists %v", code, out, errOut, exists(stale))
		}
	})
	t.Run("json", func(t *testing.T) {
		dir, stale, live, invalid := files(t)
		out, _, code := run("--json", "-n", dir)
		want := map[string][2]string{
			stale:   {"would-remove", "no-process"},
			live:    {"alive", "pid-alive"},
			invalid: {"skipped", "invalid"},
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(want) || code != 0 {
			t.Fatalf("got %d:\n%s", code, out)
		}
		for _, l := range lines {
			var v struct {
				Path, Decision, Reason, Message string
				PID                             *int64
			}
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			w := want[v.Path]
			if v.Decision != w[0] || v.Reason != w[1] || v.Message == "" {
				t.Errorf("%s: got %+v, want %v", v.Path, v, w)
			}
			if (v.PID == nil) != (v.Path == invalid) {
				t.Errorf("%s: pid %v", v.Path, v.PID)
			}
		}
	})
	t.Run("no argument: MMSTATS_GLOB", func(t *testing.T) {
		dir, stale, _, _ := files(t)
		t.Setenv("MMSTATS_GLOB", filepath.Join(dir, "*.mmstats"))
		out, _, code := run()
		if !strings.Contains(out, "Deleting "+stale) || code != 0 {
			t.Errorf("got %d:\n%s", code, out)
		}
	})
	t.Run("nothing matches", func(t *testing.T) {
		out, errOut, code := run(filepath.Join(t.TempDir(), "*.mmstats"))
		if out != "Removed 0  -  0 alive\n" || errOut != "" || code != 0 {
			t.Errorf("got %d, %q, %q", code, out, errOut)
		}
	})
	for _, args := range [][]string{{"-q", "-v"}, {"-q", "--json"}, {"--bogus"}, {"[", "x"}} {
		t.Run(fmt.Sprintf("usage %v", args), func(t *testing.T) {
			out, errOut, code := run(args...)
			if code != 2 || out != "" || !strings.HasPrefix(errOut, "cleanstats: ") {
				t.Errorf("got %d, %q, %q", code, out, errOut)
			}
		})
	}
}

// probe is a fake clean.Probe: every PID is a process of uid 1000 that
// started at start; the lock gives lockErr, or is held when held.
type probe struct {
	start   float64
	held    bool
	lockErr error
}

func (p *probe) Signal(int) error { return syscall.EPERM }
func (p *probe) Process(int) (clean.Process, error) {
	return clean.Process{UID: 1000, Start: p.start}, nil
}
func (p *probe) TryLock(int) (bool, error) { return !p.held, p.lockErr }

// TestMessages checks the line of each decision, with a fake probe.
func TestMessages(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, uid uint64, flock bool) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, pyFile(4242, uid, 1_700_000_000, flock), 0o644)
		return p
	}
	other := file("other.mmstats", 0, false)
	same := file("same.mmstats", 1000, false)
	locked := file("locked.mmstats", 1000, true)
	link := filepath.Join(dir, "link.mmstats")
	os.Symlink(same, link)
	os.Mkdir(filepath.Join(dir, "dir.mmstats"), 0o755)

	var out, errOut bytes.Buffer
	streams := &cli.Streams{Out: &out, Err: &errOut}
	err := Run(&Options{Streams: streams, DryRun: true, Verbose: true, Args: []string{dir}, Probe: &probe{start: 1_700_000_090, held: true}})
	want := strings.Join([]string{
		"Not a regular file (directory): " + dir + "/dir.mmstats",
		"Symlink, not followed: " + link,
		"Writer (PID 4242) holds its lock. Keeping " + locked,
		"PID 4242 is now a process of uid 1000, not the file's uid 0 (PID reused). Would delete " + other,
		"PID 4242 is now a process started 1m30s after the file was created (PID reused). Would delete " + same,
		"Would remove 2  -  1 alive",
	}, "\n") + "\n"
	if err != nil || out.String() != want || errOut.Len() != 0 {
		t.Errorf("err %v, stdout\n%s\nwant\n%s\nstderr %s", err, out.String(), want, errOut.String())
	}

	// A failure: a line on stderr, the others still handled, exit 1.
	out.Reset()
	errOut.Reset()
	err = Run(&Options{Streams: streams, Args: []string{locked, same}, Probe: &probe{start: 1, lockErr: syscall.ENOLCK}})
	if code := exitCode(err); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if want := "cleanstats: " + locked + ": flock: no locks available\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	if want := "Removed 0  -  1 alive\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
}

func exitCode(err error) int {
	var exit *cli.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	}
	return -1
}
