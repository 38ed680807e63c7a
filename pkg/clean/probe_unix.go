//go:build unix

package clean

import "golang.org/x/sys/unix"

// SystemProbe returns the Probe of the running system: kill(2), the
// process table (see the package documentation, "Other systems") and
// flock(2). It is safe for concurrent use.
func SystemProbe() Probe { return &systemProbe{} }

type systemProbe struct {
	procs procTable // process.go: the system's own way
}

func (*systemProbe) Signal(pid int) error {
	if pid <= 0 || pid > maxPID {
		return unix.EINVAL // never kill(0) or kill(-1): process groups
	}
	return unix.Kill(pid, 0)
}

func (p *systemProbe) Process(pid int) (Process, error) { return p.procs.process(pid) }

func (*systemProbe) TryLock(fd int) (bool, error) { return lockExclusive(fd) }

// takesLock reports whether p's TryLock takes a real lock on the file
// when it says the lock is free: the system's does (flock), so that the
// removal need not take it again; a test's fake may not.
func takesLock(p Probe) bool {
	_, ok := p.(*systemProbe)
	return ok
}
