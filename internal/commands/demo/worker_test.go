//go:build unix

package demo

import (
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDialAddr(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:5001", "127.0.0.1:5001"},
		{"0.0.0.0:80", "127.0.0.1:80"},
		{"[::]:80", "[::1]:80"},
		{"[::1]:8080", "[::1]:8080"},
		{"10.1.2.3:9", "10.1.2.3:9"},
	}
	for _, tt := range tests {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := dialAddr(a); got != tt.want {
			t.Errorf("dialAddr(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

// TestInheritedKinds checks the checks a worker makes on its fds 3 and 4
// before trusting them.
func TestInheritedKinds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	reg, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()

	if !isSocket(int(sock.Fd())) || isPipe(int(sock.Fd())) {
		t.Error("a socket is not recognised")
	}
	if !isPipe(int(w.Fd())) || isSocket(int(w.Fd())) {
		t.Error("a pipe is not recognised")
	}
	if isSocket(int(reg.Fd())) || isPipe(int(reg.Fd())) {
		t.Error("a regular file passes for a socket or a pipe")
	}
	if isSocket(-1) || isPipe(-1) {
		t.Error("a closed descriptor passes")
	}
}

// TestSocketFileStaysNonBlocking checks that passing the socket to a
// worker, which calls Fd, leaves the socket non-blocking for the workers
// already serving it.
func TestSocketFileStaysNonBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := socketFile(ln.(*net.TCPListener))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd()) // what exec does with ExtraFiles
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Error("the shared socket is in blocking mode after Fd")
	}
	if !isSocket(fd) {
		t.Error("socketFile is not a socket")
	}
}

// TestDiedOfStop: only a death by SIGTERM or SIGINT, the stop signals a
// worker catches once started, excuses a worker at the supervisor's stop.
func TestDiedOfStop(t *testing.T) {
	tests := []struct {
		sig  syscall.Signal // 0: exit 1 instead
		want bool
	}{{syscall.SIGTERM, true}, {syscall.SIGINT, true}, {syscall.SIGKILL, false}, {0, false}}
	for _, tt := range tests {
		cmd := exec.Command("sh", "-c", "exit 1")
		if tt.sig != 0 {
			cmd = exec.Command("sleep", "60")
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if tt.sig != 0 {
			cmd.Process.Signal(tt.sig)
		}
		cmd.Wait()
		if got := diedOfStop(cmd.ProcessState); got != tt.want {
			t.Errorf("%v (signal %v): diedOfStop %v, want %v", cmd.ProcessState, tt.sig, got, tt.want)
		}
	}
}
