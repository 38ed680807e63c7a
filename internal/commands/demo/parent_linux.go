package demo

import "syscall"

// workerAttr returns the attributes of a worker process: the kernel sends
// it SIGTERM when the supervisor dies, even by SIGKILL, and its SIGTERM
// handler removes its stats file. The signal is tied to the thread that
// started the worker; supervise keeps that thread (see LockOSThread). The
// worker has a process group of its own, so that the terminal's signals
// (Ctrl-C) reach the supervisor alone, which forwards them.
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}

// watchParent does nothing on Linux: the kernel signals the worker when
// its parent dies (workerAttr).
func watchParent() {}
