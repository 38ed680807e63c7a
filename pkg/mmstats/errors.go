package mmstats

import "errors"

// Errors returned by this package; test for them with errors.Is.
var (
	// ErrEmptyLabel means a field was given an empty label; the format
	// reads a zero label size as the end of the fields.
	ErrEmptyLabel = errors.New("mmstats: empty label")
	// ErrLabelTooLong means a label has more than 65535 bytes.
	ErrLabelTooLong = errors.New("mmstats: label too long")
	// ErrDuplicateLabel means a file already has a field with that label.
	ErrDuplicateLabel = errors.New("mmstats: duplicate label")
	// ErrAlreadyAdded means the field is already in a file; a field value
	// can live in one file only.
	ErrAlreadyAdded = errors.New("mmstats: field already added to a file")
	// ErrFileFull means the file cannot grow past Options.MaxSize.
	ErrFileFull = errors.New("mmstats: file is at its maximum size")
	// ErrClosed means the File was closed or removed.
	ErrClosed = errors.New("mmstats: file is closed")
	// ErrStatic means a static field's value was set after the field was
	// added to a file; static values are written once, when it is added.
	ErrStatic = errors.New("mmstats: static field is already written")
	// ErrInvalidLabel means a label (or the label prefix) is not valid
	// UTF-8 or contains a NUL byte: readers would show two different
	// labels as the same text.
	ErrInvalidLabel = errors.New("mmstats: label is not valid UTF-8 or contains NUL")
	// ErrBadName means the expanded file name template is not one path
	// element ("", ".", "..", or a name with a "/"): the file must be
	// created inside Options.Dir.
	ErrBadName = errors.New("mmstats: file name must be one path element inside the directory")
	// ErrNilFile means a method was called on a nil *File, typically the
	// result of a New that failed.
	ErrNilFile = errors.New("mmstats: nil *File (did New fail?)")
	// ErrModel means the value given to New or Register is not a pointer
	// to a struct, or a struct tag is invalid.
	ErrModel = errors.New("mmstats: bad model")
)
