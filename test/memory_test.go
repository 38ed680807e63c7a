//go:build unix

package test

// Memory per file: a crafted file of millions of the smallest fields v1
// allows must not make a reader hold a few hundred bytes for each (it
// used to: 2.8 GB for a 63 MB file). slurpstats streams its output and
// keeps 4 bytes a field; pollstats keeps the same index per file.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"github.com/mmstats/mmstats/internal/v1"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

// craftedSize is the size of the crafted files: that of the report.
const craftedSize = 63_000_000

// memoryBound is the most memory (peak RSS) a reader may use for a file
// of size bytes: 8 times its size, and 64 MiB for the program itself.
func memoryBound(size int64) int64 { return 8*size + 64<<20 }

// writeFields writes a v1 file of about size bytes made of the field
// that next returns for each index, and returns its size.
func writeFields(t *testing.T, path string, size int, next func(i int) (label, typ string, value byte)) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteByte(reader.Version1)
	n := 1
	var b []byte
	for i := 0; n < size; i++ {
		label, typ, v := next(i)
		b = binary.NativeEndian.AppendUint16(b[:0], uint16(len(label)))
		b = append(b, label...)
		b = binary.NativeEndian.AppendUint16(b, uint16(len(typ)))
		b = append(b, typ...)
		b = append(b, v1.Unbuffered, v)
		w.Write(b)
		n += len(b)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return int64(n)
}

// tinyFields writes the smallest fields v1 allows, 8 bytes each: a
// 1-byte label (a to z), the type "B", the write_buffer byte and one
// byte of value.
func tinyFields(t *testing.T, path string) int64 {
	return writeFields(t, path, craftedSize, func(i int) (string, string, byte) {
		return string(rune('a' + i%26)), "B", byte(i)
	})
}

// hugeGroup writes one group of millions of fields, as no writer makes:
// a head with its sequence word, then members of 13 bytes each.
func hugeGroup(t *testing.T, path string) int64 {
	head, _ := v1.EncodeMeta(v1.Meta{Role: int(reader.GroupHead)})
	member, _ := v1.EncodeMeta(v1.Meta{Role: int(reader.GroupMember)})
	headType := string(head[:]) + "               B" // room for the 8-aligned sequence word
	memberType := string(member[:]) + "B"
	return writeFields(t, path, craftedSize, func(i int) (string, string, byte) {
		if i == 0 {
			return "g", headType, 1
		}
		return "m", memberType, 1
	})
}

// runMeasured runs bin with its output thrown away and returns its exit
// status, stderr and peak RSS in bytes.
func runMeasured(t *testing.T, bin string, args ...string) (code int, stderr string, rss int64) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb // stdout: /dev/null
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the child")
	}
	return code, errb.String(), int64(ru.Maxrss) * 1024 // kilobytes on Linux
}

// TestMemoryPerFileIsBounded runs slurpstats (text, JSON, table) and
// pollstats over crafted files of 63 MB, one of 7.9 million 8-byte fields
// and one that is a single group of 4.8 million fields, and checks that
// each stays within 8 times the file's size and 64 MiB.
func TestMemoryPerFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "tiny.mmstats")
	group := filepath.Join(dir, "group.mmstats")
	sizes := map[string]int64{tiny: tinyFields(t, tiny), group: hugeGroup(t, group)}
	for _, tt := range []struct {
		name string
		bin  string
		args []string
	}{
		{"slurpstats text", slurpstats(t), []string{tiny}},
		{"slurpstats --json", slurpstats(t), []string{"--json", tiny}},
		{"slurpstats -o table", slurpstats(t), []string{"-o", "table", tiny}},
		{"pollstats", pollstats(t), []string{"-a", "-c", "1", "-d", "0.05", "z", tiny}},
		{"slurpstats --json, one huge group", slurpstats(t), []string{"--json", group}},
		{"pollstats, one huge group", pollstats(t), []string{"-a", "-c", "1", "-d", "0.05", "m", group}},
	} {
		path := tt.args[len(tt.args)-1]
		code, stderr, rss := runMeasured(t, tt.bin, tt.args...)
		noCrash(t, tt.name, stderr)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tt.name, code, stderr)
		}
		bound := memoryBound(sizes[path])
		t.Logf("%s over %d MB: peak RSS %d MB (bound %d MB)", tt.name, sizes[path]/1e6, rss/1e6, bound/1e6)
		if rss > bound {
			t.Errorf("%s: peak RSS %d MB over a %d MB file, more than the bound of %d MB", tt.name, rss/1e6, sizes[path]/1e6, bound/1e6)
		}
	}
}
