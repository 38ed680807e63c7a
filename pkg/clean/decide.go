package clean

import (
	"errors"
	"fmt"
	"syscall"
)

// verdict is the outcome of the liveness rules for one file. A stale file
// has decision Removed: the Cleaner then removes it, or not.
type verdict struct {
	decision Decision
	reason   Reason
	err      error
	proc     *Process
}

// judge applies the rules of the package documentation. It caches /proc
// lookups per PID for one run; kill(pid, 0) is cheap and asked each time.
type judge struct {
	probe Probe
	slack float64 // seconds a process may seem to start after sys.created
	procs map[int]procEntry
}

type procEntry struct {
	p   Process
	err error
}

func newJudge(p Probe, slack float64) *judge {
	return &judge{probe: p, slack: slack, procs: map[int]procEntry{}}
}

// decide judges a file's writer. tryLock takes the file's lock (used only
// for files with the sys.flock marker).
func (j *judge) decide(w *Writer, tryLock func() (bool, error)) verdict {
	if !w.HasPID {
		return verdict{decision: Skipped, reason: NoPID, err: ErrNoPID}
	}
	if !validPID(w.PID) {
		return verdict{decision: Skipped, reason: Invalid, err: fmt.Errorf("%w: %d", ErrBadPID, w.PID)}
	}
	if w.Flock {
		free, err := tryLock()
		switch {
		case err != nil:
			return verdict{decision: Failed, reason: ProbeFailed, err: fmt.Errorf("flock: %w", err)}
		case free:
			return verdict{decision: Removed, reason: LockFree}
		}
		return verdict{decision: Alive, reason: LockHeld}
	}
	v, cached := j.byPID(w)
	if cached && (v.reason == OtherUID || v.reason == StartedAfter) {
		// The cached process may have died and its PID been taken since:
		// look again before removing anything on its word.
		delete(j.procs, int(w.PID))
		v, _ = j.byPID(w)
	}
	return v
}

// byPID applies the PID rules; cached tells whether /proc facts came from
// the cache.
func (j *judge) byPID(w *Writer) (v verdict, cached bool) {
	pid := int(w.PID)
	if gone, err := j.gone(pid); err != nil {
		return verdict{decision: Failed, reason: ProbeFailed, err: err}, false
	} else if gone {
		return verdict{decision: Removed, reason: NoProcess}, false
	}
	if !w.HasUID && !w.HasCreated {
		return verdict{decision: Alive, reason: ProcessAlive}, false
	}
	e, cached := j.procs[pid]
	if !cached {
		e.p, e.err = j.probe.Process(pid)
		j.procs[pid] = e
	}
	if e.err != nil {
		// It may have exited since kill: ask again. Otherwise /proc hides
		// it (hidepid) or failed: what is known says alive.
		if gone, err := j.gone(pid); err == nil && gone {
			return verdict{decision: Removed, reason: NoProcess}, false
		}
		return verdict{decision: Alive, reason: ProcessAlive, err: fmt.Errorf("uid and start time not checked: %w", e.err)}, false
	}
	p := e.p
	switch {
	case w.HasUID && p.UID != w.UID:
		return verdict{decision: Removed, reason: OtherUID, proc: &p}, cached
	case w.HasCreated && p.Start > w.Created+j.slack:
		return verdict{decision: Removed, reason: StartedAfter, proc: &p}, cached
	}
	return verdict{decision: Alive, reason: ProcessAlive, proc: &p}, cached
}

// gone applies kill(pid, 0): ESRCH is gone; success and EPERM (a process
// of another user) are alive; anything else is an error.
func (j *judge) gone(pid int) (bool, error) {
	err := j.probe.Signal(pid)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return false, nil
	case errors.Is(err, syscall.ESRCH):
		return true, nil
	}
	return false, fmt.Errorf("kill(%d, 0): %w", pid, err)
}
