package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Eventually calls cond every 20ms until it is true, or fails the test
// after timeout with msg().
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg())
		}
	}
}

// SharedDir returns a new directory of the given mode, so that other
// users may enter it, removed at the end of the test whatever the modes
// the test left inside.
func SharedDir(t testing.TB, mode os.FileMode) string {
	t.Helper()
	d, err := os.MkdirTemp("", "mmstatstest-shared-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(d, func(p string, fi os.FileInfo, _ error) error {
			if fi != nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(d)
	})
	return d
}

// MemDir returns a new directory (mode 0755) on /dev/shm, a tmpfs where
// tens of thousands of files are memory, not disk blocks, or, without
// it, a SharedDir. It is removed at the end of the test.
func MemDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("/dev/shm", "mmstatstest-mem-")
	if err != nil {
		return SharedDir(t, 0o755)
	}
	os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// WriteFile writes data as dir/name, mode 0644 whatever the umask, and
// returns the path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Exists reports whether path exists (as a symlink, too); any error but
// "not found" fails the test.
func Exists(t testing.TB, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// Now returns the current time as sys.created holds it: seconds since
// the epoch.
func Now() float64 { return float64(time.Now().UnixNano()) / 1e9 }
