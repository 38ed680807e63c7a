package reader

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers can test with errors.Is.
var (
	// ErrEmpty means the file has no bytes at all.
	ErrEmpty = errors.New("empty file")
	// ErrVersion means the first byte is not a supported format version.
	ErrVersion = errors.New("not an mmstats v1 file")
	// ErrTruncated means a field runs past the end of the data.
	ErrTruncated = errors.New("truncated field")
	// ErrSignature means a type signature is not a valid single-value
	// struct format.
	ErrSignature = errors.New("bad type signature")
	// ErrWriteBuffer means a write_buffer byte is neither 0xff, 0 nor 1.
	ErrWriteBuffer = errors.New("bad write buffer index")
	// ErrNotRegular means the path is not a regular file (a directory, FIFO,
	// device or socket). Such paths are never opened for reading.
	ErrNotRegular = errors.New("not a regular file")
	// ErrFault means the mapped file changed under the reader, typically
	// truncated while mapped (the access raised SIGBUS).
	ErrFault = errors.New("file changed while being read (truncated?)")
	// ErrBusy means a string value kept changing while it was copied and
	// no consistent copy could be taken.
	ErrBusy = errors.New("value changed during every read attempt")
	// ErrClosed means the File was closed.
	ErrClosed = errors.New("file is closed")
	// ErrSymlink means the path is a symlink and the caller asked not to
	// follow symlinks.
	ErrSymlink = errors.New("is a symlink")
	// ErrTooLarge means the fields of a file go on past 4 GiB, which no
	// writer makes; such a file is refused rather than indexed.
	ErrTooLarge = errors.New("fields go on past 4 GiB")
	// ErrReplaced means the path now names a different file than the one
	// that was opened.
	ErrReplaced = errors.New("file was replaced")
	// ErrNoHistogram means a field is not in a group that carries
	// histogram buckets.
	ErrNoHistogram = errors.New("no histogram buckets in this group")
	// ErrBuckets means a group says it carries histogram buckets but
	// their descriptor or pad bytes are unusable (the group's stats
	// still read).
	ErrBuckets = errors.New("bad histogram buckets")
	// ErrMerge means two histograms cannot be merged: different schemas,
	// windows too far apart, or counts past 2^64.
	ErrMerge = errors.New("histograms cannot be merged")
)

// PathError is an error about one file: its message is "PATH: reason",
// the one line the tools print.
type PathError struct {
	Path string
	Err  error
}

// Error returns "PATH: reason".
func (e *PathError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

// FormatError describes where in a file the format is broken.
type FormatError struct {
	Offset int    // byte offset of the field (its label_sz)
	Label  string // the field's label, if it could be read
	Err    error  // one of the sentinel errors above
	Detail string // extra detail, may be empty
}

// Error returns the reason, its detail, and where in the file.
func (e *FormatError) Error() string {
	msg := e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Label != "" {
		return fmt.Sprintf("%s (field %q at offset %d)", msg, e.Label, e.Offset)
	}
	return fmt.Sprintf("%s (at offset %d)", msg, e.Offset)
}

// Unwrap returns the sentinel error.
func (e *FormatError) Unwrap() error { return e.Err }
