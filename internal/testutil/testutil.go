// Package testutil builds the project's binaries and runs them, for the
// end-to-end tests of every tool.
package testutil

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildMu  sync.Mutex
	binDir   string
	built    = map[string]string{}
	rootOnce sync.Once
	root     string
)

// Root returns the module's root directory.
func Root(t testing.TB) string {
	rootOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err == nil {
			root = filepath.Dir(strings.TrimSpace(string(out)))
		}
	})
	if root == "" || root == "." {
		t.Fatal("cannot find the module root (go env GOMOD)")
	}
	return root
}

// Binary builds the main package at pkg (relative to the module root, such
// as "cmd/slurpstats") once per test process and returns the binary's path.
// The binaries go to one directory of the temp dir that Main removes once
// the package's tests have run: a package that calls Binary must run its
// tests through Main (see there), or Binary fails the test.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, "")
}

// BinaryWithHooks is Binary built with the build tag mmstats_testhooks,
// which lets a test lower limits the binary reads from the system (see
// pkg/reader's testhooks.go), into a binary of its own.
func BinaryWithHooks(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, "mmstats_testhooks")
}

// build builds pkg with tags (none if empty) once per test process.
func build(t testing.TB, pkg, tags string) string {
	t.Helper()
	if !mainCalled {
		t.Fatal("testutil.Binary needs the package's tests to run under testutil.Main, " +
			"which removes the binaries afterwards: add a main_test.go with " +
			"`func TestMain(m *testing.M) { testutil.Main(m) }`")
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	key := pkg + " " + tags
	if p, ok := built[key]; ok {
		return p
	}
	if binDir == "" {
		d, err := os.MkdirTemp("", "mmstatstest-bin-")
		if err != nil {
			t.Fatal(err)
		}
		// Tests run some binaries as another user (nobody).
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
		binDir = d
	}
	out := filepath.Join(binDir, filepath.Base(pkg))
	args := []string{"build", "-o", out}
	if tags != "" {
		out += "-" + tags
		args = []string{"build", "-tags", tags, "-o", out}
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = Root(t)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	built[key] = out
	return out
}

// ExitedPID returns the PID of a child process (true) that has exited and
// been reaped: a PID of no process, until the system reuses it.
func ExitedPID(t testing.TB) uint32 {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(cmd.Process.Pid)
}

// Result is what a finished command printed and its exit status.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs bin with args and env (added to the test's environment) and
// waits up to a minute for it.
func Run(t testing.TB, env []string, bin string, args ...string) Result {
	t.Helper()
	return RunIn(t, "", env, bin, args...)
}

// RunIn is Run in directory dir.
func RunIn(t testing.TB, dir string, env []string, bin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within a minute", bin, args)
	}
	return res
}

// Process is a background process started by Start.
type Process struct {
	Cmd    *exec.Cmd
	Lines  chan string // its stdout, line by line
	stdin  io.WriteCloser
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// Start starts bin in the background with env added. Its stdin is a pipe
// that stays open until CloseStdin or the end of the test (testwriter and
// similar helpers exit when it closes). When the test ends, stdin is
// closed and the process gets a few seconds to exit before it is killed.
func Start(t testing.TB, env []string, bin string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return StartCmd(t, cmd, 1024)
}

// StartCmd is Start for a command the caller prepared (for example with
// SysProcAttr credentials), keeping up to lines lines of stdout unread.
func StartCmd(t testing.TB, cmd *exec.Cmd, lines int) *Process {
	t.Helper()
	cmd.WaitDelay = 5 * time.Second // a grandchild holding stdout cannot hang Wait
	p := &Process{Cmd: cmd, Lines: make(chan string, lines), done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: &p.stderr}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.Lines <- sc.Text():
			default: // nobody reads: drop
			}
		}
		io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// CloseStdin closes the process's stdin.
func (p *Process) CloseStdin() error { return p.stdin.Close() }

// Err returns the process's exit error, once Done is closed.
func (p *Process) Err() error { return p.err }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Line waits up to timeout for the next line of output.
func (p *Process) Line(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case l := <-p.Lines:
		return l
	case <-time.After(timeout):
		t.Fatalf("no output from %s within %v; stderr:\n%s", p.Cmd.Path, timeout, p.Stderr())
	}
	return ""
}

// Wait waits up to timeout for the process to exit and returns its error.
func (p *Process) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v", p.Cmd.Path, timeout)
	}
	return nil
}

// Stderr returns what the process printed on stderr so far.
func (p *Process) Stderr() string {
	lw := p.Cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return p.stderr.String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
