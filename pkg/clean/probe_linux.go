//go:build linux

package clean

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// SystemProbe returns the Probe of the running system: kill(2), /proc and
// flock(2). It is safe for concurrent use.
func SystemProbe() Probe { return &systemProbe{} }

type systemProbe struct {
	once     sync.Once
	btime    int64
	btimeErr error
}

func (*systemProbe) Signal(pid int) error {
	if pid <= 0 || pid > maxPID {
		return unix.EINVAL // never kill(0) or kill(-1): process groups
	}
	return unix.Kill(pid, 0)
}

func (p *systemProbe) Process(pid int) (Process, error) {
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

func (*systemProbe) TryLock(fd int) (bool, error) { return lockExclusive(fd) }
