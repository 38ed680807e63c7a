package reader

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// File is an mmstats file mapped read-only. Its layout is parsed once;
// reading values again costs only the loads of the values. A File is not
// safe for concurrent use.
type File struct {
	path     string
	noFollow bool
	data     []byte
	mapped   bool
	layout   *Layout
	dev, ino uint64
}

// Open maps the mmstats file at path and parses its layout. Symlinks are
// followed; only regular files are opened, without blocking, so FIFOs and
// devices give ErrNotRegular instead of hanging.
func Open(path string) (*File, error) { return open(path, false) }

// OpenNoFollow is like Open but refuses a symlink (ErrSymlink), for callers
// such as cleanstats that must never act through one.
func OpenNoFollow(path string) (*File, error) { return open(path, true) }

func open(path string, noFollow bool) (f *File, err error) {
	fd, st, err := openRegular(path, noFollow)
	if err != nil {
		return nil, &PathError{Path: path, Err: err}
	}
	defer unix.Close(fd)
	f = &File{path: path, noFollow: noFollow, dev: uint64(st.Dev), ino: st.Ino}
	if err := f.mapAndParse(fd, int(st.Size)); err != nil {
		return nil, &PathError{Path: path, Err: err}
	}
	return f, nil
}

func (f *File) mapAndParse(fd, size int) (err error) {
	if size == 0 {
		return ErrEmpty
	}
	data, mapped, err := mapFile(fd, size)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	var layout *Layout
	func() {
		defer catchFault(&err, debug.SetPanicOnFault(true))
		layout, err = Parse(data)
	}()
	if err != nil {
		if mapped {
			unmapFile(data)
		}
		return err
	}
	if !mapped {
		if err := stabilize(fd, data, layout); err != nil {
			return err
		}
	}
	f.release()
	f.data, f.mapped, f.layout = data, mapped, layout
	return nil
}

// catchFault turns a memory fault (SIGBUS on a mapped file that shrank)
// into ErrFault. Use it as: defer catchFault(&err, debug.SetPanicOnFault(true)).
func catchFault(err *error, old bool) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		if re, ok := r.(runtime.Error); ok {
			if _, isFault := re.(interface{ Addr() uintptr }); isFault {
				*err = ErrFault
				return
			}
		}
		panic(r)
	}
}

// wrap adds the path to a non-nil error.
func (f *File) wrap(err *error) {
	if *err != nil {
		*err = &PathError{Path: f.path, Err: *err}
	}
}

// Path returns the path the file was opened with.
func (f *File) Path() string { return f.path }

// Mapped reports whether the file is mapped (values are live). When the
// process is out of mappings, Open falls back to a copy of the file.
func (f *File) Mapped() bool { return f.mapped }

// Layout returns the parsed layout. The caller must not modify it.
func (f *File) Layout() *Layout { return f.layout }

// Fields returns the fields in file order. The caller must not modify them.
func (f *File) Fields() []Field {
	if f.layout == nil {
		return nil
	}
	return f.layout.Fields
}

// Value reads the current value of field i (an index into Fields). It does
// not allocate for numeric fields.
func (f *File) Value(i int) (v Value, err error) {
	if f.data == nil {
		return Value{}, ErrClosed
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	return ReadValue(f.data, &f.layout.Fields[i])
}

// Values reads the fields at the indexes idx into dst (len(dst) >=
// len(idx)), with one fault guard for all of them: the cheap way to poll a
// few fields of a file. A negative index gives the zero Value.
func (f *File) Values(idx []int, dst []Value) (err error) {
	if f.data == nil {
		return ErrClosed
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	for k, i := range idx {
		if i < 0 {
			dst[k] = Value{}
			continue
		}
		if dst[k], err = ReadValue(f.data, &f.layout.Fields[i]); err != nil {
			return err
		}
	}
	return nil
}

// Stats reads every field's current value.
func (f *File) Stats() (stats []Stat, err error) {
	if f.data == nil {
		return nil, ErrClosed
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	return Stats(f.data, f.layout)
}

// Refresh picks up fields a writer appended since the file was opened,
// remapping the file if it grew. It reports whether the layout changed;
// indexes of existing fields stay valid.
func (f *File) Refresh() (changed bool, err error) {
	if f.data == nil {
		return false, ErrClosed
	}
	before := len(f.layout.Fields)
	err = func() (err error) {
		defer catchFault(&err, debug.SetPanicOnFault(true))
		return f.layout.extend(f.data)
	}()
	if err == nil && f.layout.End+2 <= len(f.data) {
		return len(f.layout.Fields) != before, nil
	}
	if err != nil && !errors.Is(err, ErrTruncated) {
		return false, &PathError{Path: f.path, Err: err}
	}
	// The fields reach the end of the mapping: the file may have grown.
	fd, st, oerr := openRegular(f.path, f.noFollow)
	if oerr != nil {
		return false, &PathError{Path: f.path, Err: oerr}
	}
	defer unix.Close(fd)
	if uint64(st.Dev) != f.dev || st.Ino != f.ino {
		return false, &PathError{Path: f.path, Err: ErrReplaced}
	}
	if int(st.Size) > len(f.data) || !f.mapped {
		if err := f.mapAndParse(fd, int(st.Size)); err != nil {
			return false, &PathError{Path: f.path, Err: err}
		}
		return len(f.layout.Fields) != before, nil
	}
	if err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	return len(f.layout.Fields) != before, nil
}

// Reload reads a private copy (a File that is not Mapped) from the file
// again, in place, so that its values are current: the cheap way to poll
// a file the process could not map. It reports whether the layout
// changed (fields were appended). For a mapped File it does nothing.
func (f *File) Reload() (changed bool, err error) {
	if f.data == nil {
		return false, ErrClosed
	}
	if f.mapped {
		return false, nil
	}
	fd, st, err := openRegular(f.path, f.noFollow)
	if err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	defer unix.Close(fd)
	if uint64(st.Dev) != f.dev || st.Ino != f.ino {
		return false, &PathError{Path: f.path, Err: ErrReplaced}
	}
	before := len(f.layout.Fields)
	if int(st.Size) != len(f.data) {
		if err := f.mapAndParse(fd, int(st.Size)); err != nil {
			return false, &PathError{Path: f.path, Err: err}
		}
		return len(f.layout.Fields) != before, nil
	}
	if err := readCopy(fd, f.data); err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	if err := f.layout.extend(f.data); err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	if err := stabilize(fd, f.data, f.layout); err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	return len(f.layout.Fields) != before, nil
}

// Close unmaps the file. Fields and values read before stay valid.
func (f *File) Close() error {
	err := f.release()
	f.layout = nil
	return err
}

func (f *File) release() error {
	var err error
	if f.data != nil && f.mapped {
		err = unmapFile(f.data)
	}
	f.data = nil
	return err
}

// ReadFile opens path, reads every field and closes it.
func ReadFile(path string) ([]Stat, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stats()
}
