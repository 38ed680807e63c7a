//go:build unix

package main

// End-to-end tests of what a user or a hostile file can throw at
// cleanstats: paths that do not exist, file names and labels holding
// terminal escapes, and a file of millions of tiny fields.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// TestMissingPaths: a path that does not exist is one line on stderr
// naming it, and exit status 1, whatever the form (a FILE, -q as in a
// crontab, MMSTATS_PATH or MMSTATS_GLOB naming a missing directory, a
// glob in one); the other arguments are still handled. An existing
// directory with nothing in it is no error.
func TestMissingPaths(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent")
	stale := func() string {
		return testutil.WriteFile(t, dir, "stale.mmstats", v1file.Python(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now()))
	}
	for _, tt := range []struct {
		name   string
		env    []string
		args   []string
		stderr string
		stdout string
	}{
		{"file", nil, []string{missing}, missing, "Removed 0  -  0 alive\n"},
		{"quiet", nil, []string{"-q", missing}, missing, ""},
		{"json", nil, []string{"--json", missing}, missing,
			`{"path":"` + missing + `","kind":"stats","pid":null,"decision":"error","reason":"open-failed","message":"No such file or directory"}` + "\n"},
		{"MMSTATS_PATH", []string{"MMSTATS_PATH=" + missing, "MMSTATS_GLOB="}, []string{"-q"}, missing, ""},
		{"MMSTATS_GLOB", []string{"MMSTATS_GLOB=" + missing + "/*.mmstats"}, []string{"-q"}, missing, ""},
		{"glob", nil, []string{"-q", missing + "/*.mmstats"}, missing, ""},
		{"file in a missing directory", nil, []string{"-q", missing + "/x.mmstats"}, missing + "/x.mmstats", ""},
		{"not a directory", nil, []string{"-q", "/etc/passwd/x.mmstats"}, "/etc/passwd/x.mmstats: not a directory", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := testutil.Run(t, tt.env, bin(t), tt.args...)
			want := "cleanstats: " + tt.stderr + ": no such file or directory\n"
			if strings.Contains(tt.stderr, ": ") {
				want = "cleanstats: " + tt.stderr + "\n"
			}
			if r.Code != 1 || r.Stderr != want || r.Stdout != tt.stdout {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 1, stderr %q, stdout %q", r.Code, r.Stderr, r.Stdout, want, tt.stdout)
			}
		})
	}
	t.Run("other arguments still handled", func(t *testing.T) {
		s := stale()
		r := testutil.Run(t, nil, bin(t), missing, dir)
		if r.Code != 1 || r.Stderr != "cleanstats: "+missing+": no such file or directory\n" || testutil.Exists(t, s) ||
			!strings.HasSuffix(r.Stdout, "Deleting "+s+"\nRemoved 1  -  0 alive\n") {
			t.Errorf("exit %d, stderr %q, stdout %q, stale file exists %v", r.Code, r.Stderr, r.Stdout, testutil.Exists(t, s))
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		empty := t.TempDir()
		for _, env := range [][]string{nil, {"MMSTATS_PATH=" + empty, "MMSTATS_GLOB="}} {
			args := []string{"-q", empty}
			if env != nil {
				args = []string{"-q"}
			}
			if r := testutil.Run(t, env, bin(t), args...); r.Code != 0 || r.Stderr != "" || r.Stdout != "" {
				t.Errorf("%v %v: exit %d, stderr %q", env, args, r.Code, r.Stderr)
			}
		}
	})
}

// TestEscapesQuoted: file names holding an escape sequence and a newline,
// and a label holding one, reach the terminal quoted, never raw: no
// output line can be forged, and the terminal cannot be driven.
func TestEscapesQuoted(t *testing.T) {
	dir := t.TempDir()
	evil := "evil\x1b[31m\nPID 1 not found. Deleting passwd\x1b]0;pwned\x07"
	quoted := `"evil\033[31m\nPID 1 not found. Deleting passwd\033]0;pwned\a"`
	dead := testutil.ExitedPID(t)
	stale := testutil.WriteFile(t, dir, evil+".mmstats", v1file.Python(dead, uint64(os.Getuid()), testutil.Now()))
	live := testutil.WriteFile(t, dir, evil+"-live.mmstats", v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now()))
	// A label with an escape, in a field whose type is broken: the reader's
	// error names the label.
	invalid := testutil.WriteFile(t, dir, "invalid.mmstats", v1file.Bytes(4096, v1file.Unbuffered("x\x1b[2J\n.sys.pid", "Z", []byte{0})))

	r := testutil.Run(t, nil, bin(t), "-v", dir)
	if r.Code != 0 {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
	if strings.ContainsAny(r.Stdout+r.Stderr, "\x1b\a") {
		t.Errorf("raw escapes in the output:\n%q", r.Stdout)
	}
	d := filepath.Dir(stale)
	hasLines(t, r.Stdout,
		fmt.Sprintf("PID %d not found. Deleting %s", dead, `"`+d+"/"+quoted[1:len(quoted)-1]+`.mmstats"`),
		fmt.Sprintf("PID %d is alive. Keeping %s", os.Getpid(), `"`+d+"/"+quoted[1:len(quoted)-1]+`-live.mmstats"`),
		"Removed 1  -  1 alive")
	if n := strings.Count(r.Stdout, "\n"); n != 4 {
		t.Errorf("%d lines, want 4 (a newline got through?):\n%s", n, r.Stdout)
	}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, "Invalid file: "+invalid+" (") && !strings.Contains(l, `\033[2J\n`) && !strings.Contains(l, `\x1b[2J\n`) {
			t.Errorf("the label is not quoted: %q", l)
		}
	}
	if testutil.Exists(t, stale) || !testutil.Exists(t, live) || !testutil.Exists(t, invalid) {
		t.Error("wrong files removed")
	}

	// On stderr too: a missing path with an escape in its name.
	r = testutil.Run(t, nil, bin(t), "-q", filepath.Join(dir, "gone\x1b]0;pwned\x07"))
	if want := "cleanstats: " + `"` + dir + `/gone\033]0;pwned\a"` + ": no such file or directory\n"; r.Code != 1 || r.Stderr != want {
		t.Errorf("exit %d, stderr %q, want %q", r.Code, r.Stderr, want)
	}
	// JSON stays JSON: the name as it is, escaped by JSON.
	testutil.WriteFile(t, dir, evil+".mmstats", v1file.Python(dead, uint64(os.Getuid()), testutil.Now()))
	r = testutil.Run(t, nil, bin(t), "--json", "-n", dir)
	if !strings.Contains(r.Stdout, `evil\u001b[31m\nPID 1 not found`) {
		t.Errorf("--json:\n%s", r.Stdout)
	}
}

// tinyFields writes a v1 file of size bytes holding as many fields as v1
// allows (8 bytes each: a one-byte label, a one-byte type, a write_buffer
// byte and a one-byte value), with sys.pid = pid last.
func tinyFields(t *testing.T, path string, size int, pid uint32) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	tail := v1file.Bytes(0, v1file.Unbuffered("sys.pid", "I", v1file.U32(pid)))[1:]
	w.WriteByte(1)
	field := []byte{1, 0, 'a', 1, 0, '?', 0xff, 1}
	binary.NativeEndian.PutUint16(field[0:], 1)
	binary.NativeEndian.PutUint16(field[3:], 1)
	for n := (size - 1 - len(tail)) / len(field); n > 0; n-- {
		w.Write(field)
	}
	w.Write(tail)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryBounded runs cleanstats on a 63 MB file of about 8 million
// tiny fields (sys.pid at the very end: the whole file must be walked).
// Its peak RSS must stay within 8 times the file's size plus 64 MiB; it
// used to be 2.98 GB, holding every field's layout.
func TestMemoryBounded(t *testing.T) {
	if testutil.Quick() {
		t.Skip("writes a 63 MB file; skipped under " + testutil.QuickEnv)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.mmstats")
	const size = 63 << 20
	dead := testutil.ExitedPID(t)
	tinyFields(t, path, size, dead)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin(t), path)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if want := fmt.Sprintf("PID %d not found. Deleting %s\nRemoved 1  -  0 alive\n", dead, path); stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	peak := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024 // kilobytes on Linux
	limit := 8*st.Size() + 64<<20
	t.Logf("result: cleanstats on a %d MB file of %d fields: peak RSS %d MB (bound %d MB), %v CPU",
		st.Size()>>20, (st.Size()-1)/8, peak>>20, limit>>20, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	if peak > limit {
		t.Errorf("peak RSS %d MB, more than 8 × %d MB + 64 MiB = %d MB", peak>>20, st.Size()>>20, limit>>20)
	}
}
