package fdio_test

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fdio"
)

// TestDirentCutShort: a record list cut short, or a record whose length
// is impossible, ends the parse without reading past it.
func TestDirentCutShort(t *testing.T) {
	rec := func(name string, reclen int) []byte {
		b := make([]byte, max(reclen, 19+len(name)+1))
		binary.NativeEndian.PutUint16(b[16:], uint16(reclen))
		b[18] = unix.DT_REG
		copy(b[19:], name)
		return b[:max(reclen, 0)]
	}
	good := rec("a.mmstats", 32)
	_, name, dtype, rest, ok := fdio.Dirent(append(good, rec("b", 24)...))
	if !ok || string(name) != "a.mmstats" || dtype != unix.DT_REG || len(rest) != 24 {
		t.Fatalf("Dirent: %q %d %d %v", name, dtype, len(rest), ok)
	}
	for _, bad := range [][]byte{good[:10], good[:31], rec("a", 12), rec("", 0)} {
		if _, _, _, _, ok := fdio.Dirent(bad); ok {
			t.Errorf("Dirent(% x): ok", bad)
		}
	}
}
