//go:build unix

package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The helpers below start the project's programs (and a few others) the
// way every end-to-end test needs them, as this process or as another
// user, and make the directories and files they work in. They were
// written once per test package before; they live here once.

// Nobody returns the credentials of user nobody, to run a child as
// another user. It skips the test, saying why it needs one, when this
// process cannot (not root) or the system has no user nobody.
func Nobody(t testing.TB, why string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root to run a process as another user (%s); scripts/test runs it as root in CI", why)
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

// command returns the command that runs bin as cred (nil: as this
// process).
func command(cred *syscall.Credential, bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd
}

// RunAs is Run as cred (nil: as this process). The binaries that Binary
// builds are in a directory every user may enter.
func RunAs(t testing.TB, cred *syscall.Credential, bin string, args ...string) Result {
	t.Helper()
	if cred == nil {
		return Run(t, nil, bin, args...)
	}
	cmd := command(cred, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		res.Code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return res
}

// StartAs is Start as cred (nil: as this process), keeping up to 16384
// lines of its output unread.
func StartAs(t testing.TB, cred *syscall.Credential, bin string, args ...string) *Process {
	t.Helper()
	return StartCmd(t, command(cred, bin, args...), 1<<14)
}

// StartSleep starts a sleep(1) child as cred (nil: as this process): a
// live process of a known PID and user, killed and reaped when the test
// ends.
func StartSleep(t testing.TB, cred *syscall.Credential) *exec.Cmd {
	t.Helper()
	cmd := command(cred, "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// StartWriter starts internal/testwriter as cred (nil: as this process)
// with args (-dir, -name, -prefix, -counter, -keep...: see its flags) and
// returns it with the path of its file, once the file exists. The writer
// lives until its stdin closes (CloseStdin, or the end of the test).
func StartWriter(t testing.TB, cred *syscall.Credential, args ...string) (*Process, string) {
	t.Helper()
	return startWriter(t, StartAs(t, cred, Binary(t, "internal/testwriter"), args...))
}

// StartWriterVia is StartWriter through a command prefix, such as
// "unshare --pid --fork": the writer is the prefix's last argument.
func StartWriterVia(t testing.TB, prefix []string, args ...string) (*Process, string) {
	t.Helper()
	all := append(append(prefix[1:len(prefix):len(prefix)], Binary(t, "internal/testwriter")), args...)
	return startWriter(t, StartAs(t, nil, prefix[0], all...))
}

func startWriter(t testing.TB, p *Process) (*Process, string) {
	t.Helper()
	path := firstLine(t, p, time.Minute)
	if !filepath.IsAbs(path) {
		t.Fatalf("testwriter printed %q, not the path of its file; stderr:\n%s", path, p.Stderr())
	}
	return p, path
}

// firstLine waits up to timeout for the line a program prints when it is
// ready, failing the test at once if it exits instead.
func firstLine(t testing.TB, p *Process, timeout time.Duration) string {
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
		t.Fatalf("%s exited (%v) before it was ready; stderr:\n%s", filepath.Base(p.Cmd.Path), p.Err(), p.Stderr())
	case <-time.After(timeout):
		t.Fatalf("%s printed nothing within %v; stderr:\n%s", filepath.Base(p.Cmd.Path), timeout, p.Stderr())
	}
	return ""
}

// Demo is a running cmd/mmstats-demo.
type Demo struct {
	*Process
	URL  string // where it serves: http://127.0.0.1:PORT
	Dir  string // its stats directory, as it printed it
	PIDs []int  // its workers
}

var demoLine = regexp.MustCompile(`^mmstats-demo: (\d+) workers? on (http://[^ ,]+), stats in (\S+) \(pids ([\d ]+)\)$`)

// StartDemo starts cmd/mmstats-demo with its stats in dir
// (MMSTATS_PATH) and args, and reads the line it prints when it serves;
// tests that do not test --listen pass "--listen", "127.0.0.1:0". When
// the test ends, it gets SIGTERM and 10 seconds to stop its workers.
func StartDemo(t testing.TB, dir string, args ...string) *Demo {
	t.Helper()
	p := Start(t, []string{"MMSTATS_PATH=" + dir}, Binary(t, "cmd/mmstats-demo"), args...)
	// Cleanups run last first: this one before Start's, which would wait
	// for the demo to exit by itself.
	t.Cleanup(func() {
		p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.Done():
		case <-time.After(10 * time.Second):
		}
	})
	line := firstLine(t, p, 20*time.Second)
	m := demoLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("mmstats-demo printed %q, not its start line; stderr:\n%s", line, p.Stderr())
	}
	d := &Demo{Process: p, URL: m[2], Dir: m[3]}
	for _, f := range strings.Fields(m[4]) {
		pid, _ := strconv.Atoi(f)
		d.PIDs = append(d.PIDs, pid)
	}
	if n, _ := strconv.Atoi(m[1]); n != len(d.PIDs) || d.Dir != dir {
		t.Errorf("mmstats-demo printed %q: want its %d workers' PIDs and stats in %s", line, n, dir)
	}
	return d
}

// Files returns the stats file of each worker, in the order of PIDs.
func (d *Demo) Files(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, pid := range d.PIDs {
		m, _ := filepath.Glob(filepath.Join(d.Dir, fmt.Sprintf("mmstats-demo-%d-*.mmstats", pid)))
		if len(m) != 1 {
			t.Fatalf("worker %d has files %v, want one", pid, m)
		}
		out = append(out, m[0])
	}
	return out
}

// Stop sends the demo SIGTERM and waits up to 10 seconds for it to exit,
// failing the test if it does not exit 0.
func (d *Demo) Stop(t testing.TB) {
	t.Helper()
	if err := d.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("mmstats-demo: %v; stderr:\n%s", err, d.Stderr())
	}
}

// Mmash is a running cmd/mmash.
type Mmash struct {
	*Process
	URL   string // where it serves: http://127.0.0.1:PORT, without a final '/'
	Stats string // the glob it serves, as it printed it
}

var mmashLine = regexp.MustCompile(`^mmash: serving (http://\S+)/ \(stats: (\S+)\)$`)

// StartMmash starts cmd/mmash as cred (nil: as this process) on a free
// port of loopback, serving dir, with args, and reads the line it prints
// when it serves. When the test ends it gets SIGTERM.
func StartMmash(t testing.TB, cred *syscall.Credential, dir string, args ...string) *Mmash {
	t.Helper()
	args = append([]string{"--listen", "127.0.0.1:0", "--dir", dir}, args...)
	return startMmash(t, command(cred, Binary(t, "cmd/mmash"), args...))
}

// StartMmashWith is StartMmash, as this process, of the mmash binary bin
// (BinaryWithHooks, say) with env added to its environment.
func StartMmashWith(t testing.TB, bin string, env []string, dir string, args ...string) *Mmash {
	t.Helper()
	cmd := command(nil, bin, append([]string{"--listen", "127.0.0.1:0", "--dir", dir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return startMmash(t, cmd)
}

// startMmash starts cmd, an mmash, and reads the line it prints when it
// serves. When the test ends it gets SIGTERM.
func startMmash(t testing.TB, cmd *exec.Cmd) *Mmash {
	t.Helper()
	p := StartCmd(t, cmd, 1<<14)
	t.Cleanup(func() { p.Cmd.Process.Signal(syscall.SIGTERM) })
	line := firstLine(t, p, time.Minute)
	m := mmashLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("mmash printed %q, not its start line; stderr:\n%s", line, p.Stderr())
	}
	return &Mmash{Process: p, URL: m[1], Stats: m[2]}
}
