package clean

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
