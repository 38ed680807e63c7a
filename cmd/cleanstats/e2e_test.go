//go:build unix

package main

// End-to-end tests of the built cleanstats binary, against files of real
// writer processes (testwriter, also in a PID namespace), files in the
// Python writer's layout naming real processes (exited, live, reused,
// another user's), things that are not stats files, permission errors,
// and 10,000 files at once.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/reader"
)

func bin(t *testing.T) string { return testutil.Binary(t, "cmd/cleanstats") }

// clean runs cleanstats and checks its exit status.
func clean(t *testing.T, code int, args ...string) testutil.Result {
	t.Helper()
	r := testutil.Run(t, nil, bin(t), args...)
	if r.Code != code {
		t.Fatalf("cleanstats %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.Code, code, r.Stdout, r.Stderr)
	}
	return r
}

// hasLines checks that every line is in out, whole.
func hasLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	got := strings.Split(out, "\n")
	for _, l := range lines {
		if !slices.Contains(got, l) {
			t.Errorf("no line %q in:\n%s", l, out)
		}
	}
}

func TestWriterProcesses(t *testing.T) {
	dir := t.TempDir()
	killed, killedPath := testutil.StartWriter(t, nil, "-dir", dir, "-name", "killed.mmstats", "-keep")
	exited, exitedPath := testutil.StartWriter(t, nil, "-dir", dir, "-name", "exited.mmstats", "-keep")
	live, livePath := testutil.StartWriter(t, nil, "-dir", dir, "-name", "live.mmstats", "-keep")
	killed.Cmd.Process.Kill()
	killed.Wait(t, 10*time.Second)
	exited.CloseStdin() // exits normally, leaving its file (-keep)
	if err := exited.Wait(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	r := clean(t, 0, "-v", dir)
	hasLines(t, r.Stdout,
		fmt.Sprintf("Writer (PID %d) no longer holds its lock. Deleting %s", killed.Cmd.Process.Pid, killedPath),
		fmt.Sprintf("Writer (PID %d) no longer holds its lock. Deleting %s", exited.Cmd.Process.Pid, exitedPath),
		fmt.Sprintf("Writer (PID %d) holds its lock. Keeping %s", live.Cmd.Process.Pid, livePath),
		"Removed 2  -  1 alive")
	if testutil.Exists(t, killedPath) || testutil.Exists(t, exitedPath) || !testutil.Exists(t, livePath) {
		t.Error("wrong files removed")
	}
}

// TestPIDRules covers files without the marker: the PID decides.
func TestPIDRules(t *testing.T) {
	uid := uint64(os.Getuid())
	t.Run("exited child removed, live child kept", func(t *testing.T) {
		dir := t.TempDir()
		dead := testutil.ExitedPID(t)
		child := testutil.StartSleep(t, nil)
		stale := testutil.WriteFile(t, dir, "stale.mmstats", v1file.Python(dead, uid, testutil.Now()))
		live := testutil.WriteFile(t, dir, "live.mmstats", v1file.Python(uint32(child.Process.Pid), uid, testutil.Now()))
		r := clean(t, 0, dir)
		hasLines(t, r.Stdout, fmt.Sprintf("PID %d not found. Deleting %s", dead, stale), "Removed 1  -  1 alive")
		if testutil.Exists(t, stale) || !testutil.Exists(t, live) {
			t.Error("wrong files removed")
		}
	})
	t.Run("PID reused by a process started after the file", func(t *testing.T) {
		dir := t.TempDir()
		created := testutil.Now() - 60
		child := testutil.StartSleep(t, nil)
		p := testutil.WriteFile(t, dir, "reused.mmstats", v1file.Python(uint32(child.Process.Pid), uid, created))
		r := clean(t, 0, dir)
		want := fmt.Sprintf("PID %d is now a process started ", child.Process.Pid)
		if !strings.HasPrefix(r.Stdout, want) || !strings.Contains(r.Stdout, "after the file was created (PID reused). Deleting "+p+"\n") {
			t.Errorf("got:\n%s", r.Stdout)
		}
		if testutil.Exists(t, p) {
			t.Error("the file of the reused PID is still there")
		}
	})
	t.Run("live process whose owner differs from sys.uid", func(t *testing.T) {
		dir := t.TempDir()
		child := testutil.StartSleep(t, nil)
		p := testutil.WriteFile(t, dir, "owner.mmstats", v1file.Python(uint32(child.Process.Pid), uid+1, testutil.Now()))
		r := clean(t, 0, dir)
		hasLines(t, r.Stdout, fmt.Sprintf("PID %d is now a process of uid %d, not the file's uid %d (PID reused). Deleting %s", child.Process.Pid, uid, uid+1, p))
		if testutil.Exists(t, p) {
			t.Error("file still there")
		}
	})
	t.Run("live process of another user, same sys.uid", func(t *testing.T) {
		cred := testutil.Nobody(t, "cleanstats as another user")
		dir := t.TempDir()
		child := testutil.StartSleep(t, cred) // its credentials are set before it runs sleep
		p := testutil.WriteFile(t, dir, "nobody.mmstats", v1file.Python(uint32(child.Process.Pid), uint64(cred.Uid), testutil.Now()))
		r := clean(t, 0, "-v", dir)
		hasLines(t, r.Stdout, fmt.Sprintf("PID %d is alive. Keeping %s", child.Process.Pid, p), "Removed 0  -  1 alive")
		if !testutil.Exists(t, p) {
			t.Error("file removed")
		}
	})
	t.Run("kill gives EPERM: alive (0.8.0 removed it)", func(t *testing.T) {
		if os.Geteuid() != 0 {
			// init is another user's process: kill(1, 0) gives EPERM.
			status, err := os.ReadFile("/proc/1/status")
			if err != nil || strings.Contains(string(status), fmt.Sprintf("\nUid:\t%d\t", os.Getuid())) {
				t.Skip("needs root, or a PID 1 of another user")
			}
			dir := t.TempDir()
			p := testutil.WriteFile(t, dir, "init.mmstats", v1file.Python(1, 0, testutil.Now()))
			r := clean(t, 0, "-v", dir)
			hasLines(t, r.Stdout, "PID 1 is alive. Keeping "+p, "Removed 0  -  1 alive")
			return
		}
		cred := testutil.Nobody(t, "cleanstats as another user")
		dir := testutil.SharedDir(t, 0o755)
		child := testutil.StartSleep(t, nil) // ours (root): nobody gets EPERM
		p := testutil.WriteFile(t, dir, "root.mmstats", v1file.Python(uint32(child.Process.Pid), uid, testutil.Now()))
		r := testutil.RunAs(t, cred, bin(t), "-v", dir)
		if r.Code != 0 {
			t.Fatalf("exit %d: %s", r.Code, r.Stderr)
		}
		hasLines(t, r.Stdout, fmt.Sprintf("PID %d is alive. Keeping %s", child.Process.Pid, p), "Removed 0  -  1 alive")
		if !testutil.Exists(t, p) {
			t.Error("file removed")
		}
	})
}

func TestSymlinkToStaleFile(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := testutil.WriteFile(t, elsewhere, "target.mmstats", v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now()))
	link := filepath.Join(dir, "link.mmstats")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{dir, link} {
		r := clean(t, 0, arg)
		hasLines(t, r.Stdout, "Symlink, not followed: "+link, "Removed 0  -  0 alive")
		if !testutil.Exists(t, link) || !testutil.Exists(t, target) {
			t.Fatalf("cleanstats %s removed the link or its target", arg)
		}
	}
}

func TestNotStatsFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.mmstats")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.mmstats")
	os.Mkdir(sub, 0o755)
	invalid := testutil.WriteFile(t, dir, "invalid.mmstats", []byte("#!/bin/sh\necho not stats\n"))
	// A v1 file of the Python writer's other fields, without sys.pid.
	noPID := testutil.WriteFile(t, dir, "nopid.mmstats", append([]byte{1}, v1file.Python(1, 0, 1)[1+2+7+2+1+1+4:]...))
	zero := testutil.WriteFile(t, dir, "zero.mmstats", v1file.Python(0, 0, testutil.Now()))
	// The directory (the types its listing gives), and the files named
	// (each checked with lstat; a directory named is one to look in).
	for _, args := range [][]string{{dir}, {fifo, invalid, noPID, zero}} {
		start := time.Now()
		r := clean(t, 0, args...)
		if time.Since(start) > 10*time.Second {
			t.Errorf("took %v", time.Since(start))
		}
		lines := []string{
			"Not a regular file (FIFO): " + fifo,
			"Not a regular file (directory): " + sub,
			"Invalid file: " + invalid + " (not an mmstats v1 file: version byte is 0x23 (at offset 0))",
			"File has no sys.pid entry: " + noPID,
			"Invalid file: " + zero + " (sys.pid is not a process ID: 0)",
			"Removed 0  -  0 alive",
		}
		if len(args) > 1 {
			lines = append(lines[:1], lines[2:]...)
		}
		hasLines(t, r.Stdout, lines...)
		for _, p := range []string{fifo, sub, invalid, noPID, zero} {
			if !testutil.Exists(t, p) {
				t.Errorf("%s removed", p)
			}
		}
	}
}

// unshareArgs returns the command prefix that starts a process in a new
// PID namespace, or skips the test.
func unshareArgs(t *testing.T) []string {
	t.Helper()
	var tries [][]string
	if os.Geteuid() == 0 {
		tries = append(tries, []string{"unshare", "--pid", "--fork", "--kill-child"})
	}
	tries = append(tries, []string{"unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child"})
	var errs []string
	for _, args := range tries {
		out, err := exec.Command(args[0], append(args[1:], "true")...).CombinedOutput()
		if err == nil {
			return args
		}
		errs = append(errs, fmt.Sprintf("%v: %v %s", args, err, out))
	}
	t.Skipf("cannot start a process in a new PID namespace: %s", strings.Join(errs, "; "))
	return nil
}

// TestPIDNamespace: the writer's sys.pid is 1 in its namespace, which on
// the host names init, alive. The lock decides.
func TestPIDNamespace(t *testing.T) {
	prefix := unshareArgs(t)
	dir := t.TempDir()
	w, path := testutil.StartWriterVia(t, prefix, "-dir", dir, "-name", "ns.mmstats", "-keep")
	stats, err := reader.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Label == "sys.pid" && s.Value.Uint() != 1 {
			t.Fatalf("sys.pid is %v: not in a new PID namespace?", s.Value)
		}
	}
	r := clean(t, 0, "-v", dir)
	hasLines(t, r.Stdout, "Writer (PID 1) holds its lock. Keeping "+path, "Removed 0  -  1 alive")
	w.CloseStdin()
	if err := w.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("writer: %v: %s", err, w.Stderr())
	}
	if !testutil.Exists(t, path) {
		t.Fatal("the writer removed its file despite -keep")
	}
	r = clean(t, 0, dir)
	hasLines(t, r.Stdout, "Writer (PID 1) no longer holds its lock. Deleting "+path, "Removed 1  -  0 alive")
	if testutil.Exists(t, path) {
		t.Error("file still there")
	}
}

func TestFlags(t *testing.T) {
	setup := func(t *testing.T) (dir, stale, live string) {
		dir = t.TempDir()
		stale = testutil.WriteFile(t, dir, "stale.mmstats", v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now()))
		live = testutil.WriteFile(t, dir, "live.mmstats", v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now()))
		return
	}
	t.Run("dry-run", func(t *testing.T) {
		dir, stale, live := setup(t)
		r := clean(t, 0, "--dry-run", dir)
		pid := binary.NativeEndian.Uint32(must(os.ReadFile(stale))[1+2+7+2+1+1:])
		hasLines(t, r.Stdout, fmt.Sprintf("PID %d not found. Would delete %s", pid, stale), "Would remove 1  -  1 alive")
		if !testutil.Exists(t, stale) || !testutil.Exists(t, live) {
			t.Error("dry run removed a file")
		}
	})
	t.Run("quiet", func(t *testing.T) {
		dir, stale, _ := setup(t)
		r := clean(t, 0, "-q", dir)
		if r.Stdout != "" || r.Stderr != "" || testutil.Exists(t, stale) {
			t.Errorf("stdout %q, stderr %q, stale exists %v", r.Stdout, r.Stderr, testutil.Exists(t, stale))
		}
	})
	t.Run("json", func(t *testing.T) {
		dir, stale, live := setup(t)
		os.Mkdir(filepath.Join(dir, "sub.mmstats"), 0o755)
		r := clean(t, 0, "--json", dir)
		want := map[string]string{stale: "removed", live: "alive", filepath.Join(dir, "sub.mmstats"): "skipped"}
		lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), r.Stdout)
		}
		for _, l := range lines {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			for _, k := range []string{"path", "pid", "decision", "reason", "message"} {
				if _, ok := v[k]; !ok {
					t.Errorf("line %q has no %q", l, k)
				}
			}
			path, _ := v["path"].(string)
			if v["decision"] != want[path] {
				t.Errorf("%s: decision %v, want %s", path, v["decision"], want[path])
			}
			if _, isNum := v["pid"].(float64); isNum != (want[path] != "skipped") {
				t.Errorf("%s: pid %v", path, v["pid"])
			}
		}
	})
	t.Run("help", func(t *testing.T) {
		r := clean(t, 0, "--help")
		for _, s := range []string{"Examples:", "crontab", "cleanstats -q", "--dry-run", "--json"} {
			if !strings.Contains(r.Stdout, s) {
				t.Errorf("--help lacks %q", s)
			}
		}
		if r := clean(t, 0, "--version"); !strings.HasPrefix(r.Stdout, "cleanstats ") {
			t.Errorf("--version: %q", r.Stdout)
		}
		clean(t, 2, "--no-such-flag")
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPermissionDenied: files that cannot be opened or removed give one
// stderr line each and exit status 1; the other files are still handled.
func TestPermissionDenied(t *testing.T) {
	base := testutil.SharedDir(t, 0o755)
	ro, rw := filepath.Join(base, "ro"), filepath.Join(base, "rw")
	os.Mkdir(ro, 0o755)
	os.Mkdir(rw, 0o777)
	os.Chmod(rw, 0o777) // whatever the umask
	stale := v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now())
	locked := testutil.WriteFile(t, ro, "a.mmstats", stale)
	secret := testutil.WriteFile(t, ro, "b.mmstats", stale)
	os.Chmod(secret, 0)
	free := testutil.WriteFile(t, rw, "c.mmstats", stale)

	args := []string{ro, rw}
	var r testutil.Result
	if os.Geteuid() == 0 {
		r = testutil.RunAs(t, testutil.Nobody(t, "cleanstats as another user"), bin(t), args...)
	} else {
		os.Chmod(ro, 0o555)
		r = testutil.Run(t, nil, bin(t), args...)
	}
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	want := "cleanstats: " + locked + ": cannot remove: permission denied\n" +
		"cleanstats: " + secret + ": open: permission denied\n"
	if r.Stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.Stderr, want)
	}
	if !strings.HasSuffix(r.Stdout, "Deleting "+free+"\nRemoved 1  -  0 alive\n") {
		t.Errorf("stdout:\n%s", r.Stdout)
	}
	if !testutil.Exists(t, locked) || !testutil.Exists(t, secret) || testutil.Exists(t, free) {
		t.Error("wrong files removed")
	}

	// -q prints the errors only.
	os.Chmod(rw, 0o777)
	testutil.WriteFile(t, rw, "d.mmstats", stale)
	os.Chmod(filepath.Join(rw, "d.mmstats"), 0o644)
	args = append([]string{"-q"}, args...)
	if os.Geteuid() == 0 {
		r = testutil.RunAs(t, testutil.Nobody(t, "cleanstats as another user"), bin(t), args...)
	} else {
		r = testutil.Run(t, nil, bin(t), args...)
	}
	if r.Code != 1 || r.Stdout != "" || r.Stderr != want {
		t.Errorf("-q: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// TestTenThousandFiles cleans 10,000 files, half of them stale.
func TestTenThousandFiles(t *testing.T) {
	const n = 10000
	dir := testutil.MemDir(t)
	live := v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now())
	stale := v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now())
	var keep []string
	for i := 0; i < n; i += 2 {
		keep = append(keep, fmt.Sprintf("f%05d.mmstats", i))
	}
	start := time.Now()
	for i := range n {
		data := stale
		if i%2 == 0 {
			data = live
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.mmstats", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d files in %s in %v", n, dir, time.Since(start).Round(time.Millisecond))

	// Run the binary directly, to log its CPU time beside the wall time.
	cmd := exec.Command(bin(t), dir)
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	start = time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	out := stdout.String()
	if want := fmt.Sprintf("Removed %d  -  %d alive\n", n/2, n/2); !strings.HasSuffix(out, want) {
		t.Errorf("summary: %q", out[max(0, len(out)-100):])
	}
	if lines := strings.Count(out, " not found. Deleting "); lines != n/2 {
		t.Errorf("%d lines say a file was deleted, want %d", lines, n/2)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, keep) {
		t.Errorf("%d files left, want the %d live ones", len(names), len(keep))
	}
	t.Logf("cleanstats over %d files (%d stale, removed): %v wall, %v user + %v system CPU",
		n, n/2, elapsed.Round(time.Millisecond), cmd.ProcessState.UserTime().Round(time.Millisecond), cmd.ProcessState.SystemTime().Round(time.Millisecond))

	start = time.Now()
	r := clean(t, 0, "-q", dir)
	if r.Stdout != "" || !testutil.Exists(t, filepath.Join(dir, keep[0])) {
		t.Errorf("second pass: %q", r.Stdout)
	}
	t.Logf("second pass over the %d live files: %v", n/2, time.Since(start).Round(time.Millisecond))
}
