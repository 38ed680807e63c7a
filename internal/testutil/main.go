package testutil

import (
	"fmt"
	"os"
	"testing"
)

// mainCalled records that the test binary runs under Main, which removes
// the directory Binary builds into.
var mainCalled bool

// Main runs the tests of a package that uses Binary, then removes the
// binaries it built, and exits with the tests' status. Such a package
// has a main_test.go holding
//
//	func TestMain(m *testing.M) { testutil.Main(m) }
//
// (a TestMain with roles of its own calls Main last). Binary fails a test
// of a package that forgot: the binaries, about 20 MB each, would stay in
// the temp dir after every run.
func Main(m *testing.M) {
	mainCalled = true
	code := m.Run()
	if err := removeBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, "testutil:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// removeBinaries removes the directory Binary built into, if any.
func removeBinaries() error {
	buildMu.Lock()
	defer buildMu.Unlock()
	if binDir == "" {
		return nil
	}
	err := os.RemoveAll(binDir)
	binDir, built = "", map[string]string{}
	return err
}
