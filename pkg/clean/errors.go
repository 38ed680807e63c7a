package clean

import "errors"

// Sentinel errors. Result.Err wraps one of them (or reader.ErrSymlink,
// reader.ErrNotRegular, a reader format error, or a system error), so
// callers can test with errors.Is.
var (
	// ErrNoPID means the file has no field whose label ends in sys.pid.
	ErrNoPID = errors.New("no sys.pid entry")
	// ErrBadPID means sys.pid cannot be a process ID: not an integer, 0,
	// negative or larger than a pid_t. Such a value is never passed to
	// kill, where 0 and -1 name process groups.
	ErrBadPID = errors.New("sys.pid is not a process ID")
	// ErrReplaced means the name pointed to another file when the file
	// was about to be removed; the new file is kept.
	ErrReplaced = errors.New("file was replaced before it could be removed")
	// ErrNameTaken means that a file moved aside could not go back under
	// its name, which another file took meanwhile: it is kept under the
	// name in Result.MovedTo, which later runs recognise.
	ErrNameTaken = errors.New("its name is taken")
	// ErrVanished means the file disappeared before it could be checked or
	// removed (its writer or another cleaner removed it).
	ErrVanished = errors.New("no such file")
	// ErrTooLarge means the file's fields run past its first 64 MiB: no
	// mmstats writer makes such files.
	ErrTooLarge = errors.New("file too large for an mmstats file")
)
