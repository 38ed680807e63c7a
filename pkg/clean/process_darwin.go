package clean

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// procTable reads processes with sysctl kern.proc.pid: the real uid and
// the start time (microseconds) of struct kinfo_proc.
type procTable struct{}

func (procTable) process(pid int) (Process, error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err == unix.EIO { // an empty answer: no such process
		return Process{}, fmt.Errorf("sysctl kern.proc.pid.%d: %w", pid, fs.ErrNotExist)
	}
	if err != nil {
		return Process{}, fmt.Errorf("sysctl kern.proc.pid.%d: %w", pid, err)
	}
	start := k.Proc.P_starttime
	return Process{
		UID:   uint64(k.Eproc.Pcred.P_ruid),
		Start: float64(start.Sec) + float64(start.Usec)/1e6,
	}, nil
}
