package pollstats

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// blockingPipe returns the ends of a pipe in blocking mode, as a shell
// gives pollstats its standard output (os.Pipe's are non-blocking).
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// The lines written through lineWriter to a pipe arrive whole and in
// order: those written at once, one that waits for a full pipe to be
// read (through the file, as the pipe polls unwritable), one longer than
// PIPE_BUF; and a pipe closed at its other end is an error.
func TestLineWriterPipe(t *testing.T) {
	r, w := blockingPipe(t)
	lw := lineWriter(w)
	if _, ok := lw.(*rawLines); !ok {
		t.Fatalf("lineWriter of a file is %T", lw)
	}
	var want bytes.Buffer
	write := func(s string) {
		t.Helper()
		want.WriteString(s)
		if n, err := lw.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write: %d, %v; want %d", n, err, len(s))
		}
	}
	got := make(chan []byte)
	read := func() { b, _ := io.ReadAll(r); got <- b }

	write("   12   3\n")
	write("")
	size, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Fill the pipe up; the next line must wait for the reader.
	fill := strings.Repeat("x", size-want.Len())
	if _, err := unix.Write(int(w.Fd()), []byte(fill)); err != nil {
		t.Fatal(err)
	}
	want.WriteString(fill)
	// A full pipe is not written to with a raw system call, which would
	// wait with the runtime unaware.
	now := make(chan int, 1)
	go func() { now <- writeNow(int(w.Fd()), []byte("z\n")) }()
	select {
	case n := <-now:
		if n != 0 {
			t.Fatalf("writeNow to a full pipe wrote %d bytes", n)
		}
	case <-time.After(time.Minute):
		t.Fatal("writeNow waited on a full pipe")
	}
	go read()
	write("   13   4\n")
	write(strings.Repeat("y", 3*pipeBuf) + "\n")
	w.Close()
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Errorf("read %d bytes, want %d: the lines lost or out of order", len(b), want.Len())
	}

	r2, w2 := blockingPipe(t)
	r2.Close()
	if _, err := lineWriter(w2).Write([]byte("line\n")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Write to a pipe closed at its other end: %v, want EPIPE", err)
	}
}

// Any other writer is written to as it is.
func TestLineWriterOther(t *testing.T) {
	var b bytes.Buffer
	if lw := lineWriter(&b); lw != io.Writer(&b) {
		t.Errorf("lineWriter of a buffer is %T", lw)
	}
}

// fstatNow gives what fstat gives of a directory's O_PATH descriptor,
// and an error for a descriptor that is not open.
func TestFstatNow(t *testing.T) {
	dir := t.TempDir()
	fd, err := openDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDir(fd)
	var got, want unix.Stat_t
	if err := fstatNow(fd, &got); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(dir, &want); err != nil {
		t.Fatal(err)
	}
	if got.Dev != want.Dev || got.Ino != want.Ino || got.Mtim != want.Mtim || got.Ctim != want.Ctim || got.Mode != want.Mode {
		t.Errorf("fstatNow %+v, want %+v", got, want)
	}
	if err := fstatNow(-1, &got); !errors.Is(err, unix.EBADF) {
		t.Errorf("fstatNow(-1): %v, want EBADF", err)
	}
}
