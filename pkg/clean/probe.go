package clean

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Probe is how a Cleaner asks the system about processes and locks.
// SystemProbe is the real one; tests inject fakes to reach every rule.
type Probe interface {
	// Signal sends signal 0 to pid and returns kill(2)'s error: nil or
	// EPERM mean that a process with that ID exists, ESRCH that none
	// does. The Cleaner only passes a positive pid_t.
	Signal(pid int) error
	// Process returns the real uid and start time of process pid. An
	// error wrapping fs.ErrNotExist means there is no such process (or it
	// is hidden, as with the hidepid mount option).
	Process(pid int) (Process, error)
	// TryLock tries to take an exclusive flock on fd without blocking. It
	// returns false when someone else holds a lock on the file. A lock
	// taken is released when fd is closed.
	TryLock(fd int) (bool, error)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: fixed at 100
// by the Linux ABI whatever the kernel's own HZ.
const clockTicks = 100

// parseBootTime returns btime (boot time, UNIX seconds) from /proc/stat.
func parseBootTime(stat []byte) (int64, error) {
	for line := range bytes.Lines(stat) {
		if rest, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			return strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
		}
	}
	return 0, errors.New("/proc/stat has no btime line")
}

// parseStartTicks returns field 22 of /proc/PID/stat, the start time in
// clock ticks after boot. Field 2, the command name in parentheses, may
// hold spaces and parentheses itself, so fields are counted from the last
// ')'.
func parseStartTicks(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	fields := bytes.Fields(stat[i+1:]) // fields[0] is field 3, the state
	const starttime = 22 - 3
	if len(fields) <= starttime {
		return 0, errors.New("malformed /proc/PID/stat: too few fields")
	}
	return strconv.ParseUint(string(fields[starttime]), 10, 64)
}

// parseRealUID returns the real uid, the first number of the "Uid:" line
// of /proc/PID/status.
func parseRealUID(status []byte) (uint64, error) {
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("Uid:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseUint(string(f[0]), 10, 64)
		}
	}
	return 0, fmt.Errorf("malformed /proc/PID/status: no Uid line")
}
