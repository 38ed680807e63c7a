package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// childEnv makes the test binary, run again by TestMainRemovesBinaries,
// build a binary in TestBuildInChild and print its path.
const childEnv = "MMSTATSTEST_TESTUTIL_CHILD"

func TestBuildInChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		return // only the child of TestMainRemovesBinaries builds
	}
	fmt.Println("built:", Binary(t, "internal/testwriter"))
}

// TestMainRemovesBinaries runs a test that builds a binary in a child
// test process, and checks that the binary and its directory are gone once
// the process has exited through Main.
func TestMainRemovesBinaries(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBuildInChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var bin string
	for _, l := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(l, "built: "); ok {
			bin = p
		}
	}
	if bin == "" {
		t.Fatalf("the child printed no binary:\n%s", out)
	}
	if !strings.HasPrefix(filepath.Base(filepath.Dir(bin)), "mmstatstest-") {
		t.Errorf("binary %s is not in a mmstatstest-* directory", bin)
	}
	for _, p := range []string{bin, filepath.Dir(bin)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after the tests (%v)", p, err)
			defer os.RemoveAll(filepath.Dir(bin))
		}
	}
}

// fatalTB records a Fatal and ends its goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestBinaryNeedsMain checks that Binary refuses to build for a package
// whose tests do not run under Main: nothing would remove the binary.
func TestBinaryNeedsMain(t *testing.T) {
	mainCalled = false
	defer func() { mainCalled = true }()
	tb := &fatalTB{TB: t}
	done := make(chan string)
	go func() {
		defer func() { done <- "" }()
		done <- Binary(tb, "internal/testwriter")
	}()
	if p := <-done; p != "" {
		t.Fatalf("Binary built %s without Main", p)
	}
	if !strings.Contains(tb.msg, "testutil.Main") {
		t.Errorf("Binary failed with %q, want a pointer to testutil.Main", tb.msg)
	}
}
