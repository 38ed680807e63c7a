// Package v1file builds mmstats v1 files, byte by byte, for tests: files
// of any layout, including ones the writer would never make. The format
// is in FORMAT-v1.md: a version byte (1), then per field a u16 label size,
// the label, a u16 type size, the type, the write_buffer byte and the
// value bytes, all in native byte order.
//
// It imports nothing from this module, so that the tests of any package
// (the reader's and the writer's too) can use it.
package v1file

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Field is one field of a file.
type Field struct {
	Label, Type string
	// WriteBuffer is the write_buffer byte: 0xff for an unbuffered field,
	// 0 or 1 for a double-buffered one (Value then holds both buffers).
	WriteBuffer byte
	Value       []byte
}

// Unbuffered returns an unbuffered field (write_buffer 0xff).
func Unbuffered(label, typ string, value []byte) Field {
	return Field{Label: label, Type: typ, WriteBuffer: 0xff, Value: value}
}

// Bytes returns a v1 file holding fields, zero-padded to a multiple of
// pad bytes (no padding if pad is 0).
func Bytes(pad int, fields ...Field) []byte {
	b := []byte{1}
	for _, f := range fields {
		b = binary.NativeEndian.AppendUint16(b, uint16(len(f.Label)))
		b = append(b, f.Label...)
		b = binary.NativeEndian.AppendUint16(b, uint16(len(f.Type)))
		b = append(b, f.Type...)
		b = append(b, f.WriteBuffer)
		b = append(b, f.Value...)
	}
	if pad > 0 && len(b)%pad != 0 {
		b = append(b, make([]byte, pad-len(b)%pad)...)
	}
	return b
}

// Write writes Bytes(4096, fields...) to path with mode 0644 (creating its
// directory if need be) and returns path. An existing file is overwritten
// in place: it keeps its inode.
func Write(t testing.TB, path string, fields ...Field) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, Bytes(4096, fields...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// U32 returns v in native byte order (type I).
func U32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// U64 returns v in native byte order (type Q).
func U64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

// I64 returns v in native byte order (type q).
func I64(v int64) []byte { return U64(uint64(v)) }

// F64 returns v in native byte order (type d).
func F64(v float64) []byte { return U64(math.Float64bits(v)) }

// Str returns s in n bytes, NUL-padded or cut (type Ns).
func Str(s string, n int) []byte {
	b := make([]byte, n)
	copy(b, s)
	return b
}
