//go:build unix && !linux && !darwin

package clean

import (
	"errors"
	"fmt"
	"runtime"
)

// procTable cannot read processes here (FreeBSD among others: no /proc by
// default, and no kinfo_proc in golang.org/x/sys/unix): the uid and start
// time of a PID are not checked, and a PID that exists is alive.
type procTable struct{}

func (procTable) process(int) (Process, error) {
	return Process{}, fmt.Errorf("the process table cannot be read on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
