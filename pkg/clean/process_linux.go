package clean

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
)

// procTable reads processes in /proc: the real uid in /proc/PID/status,
// the start time from /proc/stat's btime and /proc/PID/stat's starttime.
type procTable struct {
	once     sync.Once
	btime    int64
	btimeErr error
}

func (p *procTable) process(pid int) (Process, error) {
	p.once.Do(func() {
		b, err := os.ReadFile("/proc/stat")
		if err == nil {
			p.btime, err = parseBootTime(b)
		}
		p.btimeErr = err
	})
	if p.btimeErr != nil {
		return Process{}, p.btimeErr
	}
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return Process{}, err
	}
	uid, err := parseRealUID(status)
	if err != nil {
		return Process{}, fmt.Errorf("%s/status: %w", dir, err)
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return Process{}, err
	}
	ticks, err := parseStartTicks(stat)
	if err != nil {
		return Process{}, fmt.Errorf("%s/stat: %w", dir, err)
	}
	return Process{UID: uid, Start: float64(p.btime) + float64(ticks)/clockTicks}, nil
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
