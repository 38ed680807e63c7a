//go:build unix

package fdio_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/internal/fdio"
)

func TestReadAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		off, size, want int
	}{
		{0, 10, 10},
		{5, 100, 100},
		{9990, 100, 10}, // up to the end
		{10000, 10, 0},  // at the end
		{0, 20000, 10000},
	} {
		b := make([]byte, tc.size)
		n, err := fdio.ReadAt(int(f.Fd()), b, int64(tc.off))
		if err != nil || n != tc.want || !bytes.Equal(b[:n], data[tc.off:tc.off+n]) {
			t.Errorf("ReadAt(off %d, %d bytes) = %d, %v; want %d bytes of the file", tc.off, tc.size, n, err, tc.want)
		}
	}
	if _, err := fdio.ReadAt(-1, make([]byte, 1), 0); err == nil {
		t.Error("ReadAt of a bad descriptor: no error")
	}
}
