package v1file

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestBytes(t *testing.T) {
	b := Bytes(0,
		Unbuffered("ab", "Q", U64(7)),
		Field{Label: "c", Type: "I", WriteBuffer: 1, Value: append(U32(1), U32(2)...)},
		Unbuffered("s", "4s", Str("hi", 4)))
	u16 := func(n uint16) []byte { return binary.NativeEndian.AppendUint16(nil, n) }
	var want []byte
	for _, part := range [][]byte{
		{1},                                 // 0: version
		u16(2), []byte("ab"), u16(1), {'Q'}, // 1-2, 3-4, 5-6, 7
		{0xff}, U64(7), // 8: unbuffered, 9-16: value
		u16(1), []byte("c"), u16(1), {'I'}, // 17-18, 19, 20-21, 22
		{1}, U32(1), U32(2), // 23: write_buffer, 24-31: buffers
		u16(1), []byte("s"), u16(2), []byte("4s"), // 32-33, 34, 35-36, 37-38
		{0xff}, {'h', 'i', 0, 0}, // 39, 40-43
	} {
		want = append(want, part...)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("got\n% x\nwant\n% x", b, want)
	}
	for _, c := range []struct {
		off  int
		want []byte
	}{
		{0, []byte{1}}, {1, u16(2)}, {3, []byte("ab")}, {5, u16(1)}, {7, []byte("Q")},
		{8, []byte{0xff}}, {9, U64(7)},
		{17, u16(1)}, {19, []byte("c")}, {22, []byte("I")}, {23, []byte{1}}, {24, U32(1)}, {28, U32(2)},
		{34, []byte("s")}, {35, u16(2)}, {37, []byte("4s")}, {39, []byte{0xff}}, {40, []byte("hi\x00\x00")},
	} {
		if got := b[c.off : c.off+len(c.want)]; !bytes.Equal(got, c.want) {
			t.Errorf("at offset %d: % x, want % x", c.off, got, c.want)
		}
	}
	if len(b) != 44 {
		t.Errorf("%d bytes, want 44", len(b))
	}

	for _, tt := range []struct{ pad, size int }{{0, 1}, {4096, 4096}, {8, 8}, {1, 1}} {
		if got := len(Bytes(tt.pad)); got != tt.size {
			t.Errorf("Bytes(%d) of no fields has %d bytes, want %d", tt.pad, got, tt.size)
		}
	}
	big := Bytes(4096, Unbuffered("x", "5000s", Str("", 5000)))
	if len(big) != 8192 || !bytes.Equal(big[1+2+1+2+5+1+5000:], make([]byte, 8192-5012)) {
		t.Errorf("padded to %d bytes, want 8192 zero-padded", len(big))
	}
	exact := Bytes(4, Unbuffered("", "", []byte{2, 3, 4, 5, 6, 7}))
	if len(exact) != 12 {
		t.Errorf("a file of a multiple of pad is padded: %d bytes, want 12", len(exact))
	}
}

func TestValues(t *testing.T) {
	if got := binary.NativeEndian.Uint32(U32(0xdeadbeef)); got != 0xdeadbeef || len(U32(0)) != 4 {
		t.Errorf("U32: %x", got)
	}
	if got := int64(binary.NativeEndian.Uint64(I64(-5))); got != -5 {
		t.Errorf("I64: %d", got)
	}
	if got := math.Float64frombits(binary.NativeEndian.Uint64(F64(1.5))); got != 1.5 {
		t.Errorf("F64: %v", got)
	}
	if got := Str("hello", 3); string(got) != "hel" {
		t.Errorf("Str cut: %q", got)
	}
	if got := Str("ab", 4); !bytes.Equal(got, []byte{'a', 'b', 0, 0}) {
		t.Errorf("Str padded: %q", got)
	}
}

func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "a.mmstats")
	fields := []Field{Unbuffered("n", "Q", U64(42))}
	if got := Write(t, path, fields...); got != path {
		t.Errorf("Write returned %q, want %q", got, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, Bytes(4096, fields...)) || len(data) != 4096 {
		t.Errorf("file has %d bytes, not Bytes(4096, ...)", len(data))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&^0o644 != 0 {
		t.Errorf("mode %v, want at most 0644", fi.Mode())
	}
}
