//go:build unix && !linux

package demo

import (
	"os"
	"syscall"
	"time"
)

// workerAttr returns the attributes of a worker process. It has a process
// group of its own, so that the terminal's signals (Ctrl-C) reach the
// supervisor alone, which forwards them. This system has no parent-death
// signal (Linux's Pdeathsig): the worker watches for itself (watchParent).
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// parentPoll is how often a worker checks that its supervisor lives.
const parentPoll = 200 * time.Millisecond

// watchParent sends this worker SIGTERM, as Linux's parent-death signal
// would, once its parent has died (even by SIGKILL): the process is then
// reparented, and getppid changes. Its SIGTERM handler removes its stats
// file.
func watchParent() {
	parent := os.Getppid()
	go func() {
		for os.Getppid() == parent {
			time.Sleep(parentPoll)
		}
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
}
