package reader

import (
	"errors"
	"fmt"
	"github.com/mmstats/mmstats/internal/v1"
	"runtime"
	"runtime/debug"
	"slices"
)

// File is an mmstats file mapped read-only. Its layout is parsed once;
// reading values again costs only the loads of the values. A File is not
// safe for concurrent use.
//
// A File holds 4 bytes for each field of the file (see index), not the
// whole layout: Fields and Layout build it when asked, and ScanFields
// and ScanStats go through the fields without holding them, so that a
// file of millions of tiny fields costs little more than its mapping.
type File struct {
	path     string
	noFollow bool
	data     []byte
	mapped   bool
	idx      index   // where the fields are
	layout   *Layout // built by Layout, nil until then
	cache    []cachedField
	next     int // the cache slot to reuse next
	dev, ino uint64
}

// cachedField is a field that Value or Values parsed, kept for the next
// read: a poller reads the same few fields of a file over and over.
type cachedField struct {
	i int
	f Field
}

// maxCached is how many fields a File keeps parsed for Value and Values.
const maxCached = 64

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
	defer closeFD(fd)
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
	idx := newIndex()
	func() {
		defer catchFault(&err, debug.SetPanicOnFault(true))
		err = idx.extend(data)
	}()
	if err != nil {
		if mapped {
			unmapFile(data)
		}
		return err
	}
	if !mapped {
		if err := stabilize(fd, data, &idx); err != nil {
			return err
		}
	}
	f.release()
	f.data, f.mapped, f.idx = data, mapped, idx
	f.layout, f.cache = nil, f.cache[:0]
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

// Layout returns the parsed layout. The caller must not modify it. It is
// built on the first call (and again after Refresh or Reload found new
// fields), at a cost of about 200 bytes a field: tools that look at every
// field of files they do not control use ScanFields and ScanStats.
func (f *File) Layout() *Layout {
	if f.layout == nil && f.data != nil {
		f.layout = f.buildLayout()
	}
	return f.layout
}

// buildLayout parses every field again from the file. A field that no
// longer parses (the file was rewritten or truncated under the reader)
// stays in its place with a value that cannot be read (ErrTruncated).
func (f *File) buildLayout() *Layout {
	l := &Layout{Fields: make([]Field, f.idx.len()), End: f.idx.end, head: f.idx.head}
	i := 0
	for i < len(l.Fields) {
		func() {
			var err error
			defer catchFault(&err, debug.SetPanicOnFault(true))
			for ; i < len(l.Fields); i++ {
				if l.Fields[i], err = f.idx.field(f.data, i, true); err != nil {
					l.Fields[i] = brokenField(int(f.idx.offs[i]), f.idx.group(i))
				}
			}
		}()
		if i < len(l.Fields) { // a fault
			l.Fields[i] = brokenField(int(f.idx.offs[i]), f.idx.group(i))
			i++
		}
	}
	return l
}

// Fields returns the fields in file order (see Layout). The caller must
// not modify them.
func (f *File) Fields() []Field {
	if l := f.Layout(); l != nil {
		return l.Fields
	}
	return nil
}

// Len returns the number of fields, without building the layout.
func (f *File) Len() int { return f.idx.len() }

// ScanFields calls fn for each field in file order, with its index (as
// for Value), without building the layout: its memory stays constant
// whatever the number of fields. The *Field passed to fn is reused; fn
// copies what it keeps. ScanFields stops when fn returns false.
func (f *File) ScanFields(fn func(i int, fl *Field) bool) (err error) {
	if f.data == nil {
		return ErrClosed
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	for i := range f.idx.len() {
		fl, err := f.idx.field(f.data, i, true)
		if err != nil {
			return err
		}
		if !fn(i, &fl) {
			return nil
		}
	}
	return nil
}

// ScanStats calls fn with the stat of each field in file order, read as
// Stats reads them (groups as one snapshot, see MaxGroup), without
// holding them: its memory stays bounded whatever the number of fields.
// The *Stat passed to fn is reused; fn copies what it keeps. ScanStats
// stops when fn returns false, or at the first error, after the stats
// before it were passed to fn.
func (f *File) ScanStats(fn func(s *Stat) bool) (err error) {
	if f.data == nil {
		return ErrClosed
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	r := newStatReader(f.data, fn)
	for i := 0; i < f.idx.len() && !r.stopped; i++ {
		fl, err := f.idx.field(f.data, i, true)
		if err != nil {
			return err
		}
		if err := r.add(&fl); err != nil {
			return err
		}
	}
	return r.end()
}

// field returns field i for reading its value: from the layout if it was
// built, else parsed again and kept in a small cache.
func (f *File) field(i int) (*Field, error) {
	if f.layout != nil {
		return &f.layout.Fields[i], nil
	}
	for k := range f.cache {
		if f.cache[k].i == i {
			return &f.cache[k].f, nil
		}
	}
	fl, err := f.idx.field(f.data, i, true)
	if err != nil {
		return nil, err
	}
	k := len(f.cache)
	if k < maxCached {
		f.cache = append(f.cache, cachedField{})
	} else {
		k = f.next
		f.next = (f.next + 1) % maxCached
	}
	f.cache[k] = cachedField{i: i, f: fl}
	return &f.cache[k].f, nil
}

// Value reads the current value of field i (an index into Fields). It does
// not allocate for numeric fields.
func (f *File) Value(i int) (v Value, err error) {
	if f.data == nil {
		return Value{}, ErrClosed
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	fl, err := f.field(i)
	if err != nil {
		return Value{}, err
	}
	return ReadValue(f.data, fl)
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
		fl, err := f.field(i)
		if err != nil {
			return err
		}
		if dst[k], err = ReadValue(f.data, fl); err != nil {
			return err
		}
	}
	return nil
}

// Stats reads every field's current value.
func (f *File) Stats() (stats []Stat, err error) {
	stats = make([]Stat, 0, f.Len())
	err = f.ScanStats(func(s *Stat) bool {
		stats = append(stats, *s)
		return true
	})
	return stats, err
}

// Refresh picks up fields a writer appended since the file was opened,
// and follows the file when its writer grew it: the Go writer grows a file
// by replacing it with a larger copy (its version byte becomes 0), whose fields
// before the new ones are the same, at the same offsets, so values read
// through this File continue. It reports whether the layout changed;
// indexes of existing fields stay valid. A file replaced by something
// else gives ErrReplaced.
func (f *File) Refresh() (changed bool, err error) {
	if f.data == nil {
		return false, ErrClosed
	}
	before := f.idx.len()
	if f.mapped && f.superseded() {
		if err := f.follow(); err != nil {
			return false, &PathError{Path: f.path, Err: err}
		}
		f.layout = nil
		return f.idx.len() != before, nil
	}
	defer func() {
		if f.idx.len() != before {
			f.layout = nil // built again when asked
		}
	}()
	err = func() (err error) {
		defer catchFault(&err, debug.SetPanicOnFault(true))
		return f.idx.extend(f.data)
	}()
	if err == nil && f.idx.end+2 <= len(f.data) {
		return f.idx.len() != before, nil
	}
	if err != nil && !errors.Is(err, ErrTruncated) {
		return false, &PathError{Path: f.path, Err: err}
	}
	// The fields reach the end of the mapping: the file may have grown.
	fd, st, oerr := openRegular(f.path, f.noFollow)
	if oerr != nil {
		return false, &PathError{Path: f.path, Err: oerr}
	}
	defer closeFD(fd)
	if uint64(st.Dev) != f.dev || st.Ino != f.ino {
		return false, &PathError{Path: f.path, Err: ErrReplaced}
	}
	if int(st.Size) > len(f.data) || !f.mapped {
		if err := f.mapAndParse(fd, int(st.Size)); err != nil {
			return false, &PathError{Path: f.path, Err: err}
		}
		return f.idx.len() != before, nil
	}
	if err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	return f.idx.len() != before, nil
}

// superseded reports whether the writer marked this file as replaced by
// a larger copy.
func (f *File) superseded() (yes bool) {
	var err error
	defer catchFault(&err, debug.SetPanicOnFault(true))
	return loadByte(f.data, 0) == v1.Superseded
}

// follow opens the path again after the writer grew the file: the file
// there must begin with the same fields at the same offsets (the copy the
// writer made), or it is another file (ErrReplaced).
func (f *File) follow() error {
	fd, st, err := openRegular(f.path, f.noFollow)
	if err != nil {
		return err
	}
	defer closeFD(fd)
	next := &File{path: f.path, noFollow: f.noFollow, dev: uint64(st.Dev), ino: st.Ino}
	if err := next.mapAndParse(fd, int(st.Size)); err != nil {
		return err
	}
	if next.idx.len() < f.idx.len() || !slices.Equal(next.idx.offs[:f.idx.len()], f.idx.offs) {
		next.Close()
		return ErrReplaced
	}
	f.release()
	f.data, f.mapped, f.idx, f.dev, f.ino = next.data, next.mapped, next.idx, next.dev, next.ino
	f.layout, f.cache, f.next = nil, f.cache[:0], 0
	return nil
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
	defer closeFD(fd)
	if uint64(st.Dev) != f.dev || st.Ino != f.ino {
		return false, &PathError{Path: f.path, Err: ErrReplaced}
	}
	before := f.idx.len()
	if int(st.Size) != len(f.data) {
		if err := f.mapAndParse(fd, int(st.Size)); err != nil {
			return false, &PathError{Path: f.path, Err: err}
		}
		return f.idx.len() != before, nil
	}
	if err := readCopy(fd, f.data); err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	if err := f.idx.extend(f.data); err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	if f.idx.len() != before {
		f.layout = nil
	}
	if err := stabilize(fd, f.data, &f.idx); err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	return f.idx.len() != before, nil
}

// Close unmaps the file. Fields and values read before stay valid.
func (f *File) Close() error {
	err := f.release()
	f.layout, f.cache, f.idx = nil, nil, index{}
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
