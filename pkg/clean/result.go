package clean

import "strconv"

// Decision is what a Cleaner did with a file.
type Decision int

// The decisions. Only Removed changes anything on disk.
const (
	// Alive: the writer lives; the file is kept.
	Alive Decision = iota + 1
	// Removed: the writer is gone and the file was removed.
	Removed
	// WouldRemove: the writer is gone; a dry run left the file in place.
	WouldRemove
	// Skipped: the file is not one the Cleaner may judge or remove (a
	// symlink, not a regular file, invalid, no sys.pid, replaced, gone);
	// it is kept and reported.
	Skipped
	// Failed: the file could not be handled (permission denied, I/O
	// error); it is kept and Result.Err says why.
	Failed
	// Restored: a file found aside (Kind Aside) that is not a stale stats
	// file was put back under its name, Result.MovedTo.
	Restored
	// WouldRestore: a dry run left such a file aside.
	WouldRestore
)

var decisionNames = [...]string{
	Alive: "alive", Removed: "removed", WouldRemove: "would-remove", Skipped: "skipped",
	Failed: "error", Restored: "restored", WouldRestore: "would-restore",
}

// String returns the decision's name as cleanstats --json prints it:
// alive, removed, would-remove, skipped, error, restored or would-restore.
func (d Decision) String() string {
	if d > 0 && int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Reason says why a Cleaner decided as it did.
type Reason int

// The reasons.
const (
	// LockHeld (Alive): the writer holds its flock.
	LockHeld Reason = iota + 1
	// ProcessAlive (Alive): the PID exists, with the file's owner and a
	// start time that fits (or checks that could not be made).
	ProcessAlive
	// LockFree (stale): the file has the sys.flock marker and nobody holds
	// its lock.
	LockFree
	// NoProcess (stale): kill(pid, 0) failed with ESRCH.
	NoProcess
	// OtherUID (stale): the PID belongs to a process whose real uid is not
	// the file's sys.uid: the PID was reused.
	OtherUID
	// StartedAfter (stale): the PID belongs to a process that started
	// after the file was created: the PID was reused.
	StartedAfter
	// Symlink (Skipped): the path is a symlink.
	Symlink
	// NotRegular (Skipped): the path is a directory, FIFO, device or socket.
	NotRegular
	// Invalid (Skipped): not a valid v1 file, or sys.pid is no process ID.
	Invalid
	// NoPID (Skipped): the file has no sys.pid.
	NoPID
	// Replaced (Skipped): the path named another file at removal time.
	Replaced
	// Vanished (Skipped): the file was gone before it could be handled.
	Vanished
	// OpenFailed (Failed): the file or its directory could not be opened.
	OpenFailed
	// ReadFailed (Failed): the file could not be read.
	ReadFailed
	// ProbeFailed (Failed): kill or flock failed unexpectedly.
	ProbeFailed
	// RemoveFailed (Failed): the file could not be moved aside or
	// unlinked.
	RemoveFailed
	// Busy (Skipped): someone else, such as another Cleaner, holds a lock
	// on a file the PID rules found stale, or an exclusive lock on a file
	// found aside: it is theirs to handle.
	Busy
	// NameTaken (Failed): a file moved aside could not go back under its
	// name, which another file has taken since. It stays aside (reported
	// each run) until its name is free or it is stale.
	NameTaken
	// AbandonedTemporary (stale): a temporary file whose lock is free,
	// TemporaryMinAge old or more: its creator is gone.
	AbandonedTemporary
	// YoungTemporary (Skipped): a temporary file whose lock is free but
	// younger than TemporaryMinAge: its creator may be about to lock it.
	YoungTemporary
	// TotalsFile (Skipped): a totals file (Kind Totals), which holds the
	// counts of the files folded into it: never removed.
	TotalsFile
	// FoldFailed (Failed): a stale file could not be folded into its
	// totals file (Result.FoldedInto), so it was not removed: the totals
	// file's lock stayed taken, or the totals file could not be read or
	// replaced. Result.Err says why.
	FoldFailed
)

var reasonNames = [...]string{
	LockHeld: "lock-held", ProcessAlive: "pid-alive", LockFree: "lock-free",
	NoProcess: "no-process", OtherUID: "uid-differs", StartedAfter: "started-after",
	Symlink: "symlink", NotRegular: "not-regular", Invalid: "invalid", NoPID: "no-pid",
	Replaced: "replaced", Vanished: "vanished", OpenFailed: "open-failed",
	ReadFailed: "read-failed", ProbeFailed: "probe-failed", RemoveFailed: "remove-failed",
	Busy: "busy", NameTaken: "name-taken", AbandonedTemporary: "abandoned-temporary",
	YoungTemporary: "young-temporary", TotalsFile: "totals", FoldFailed: "fold-failed",
}

// String returns the reason's stable name, such as "no-process" or
// "uid-differs", as cleanstats --json prints it.
func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Stale reports whether the reason says that the writer is gone.
func (r Reason) Stale() bool {
	return r == LockFree || r == NoProcess || r == OtherUID || r == StartedAfter || r == AbandonedTemporary
}

// Writer is what a file says about the process that wrote it.
type Writer struct {
	PID        int64   // sys.pid; meaningful when HasPID
	HasPID     bool    // the file has an integer sys.pid
	UID        uint64  // sys.uid; meaningful when HasUID
	HasUID     bool    // the file has an integer sys.uid
	Created    float64 // sys.created, UNIX seconds; meaningful when HasCreated
	HasCreated bool    // the file has a finite, positive sys.created
	Flock      bool    // sys.flock is true: the writer holds a flock while alive
	// ID is sys.id, the random number that names the file when it is
	// folded (0: none, as in files of the Python writer).
	ID uint64
	// Totals is sys.totals, the name of the totals file that the file is
	// folded into when it is removed ("": none, the file is not folded).
	Totals string
	// IsTotals says that the file is a totals file: it has sys.folded
	// and no sys.pid.
	IsTotals bool
}

// Process is what the system says about a running process.
type Process struct {
	UID   uint64  // real user ID
	Start float64 // start time, UNIX seconds (on Linux: 1/100 s resolution, ±1 s)
}

// Result is the outcome for one path.
type Result struct {
	Path     string
	Kind     Kind // what the path's name says it is
	Decision Decision
	Reason   Reason
	// MovedTo is the other path of a move: for Restored (or WouldRestore)
	// the name the file went back to; when a file renamed over Path was
	// moved aside and could not go back (NameTaken, RemoveFailed), the
	// name it is kept under.
	MovedTo string
	// Err says why a file was skipped or failed (it wraps a sentinel error
	// or a system error); for Alive it may hold a /proc lookup error that
	// made the Cleaner skip the uid and start time checks.
	Err error
	// Writer is what the file says about its writer (zero if unread).
	Writer Writer
	// Process is what /proc said about Writer.PID, if it was looked up.
	Process *Process
	// FoldedInto is the path of the totals file that a stale file was
	// folded into before it was removed (Removed, and a removal that
	// failed after the fold), would be folded into (WouldRemove), or
	// could not be folded into (FoldFailed). It is "" for a file that
	// is not folded: one without sys.totals (the Python writer's, or a
	// template without {PID}).
	FoldedInto string
	// AlreadyFolded says that the totals file held the file already: a
	// folder was killed between the fold and the removal.
	AlreadyFolded bool
}
