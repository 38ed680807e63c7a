//go:build !unix

package demo

// The demo passes a listening socket and a pipe to worker processes as
// inherited descriptors, and its workers publish with the writer: both
// need a Unix system. Elsewhere (Windows) it builds, and fails at once
// with an error wrapping errors.ErrUnsupported.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
)

func workerAttr() *syscall.SysProcAttr { return nil }

func watchParent() {}

func diedOfStop(*os.ProcessState) bool { return false }

func isSocket(int) bool { return false }

func isPipe(int) bool { return false }

func socketFile(*net.TCPListener) (*os.File, error) {
	return nil, fmt.Errorf("mmstats-demo does not run on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
