package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// QuickEnv is the variable that lets a developer skip the tests that need
// a browser or a Prometheus server: MMSTATS_QUICK=1 scripts/test. CI
// leaves it unset and runs them all.
const QuickEnv = "MMSTATS_QUICK"

// Quick reports whether MMSTATS_QUICK asks to skip the heavy tests.
func Quick() bool { v := os.Getenv(QuickEnv); return v != "" && v != "0" }

// Tool returns the path of an external program that a heavy test needs
// (chromium, prometheus, promtool), trying each name in turn. Under
// MMSTATS_QUICK=1 the test is skipped; otherwise a missing program fails
// it, naming the Debian package to install, so that CI can never pass by
// skipping.
func Tool(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	if Quick() {
		t.Skipf("%s=1: skipping a test that needs %s", QuickEnv, names[0])
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := "/usr/bin/" + name; fileExists(p) {
			return p
		}
	}
	t.Fatalf("this test needs %s, which is not installed: run `apt-get install %s` as root "+
		"(scripts/test does it when run as root), or set %s=1 to skip such tests", names[0], pkg, QuickEnv)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
