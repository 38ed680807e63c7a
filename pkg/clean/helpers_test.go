//go:build unix

package clean

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// pythonFields are the default fields of a Python mmstats 0.8.0 file.
func pythonFields(pid uint32, uid uint64, created float64) []v1file.Field {
	return []v1file.Field{
		v1file.Unbuffered("sys.pid", "I", v1file.U32(pid)),
		v1file.Unbuffered("sys.tid", "q", v1file.U64(uint64(pid))),
		v1file.Unbuffered("sys.uid", "Q", v1file.U64(uid)),
		v1file.Unbuffered("sys.gid", "Q", v1file.U64(uid)),
		v1file.Unbuffered("org.python.version", "256s", v1file.Str("2.7.18", 256)),
		v1file.Unbuffered("sys.created", "d", v1file.F64(created)),
	}
}

// pythonFile returns the bytes of a file as the Python writer makes them
// (no sys.flock marker).
func pythonFile(pid uint32, uid uint64, created float64) []byte {
	return v1file.Bytes(4096, pythonFields(pid, uid, created)...)
}

func now() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// write writes data to dir/name and returns the path.
func write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startSleep starts a sleep child, killed and reaped when the test ends.
func startSleep(t testing.TB) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func exists(t testing.TB, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}
