package reader

import (
	"encoding/binary"
	"errors"
	"github.com/mmstats/mmstats/internal/v1"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCopiesAreNotTorn exercises the fallback for processes out of
// mappings: the file is read into a private copy with pread while a
// writer updates a string (with the Go writer's protocol, through pwrite);
// the string read from the copy is always one that was written.
func TestCopiesAreNotTorn(t *testing.T) {
	copyOnly = true
	defer func() { copyOnly = false }()

	const size = 40
	values := map[string]bool{}
	var list []string
	for k := 0; k < 6; k++ {
		v := strings.Repeat(string(rune('a'+k)), 3+k*6)
		values[v] = true
		list = append(list, v)
	}
	// A buffered 40s string with a sequence word: label "s" at offset 1,
	// so the signature starts at 6; the word at 8 (8-aligned).
	typ := []byte("  " + string(v1.Alphabet[0:1]) + "       " + "40s")
	for i := 2; i < 10; i++ {
		typ[i] = v1.Alphabet[0]
	}
	data := []byte{Version1}
	data = binary.NativeEndian.AppendUint16(data, 1)
	data = append(data, 's')
	data = binary.NativeEndian.AppendUint16(data, uint16(len(typ)))
	data = append(data, typ...)
	wbOff := len(data)
	data = append(data, 0)
	bufOff := len(data)
	data = append(data, make([]byte, 2*size)...)
	copy(data[bufOff+size:], list[0]) // the read buffer
	data = append(data, make([]byte, 4096-len(data))...)
	path := filepath.Join(t.TempDir(), "s.mmstats")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Parse(data)
	if err != nil || l.Fields[0].Seq != 8 {
		t.Fatalf("layout %+v, %v", l, err)
	}

	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		var seq uint32
		cur := byte(0)
		buf := make([]byte, size)
		for k := 1; !stop.Load(); k++ {
			seq++
			word := v1.EncodeSeq(seq)
			w.WriteAt(word[:], 8)
			clear(buf)
			copy(buf, list[k%len(list)])
			w.WriteAt(buf, int64(bufOff+int(cur)*size))
			cur ^= 1
			w.WriteAt([]byte{cur}, int64(wbOff))
			seq++
			word = v1.EncodeSeq(seq)
			w.WriteAt(word[:], 8)
		}
	}()
	reads := 0
	for end := time.Now().Add(400 * time.Millisecond); time.Now().Before(end); reads++ {
		stats, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if v := stats[0].Value.Str(); !values[v] {
			stop.Store(true)
			t.Fatalf("torn string %q after %d reads", v, reads)
		}
	}
	stop.Store(true)
	<-done
	t.Logf("%d consistent reads of a private copy", reads)
}

// TestUpdateReadsACopyAgain: a private copy is read again in place,
// picks up appended fields, and notices a replaced file.
func TestUpdateReadsACopyAgain(t *testing.T) {
	copyOnly = true
	defer func() { copyOnly = false }()
	counter := func(label string, v uint64) []byte {
		b := binary.NativeEndian.AppendUint16(nil, uint16(len(label)))
		b = append(b, label...)
		b = binary.NativeEndian.AppendUint16(b, 1)
		b = append(b, 'Q', v1.Unbuffered)
		return binary.NativeEndian.AppendUint64(b, v)
	}
	data := append([]byte{Version1}, counter("a", 1)...)
	end := len(data)
	data = append(data, make([]byte, 4096-len(data))...)
	path := filepath.Join(t.TempDir(), "c.mmstats")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil || !f.IsCopy() {
		t.Fatalf("Open = %v (mapped %v), want a copy", err, !f.IsCopy())
	}
	defer f.Close()
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteAt(binary.NativeEndian.AppendUint64(nil, 42), int64(end-8))
	if v, _ := f.Value(0); v.Uint() != 1 {
		t.Fatalf("the copy changed before Update: %v", v)
	}
	if changed, err := f.Update(); err != nil || changed {
		t.Fatalf("Update = %v, %v", changed, err)
	}
	if v, _ := f.Value(0); v.Uint() != 42 {
		t.Fatalf("after Update a = %v, want 42", v)
	}
	w.WriteAt(counter("b", 7), int64(end))
	if changed, err := f.Update(); err != nil || !changed || len(f.Fields()) != 2 {
		t.Fatalf("Update after an append = %v, %v, %d fields", changed, err, len(f.Fields()))
	}
	if v, _ := f.Value(1); v.Uint() != 7 {
		t.Fatalf("b = %v, want 7", v)
	}
	os.Remove(path)
	os.WriteFile(path, data, 0o644)
	if _, err := f.Update(); !errors.Is(err, ErrReplaced) {
		t.Fatalf("Update of a replaced file = %v, want ErrReplaced", err)
	}
}
