package reader

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"

	"github.com/mmstats/mmstats/internal/fileid"
	"github.com/mmstats/mmstats/internal/v1"
)

// File is an mmstats file mapped read-only. Its layout is parsed once;
// reading values again costs only the loads of the values, and Update
// picks up what the writer changed in the layout. A File is not safe for
// concurrent use.
//
// A File holds 4 bytes for each field of the file (see index), not the
// whole layout: Fields and Layout build it when asked, and ScanFields
// and ScanStats go through the fields without holding them, so that a
// file of millions of tiny fields costs little more than its mapping.
type File struct {
	path     string
	noFollow bool
	mapped   bool     // false: data is a private copy (see IsCopy)
	file     *os.File // the caller's file, for OpenFile; nil for Open
	data     []byte
	// idx is where the fields are: the shape's index (see shape), the
	// File's own, or nil (not open: ix gives noIndex). A pointer, not
	// the index, so that the Files of a shape share it: 112 bytes a
	// File, not 176 (a poller keeps one per mapped file).
	idx    *index
	layout *Layout     // built by Layout, nil until then
	cache  *fieldCache // made when first used: most Files of a poller have a shared layout
	id     fileID      // the file that data comes from

	// shape, when set, is the layout this file shares with the files
	// that have the same (see shape.go): idx and layout are its, and
	// are never modified (own makes them this file's first).
	shape *shape

	snap *snapState // for a Snapshot's copy (see snapshot.go); nil for any other File
}

// fileID is the identity of the file a File reads.
type fileID = fileid.ID

// fieldCache holds the fields that Value or Values parsed in a File
// without a layout, kept for the next read: a poller reads the same few
// fields of a file over and over.
type fieldCache struct {
	fields []cachedField
	next   int // the slot to reuse next
}

// reset empties c, which may be nil.
func (c *fieldCache) reset() {
	if c != nil {
		c.fields, c.next = c.fields[:0], 0
	}
}

// cachedField is a field of a fieldCache.
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

// OpenFile maps the mmstats file that file refers to, as Open maps a
// path: for a caller that opened the file itself, such as through an
// os.Root. Only a regular file is read (ErrNotRegular). The File reads
// file again only in Update, so file may be closed once OpenFile returns
// unless Update is called; Close does not close it. Path returns
// file.Name(). Since a File from OpenFile has no path to look at, Update
// gives ErrReplaced where a File from Open would follow its writer to a
// larger copy: open the path again then.
func OpenFile(file *os.File) (*File, error) {
	f := &File{path: file.Name(), file: file}
	if err := f.reopen(func(o opened) error {
		f.id = o.id
		return f.mapAndParse(o.fd, o.size)
	}); err != nil {
		return nil, &PathError{Path: f.path, Err: err}
	}
	return f, nil
}

func open(path string, noFollow bool) (f *File, err error) {
	f = &File{path: path, noFollow: noFollow}
	if err := f.reopen(func(o opened) error {
		f.id = o.id
		return f.mapAndParse(o.fd, o.size)
	}); err != nil {
		return nil, &PathError{Path: path, Err: err}
	}
	return f, nil
}

// reopen calls fn with the file that f names, opened again: the path
// given to Open, or the file given to OpenFile. Only a regular file is
// passed to fn (ErrNotRegular).
func (f *File) reopen(fn func(o opened) error) error {
	if f.file != nil {
		return withFile(f.file, fn)
	}
	return withPath(f.path, f.noFollow, fn)
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
	var sh *shape
	func() {
		defer catchFault(&err, debug.SetPanicOnFault(true))
		if sh = shapes.find(data, size); sh != nil {
			idx = sh.idx
			return
		}
		if err = idx.extend(data); err == nil {
			sh = shapeOf(data, size, &idx, mapped)
		}
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
		if sh != nil && !sh.matches(data, size) {
			sh = nil // rewritten under the reader: its own index
			idx.offs, idx.groups = slices.Clone(idx.offs), slices.Clone(idx.groups)
		}
	}
	f.release()
	f.data, f.mapped, f.idx, f.shape = data, mapped, &idx, sh
	if sh != nil {
		f.idx = &sh.idx // the same as idx: shared
	}
	f.layout = nil
	f.cache.reset()
	if sh != nil {
		f.layout = &sh.layout
	}
	return nil
}

// shapeOf returns the shape of the file in data (a mapping if mapped),
// whose index x was just made, and caches it; nil if it has none (see
// newShape). A shape is parsed from a private copy, so that a writer
// changing the mapping meanwhile cannot make it disagree with itself,
// and used only if the file still has it.
func shapeOf(data []byte, size int, x *index, mapped bool) *shape {
	if x.len() > maxShapeFields {
		return nil
	}
	private := data[:min(size, x.end+2)]
	if mapped {
		private = make([]byte, len(private))
		atomicCopy(private, data, 0)
	}
	s := newShape(private, size)
	if s == nil || !s.matches(data, size) || !slices.Equal(s.idx.offs, x.offs) {
		return nil
	}
	shapes.used(s)
	return s
}

// ix returns f's index: noIndex for a File not open.
func (f *File) ix() *index {
	if f.idx == nil {
		return &noIndex
	}
	return f.idx
}

// own makes f's index its own, no longer a shape's, before it changes:
// the other files of the shape keep theirs.
func (f *File) own() {
	if f.shape == nil && f.ix() != &noIndex {
		return
	}
	x := *f.ix()
	x.offs, x.groups = slices.Clone(x.offs), slices.Clone(x.groups)
	f.idx = &x
	f.shape, f.layout = nil, nil
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

// IsCopy reports whether f reads a private copy of the file rather than
// a mapping of it: Open falls back to a copy when the process has no
// memory mappings left (vm.max_map_count). Update hides the difference,
// but a copy's values change only at Update, which reads the whole file
// again: tools may say so.
func (f *File) IsCopy() bool { return f.data != nil && !f.mapped }

// Layout returns the parsed layout. The caller must not modify it. It is
// built on the first call (and again after Update found new fields), at
// a cost of about 200 bytes a field: tools that look at every field of
// files they do not control use ScanFields, ScanStats and Lookup.
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
	l := &Layout{Fields: make([]Field, f.ix().len()), End: f.ix().end, head: f.ix().head}
	i := 0
	for i < len(l.Fields) {
		func() {
			var err error
			defer catchFault(&err, debug.SetPanicOnFault(true))
			for ; i < len(l.Fields); i++ {
				if l.Fields[i], err = f.ix().field(f.data, i, true); err != nil {
					l.Fields[i] = brokenField(int(f.ix().offs[i]), f.ix().group(i))
				}
			}
		}()
		if i < len(l.Fields) { // a fault
			l.Fields[i] = brokenField(int(f.ix().offs[i]), f.ix().group(i))
			i++
		}
	}
	return l
}

// SharedLayout returns the layout that f shares with the other files of
// the same layout (the workers of one program), or nil if it has one of
// its own: what a tool derives from a layout (label widths, the fields
// it shows) it can derive once for all the files that share it, keyed by
// this pointer. It costs nothing to call. The caller must not modify it.
// A File whose file changes its layout (fields appended) no longer
// shares it, and returns nil or another layout after Update.
func (f *File) SharedLayout() *Layout {
	if f.shape == nil {
		return nil
	}
	return &f.shape.layout
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
func (f *File) Len() int { return f.ix().len() }

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
	for i := range f.ix().len() {
		var fl Field
		if f.shape != nil {
			fl = f.shape.layout.Fields[i] // a copy: fn may change it
		} else if fl, err = f.ix().field(f.data, i, true); err != nil {
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
	if err := f.settle(false); err != nil {
		return err
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	r := newStatReader(f.data, fn)
	defer r.free()
	if f.shape != nil {
		return r.scanShape(f.shape)
	}
	for i := 0; i < f.ix().len() && !r.stopped; i++ {
		fl, err := f.ix().field(f.data, i, true)
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
	if f.cache == nil {
		f.cache = &fieldCache{}
	}
	c := f.cache
	for k := range c.fields {
		if c.fields[k].i == i {
			return &c.fields[k].f, nil
		}
	}
	fl, err := f.ix().field(f.data, i, true)
	if err != nil {
		return nil, err
	}
	k := len(c.fields)
	if k < maxCached {
		c.fields = append(c.fields, cachedField{})
	} else {
		k = c.next
		c.next = (c.next + 1) % maxCached
	}
	c.fields[k] = cachedField{i: i, f: fl}
	return &c.fields[k].f, nil
}

// Value reads the current value of field i (an index into Fields). It does
// not allocate for numeric fields.
func (f *File) Value(i int) (v Value, err error) {
	if f.data == nil {
		return Value{}, ErrClosed
	}
	defer f.wrap(&err)
	if err := f.settleField(i); err != nil {
		return Value{}, err
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	fl, err := f.field(i)
	if err != nil {
		return Value{}, err
	}
	return ReadValue(f.data, fl)
}

// Lookup returns the index (for Value and Values) of the first field
// labelled label, and that field. It compares label with the labels in
// the file without building the layout or allocating, so it costs one
// pass over the labels. ok is false when no field has the label, and when
// the file broke while it was looked through: reading a value then says
// why.
func (f *File) Lookup(label string) (i int, fl Field, ok bool) {
	if f.data == nil {
		return -1, Field{}, false
	}
	var err error
	func() {
		defer catchFault(&err, debug.SetPanicOnFault(true))
		if i = f.ix().find(f.data, label); i >= 0 {
			var p *Field
			if p, err = f.field(i); err == nil {
				fl = *p
			}
		}
	}()
	if err != nil || i < 0 {
		return -1, Field{}, false
	}
	return i, fl, true
}

// Values reads the fields at the indexes idx into dst (len(dst) >=
// len(idx)), with one fault guard for all of them: the cheap way to poll a
// few fields of a file. A negative index gives the zero Value.
func (f *File) Values(idx []int, dst []Value) (err error) {
	if f.data == nil {
		return ErrClosed
	}
	defer f.wrap(&err)
	for _, i := range idx {
		if err := f.settleField(i); err != nil {
			return err
		}
	}
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

// Update brings f up to date with its file, mapped or copied alike: it
// picks up the fields that the writer appended since the file was opened,
// follows the file when its writer grew it (the Go writer grows a file by
// replacing it with a larger copy, whose fields before the new ones are
// the same, at the same offsets, so values read through f continue), and
// reads a private copy (see IsCopy) again so that its values are current.
// It reports whether fields were added; indexes of the fields already
// there stay valid. When the path names another file than the one opened
// (replaced, or removed and created again), Update gives ErrReplaced:
// open the path again to read the new file.
func (f *File) Update() (changed bool, err error) {
	if f.data == nil {
		return false, ErrClosed
	}
	if f.mapped {
		return f.refresh()
	}
	return f.reload()
}

// refresh is Update for a mapped file.
func (f *File) refresh() (changed bool, err error) {
	if f.unchanged() {
		return false, nil
	}
	before := f.ix().len()
	if f.superseded() {
		if err := f.follow(); err != nil {
			return false, &PathError{Path: f.path, Err: err}
		}
		f.layout = nil
		return f.ix().len() != before, nil
	}
	defer func() {
		if f.ix().len() != before {
			f.layout = nil // built again when asked
		}
	}()
	f.own()
	err = func() (err error) {
		defer catchFault(&err, debug.SetPanicOnFault(true))
		return f.ix().extend(f.data)
	}()
	if err == nil && f.ix().end+2 <= len(f.data) {
		return f.ix().len() != before, nil
	}
	if err != nil && !errors.Is(err, ErrTruncated) {
		return false, &PathError{Path: f.path, Err: err}
	}
	// The fields reach the end of the mapping: the file may have grown.
	oerr := f.reopen(func(o opened) error {
		if o.id != f.id {
			return ErrReplaced
		}
		if o.size > len(f.data) {
			err = f.mapAndParse(o.fd, o.size)
		}
		return nil
	})
	if oerr != nil {
		err = oerr
	}
	if err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	return f.ix().len() != before, nil
}

// unchanged reports, with two loads, that a mapped file has nothing new
// for refresh, the usual case of a poller: it is not superseded, and the
// label_sz after its last field, inside the mapping, is still 0.
func (f *File) unchanged() (yes bool) {
	var err error
	defer catchFault(&err, debug.SetPanicOnFault(true))
	var end [2]byte
	if e := f.ix().end; e+2 <= len(f.data) {
		atomicCopy(end[:], f.data, e)
		return end == [2]byte{} && loadByte(f.data, 0) != v1.Superseded
	}
	return false
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
// writer made), or it is another file (ErrReplaced). A File from
// OpenFile has no path to follow: its file was replaced.
func (f *File) follow() error {
	if f.file != nil {
		return ErrReplaced
	}
	next := &File{path: f.path, noFollow: f.noFollow}
	if err := next.reopen(func(o opened) error {
		next.id = o.id
		return next.mapAndParse(o.fd, o.size)
	}); err != nil {
		return err
	}
	if next.idx.len() < f.ix().len() || !slices.Equal(next.idx.offs[:f.ix().len()], f.ix().offs) {
		next.Close()
		return ErrReplaced
	}
	f.release()
	f.data, f.mapped, f.idx, f.id = next.data, next.mapped, next.idx, next.id
	f.shape, f.layout = next.shape, next.layout
	f.cache.reset()
	return nil
}

// reload is Update for a private copy: it reads the file again, in place.
func (f *File) reload() (changed bool, err error) {
	before := f.ix().len()
	err = f.reopen(func(o opened) error {
		if o.id != f.id {
			return ErrReplaced
		}
		if o.size != len(f.data) {
			return f.mapAndParse(o.fd, o.size)
		}
		if err := readCopy(o.fd, f.data); err != nil {
			return err
		}
		f.snap.release() // read whole again, and stabilized below
		if f.shape != nil && f.shape.matches(f.data, len(f.data)) {
			return stabilize(o.fd, f.data, f.idx)
		}
		f.own()
		if err := f.ix().extend(f.data); err != nil {
			return err
		}
		if f.ix().len() != before {
			f.layout = nil
		}
		return stabilize(o.fd, f.data, f.idx)
	})
	if err != nil {
		return false, &PathError{Path: f.path, Err: err}
	}
	return f.ix().len() != before, nil
}

// Close unmaps the file. Fields and values read before stay valid. A
// file given to OpenFile stays open: it is the caller's.
func (f *File) Close() error {
	err := f.release()
	f.layout, f.cache, f.idx, f.shape = nil, nil, nil, nil
	return err
}

func (f *File) release() error {
	var err error
	if f.data != nil && f.mapped {
		err = unmapFile(f.data)
	}
	f.data = nil
	f.snap.release()
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
