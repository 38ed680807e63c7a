package clean

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// field is one field of a test file. Unbuffered unless buffered is set,
// in which case value holds both buffers and wb the write_buffer byte.
type field struct {
	label, typ string
	value      []byte
	buffered   bool
	wb         byte
}

func u32(v uint32) []byte  { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte  { return binary.NativeEndian.AppendUint64(nil, v) }
func f64(v float64) []byte { return u64(math.Float64bits(v)) }
func str(s string, n int) []byte {
	b := make([]byte, n)
	copy(b, s)
	return b
}

// v1 returns the bytes of a v1 file holding fields, zero-padded to a page.
func v1(fields ...field) []byte {
	b := []byte{1}
	for _, f := range fields {
		b = binary.NativeEndian.AppendUint16(b, uint16(len(f.label)))
		b = append(b, f.label...)
		b = binary.NativeEndian.AppendUint16(b, uint16(len(f.typ)))
		b = append(b, f.typ...)
		if f.buffered {
			b = append(b, f.wb)
		} else {
			b = append(b, 0xff)
		}
		b = append(b, f.value...)
	}
	return append(b, make([]byte, 4096-len(b)%4096)...)
}

// pythonFields are the default fields of a Python mmstats 0.8.0 file.
func pythonFields(pid uint32, uid uint64, created float64) []field {
	return []field{
		{label: "sys.pid", typ: "I", value: u32(pid)},
		{label: "sys.tid", typ: "q", value: u64(uint64(pid))},
		{label: "sys.uid", typ: "Q", value: u64(uid)},
		{label: "sys.gid", typ: "Q", value: u64(uid)},
		{label: "org.python.version", typ: "256s", value: str("2.7.18", 256)},
		{label: "sys.created", typ: "d", value: f64(created)},
	}
}

// pythonFile returns the bytes of a file as the Python writer makes them
// (no sys.flock marker).
func pythonFile(pid uint32, uid uint64, created float64) []byte {
	return v1(pythonFields(pid, uid, created)...)
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

// exitedPID returns the PID of a child that has exited and been reaped.
func exitedPID(t testing.TB) uint32 {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(cmd.Process.Pid)
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
