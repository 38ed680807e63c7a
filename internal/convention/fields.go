package convention

import "strings"

// The labels of the default fields that every stats file carries. The
// Python writer writes the first four, the Go writer all of them (and
// org.golang.version). A tool finds them by suffix (DefaultField): a
// writer may put a prefix before every label (the Go writer's
// LabelPrefix), as cleanstats 0.8.0 found sys.pid.
const (
	PID     = "sys.pid"     // the writer's process ID
	TID     = "sys.tid"     // the ID of the thread that created the file
	UID     = "sys.uid"     // the writer's real user ID
	GID     = "sys.gid"     // the writer's real group ID
	Created = "sys.created" // when the file was created, in seconds since the epoch
	Flock   = "sys.flock"   // true: the writer holds a shared flock(2) on the file while it lives
	// ID is a random 64-bit number that names the file for folding
	// (see totals.go): a PID collides across PID namespaces, and a
	// device and inode change when the writer grows the file and are
	// reused once it is gone.
	ID = "sys.id"
	// Totals is the base name of the totals file the file is folded
	// into once its writer is gone (TotalsName); only files whose name
	// template has {PID} carry it.
	Totals = "sys.totals"
)

// Defaults are the default fields' labels, in the order the Go writer
// writes them (sys.totals only when it has one).
var Defaults = [...]string{PID, TID, UID, GID, Created, ID, Totals, Flock}

// DefaultField returns the default field that label is (its suffix among
// Defaults), or "" for a label that is none.
func DefaultField(label string) string {
	for _, d := range Defaults {
		if strings.HasSuffix(label, d) {
			return d
		}
	}
	return ""
}

// IsProcessInfo reports whether label is a default field that describes
// the writer's process rather than measures anything (PID, TID, UID,
// GID): tools show it as a fact about the file, not as a series, where
// the file has no metadata to say so (the Python writer's files).
func IsProcessInfo(label string) bool {
	switch DefaultField(label) {
	case PID, TID, UID, GID:
		return true
	}
	return false
}
