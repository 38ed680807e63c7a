package mmstats

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/pkg/reader"
)

// File is one stats file: a memory-mapped v1 file in Options.Dir
// (MMSTATS_PATH by default) and the fields that write into it. Its methods are safe for concurrent use; the
// fields' hot-path methods never touch the File at all.
type File struct {
	mu     sync.Mutex // guards everything below; only cold paths take it
	opts   resolved
	fd     int
	id     fileID
	mem    []byte // the reserved mapping; the first size bytes are the file
	size   int    // the file's size, a whole number of pages
	end    int    // where the next field goes: the terminating zero label_sz
	labels map[string]bool
	merges []mergeRef // the values hot paths write directly (for grow)
	strs   []*String  // the strings, whose writers grow stops
	closed bool

	defaults defaultFields

	rmu        sync.Mutex // guards refreshers and drains, serialises refreshes
	refreshers []refresher
	drains     []drainer     // bound cells that stragglers may still update
	stop, done chan struct{} // the refresher goroutine, once started
}

// defaultFields are the fields every file has, as the Python MmStats model
// does, plus sys.flock: it says that the writer holds a shared flock(2) on
// the file for as long as it lives, which cleanstats uses to tell a live
// file from a stale one even across PID reuse and PID namespaces; sys.id,
// a random number that names the file when it is folded (its device and
// inode change when it grows, and its PID is not unique across PID
// namespaces); and sys.totals, the name of the totals file it is folded
// into, only when the file name template has {PID} (see File.Remove).
// Their labels are internal/convention's
// (TestDefaultFieldsFollowConvention).
type defaultFields struct {
	PID     StaticUint32  `mmstats:"sys.pid"`
	TID     StaticInt64   `mmstats:"sys.tid"`
	UID     StaticUint64  `mmstats:"sys.uid"`
	GID     StaticUint64  `mmstats:"sys.gid"`
	Version StaticText    `mmstats:"org.golang.version"`
	Created StaticFloat64 `mmstats:"sys.created,kind=timestamp,unit=seconds"`
	ID      StaticUint64  `mmstats:"sys.id"`
	Totals  StaticText    `mmstats:"sys.totals"`
	Flock   Bool          `mmstats:"sys.flock,aggr=none"`
}

// New creates a stats file holding the fields of model and the default
// fields, and returns it once the file is complete and visible under its
// final name. model is a pointer to a struct whose fields are field types
// (see Register for the tags), or nil for a file with only the defaults.
//
// The file is built where no reader looks (an unnamed file, or a
// temporary name) with its disk blocks reserved, and given its final name
// without replacing anything: if the name is taken, New fails with an
// error wrapping os.ErrExist. It never follows a symlink. A full file
// system is an error wrapping syscall.ENOSPC, and leaves nothing behind.
// On error the *File is nil: check the error before using it.
func New(model any, opts Options) (*File, error) {
	r, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	var fields []labeled
	if model != nil {
		if fields, err = modelFields(model); err != nil {
			return nil, err
		}
	}
	f := &File{opts: r, fd: -1, labels: map[string]bool{}}
	if err := f.setDefaults(); err != nil {
		return nil, err
	}
	defaults, err := modelFields(&f.defaults)
	if err != nil {
		return nil, err
	}
	if f.opts.totals == "" {
		defaults = slices.DeleteFunc(defaults, func(l labeled) bool { return l.field == &f.defaults.Totals })
	}
	var rt *runtimeStats
	if r.Runtime {
		rt = newRuntimeStats()
		defaults = append(defaults, rt.fields...)
	}
	if err := f.create(append(fields, defaults...)); err != nil {
		if rt != nil {
			rt.release()
		}
		return nil, err
	}
	if rt != nil {
		f.addRefresher(rt)
	}
	f.startRefresh()
	return f, nil
}

func (f *File) setDefaults() error {
	d := &f.defaults
	d.Flock.Set(true)
	return errors.Join(
		d.PID.Set(uint32(f.opts.pid)),
		d.TID.Set(int64(f.opts.tid)),
		d.UID.Set(uint64(os.Getuid())),
		d.GID.Set(uint64(os.Getgid())),
		d.Version.Set(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH),
		d.Created.Set(float64(time.Now().UnixNano())/1e9),
		d.ID.Set(newID()),
		d.Totals.Set(f.opts.totals),
	)
}

// newID returns a random sys.id: 64 bits from crypto/rand, never 0 (which
// readers take for "no sys.id").
func newID() uint64 {
	for {
		var b [8]byte
		rand.Read(b[:])
		if id := binary.NativeEndian.Uint64(b[:]); id != 0 {
			return id
		}
	}
}

// zeroWord is the room the writer keeps after the last field inside the
// file: a zero label_sz that ends the field list within the file's size,
// so that a reader that mapped the file once (Python 0.8.0's pollstats)
// never reads past its mapping, however full the file is.
const zeroWord = 4

// create lays out the fields, builds the file, gives it its final name
// and binds the fields to it.
func (f *File) create(fields []labeled) (err error) {
	plans := make([]*planned, len(fields))
	taken := map[string]bool{}
	off := 1 // after the version byte
	for i, l := range fields {
		if plans[i], err = f.plan(l.label, l.field, l.opts, off, taken); err != nil {
			return err
		}
		off = plans[i].end()
	}
	claimed := 0
	defer func() {
		if err != nil {
			for _, l := range fields[:claimed] {
				l.field.unclaim()
			}
		}
	}()
	for i, l := range fields {
		if !l.field.claim() {
			return fmt.Errorf("%w: %q", ErrAlreadyAdded, plans[i].labels[0])
		}
		claimed++
	}

	f.size = roundPage(off + zeroWord)
	reserve := roundPage(f.opts.MaxSize)
	if f.size > reserve {
		return fmt.Errorf("%w: the fields need %d bytes, MaxSize is %d", ErrFileFull, f.size, f.opts.MaxSize)
	}
	final := f.opts.fullPath
	dir := filepath.Dir(final)
	t, err := openTemp(dir, f.size)
	if err != nil {
		return fmt.Errorf("mmstats: cannot create a stats file in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			if f.mem != nil {
				unmap(f.mem)
				f.mem = nil
			}
			t.discard()
			f.fd = -1
		}
	}()
	f.fd = t.fd
	if f.mem, err = mapReserve(t.fd, reserve); err != nil {
		return fmt.Errorf("mmstats: cannot create a stats file in %s: mmap: %w", dir, err)
	}
	f.mem[0] = reader.Version1
	for _, p := range plans {
		p.write(f.mem, false)
	}
	if err = chmod(t.fd, uint32(f.opts.Mode.Perm())); err != nil {
		return fmt.Errorf("mmstats: cannot create a stats file in %s: chmod: %w", dir, err)
	}
	if f.id, err = fdID(t.fd); err != nil {
		return fmt.Errorf("mmstats: cannot create a stats file in %s: %w", dir, err)
	}
	if err = t.linkAs(final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return takenError(final)
		}
		return fmt.Errorf("mmstats: cannot create %s: %w", final, err)
	}
	register(f.id, final)
	f.end = off
	for _, p := range plans {
		f.bindPlan(p)
	}
	return nil
}

// takenError explains why New cannot use path: something is there.
func takenError(path string) error {
	if e, ok := lookup(path); ok {
		if e.open {
			return fmt.Errorf("mmstats: %s is already open in this process; use File.Register to add fields to it: %w", path, os.ErrExist)
		}
		return fmt.Errorf("mmstats: %s was created by this process and closed; File.Remove deletes it: %w", path, os.ErrExist)
	}
	return fmt.Errorf("mmstats: %s already exists (a stale file? see cleanstats): %w", path, os.ErrExist)
}

// bindPlan makes a planned field write to the file, and records what
// growth and the refresher need to know about it.
func (f *File) bindPlan(p *planned) {
	p.bind(f, f.mem)
	for i, pt := range p.parts {
		if pt.spec.merge != mergeNone {
			f.merges = append(f.merges, mergeRef{off: p.places[i].value, size: pt.spec.size, rule: pt.spec.merge})
		}
	}
	if s, ok := p.field.(*String); ok {
		f.strs = append(f.strs, s)
	}
	if d, ok := p.field.(drainer); ok {
		f.rmu.Lock()
		f.drains = append(f.drains, d)
		f.rmu.Unlock()
	}
	for _, l := range p.labels {
		f.labels[l] = true
	}
}

func roundPage(n int) int {
	page := os.Getpagesize()
	if n <= 0 {
		return page
	}
	return (n + page - 1) / page * page
}

// Add adds a field to the file under label (after the label prefix).
// Readers see the field appear whole: its first word, holding the label
// size, is published last with one atomic store. When the file's pages
// are full, the file grows: a larger copy replaces it at its path and is
// mapped where the old one was, so the fields keep working without a
// pause; readers that follow the path see the new file, and a reader
// that mapped the old one keeps it, complete, with the values it had.
// A full file system is an error wrapping syscall.ENOSPC that leaves the
// file as it was. Options set the field's kind and unit (WithKind,
// WithUnit); an option the field type cannot honour is an error.
func (f *File) Add(label string, field Field, options ...AddOption) error {
	if f == nil {
		return ErrNilFile
	}
	var o fieldOptions
	for _, opt := range options {
		if err := opt(&o); err != nil {
			return err
		}
	}
	return f.add(label, field, o)
}

func (f *File) add(label string, field Field, o fieldOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	p, err := f.plan(label, field, o, f.end, map[string]bool{})
	if err != nil {
		return err
	}
	if !field.claim() {
		return fmt.Errorf("%w: %q", ErrAlreadyAdded, p.labels[0])
	}
	if need := p.end() + zeroWord; need > f.size {
		if need > len(f.mem) {
			field.unclaim()
			return fmt.Errorf("%w: %q needs %d bytes, MaxSize is %d", ErrFileFull, p.labels[0], roundPage(need), len(f.mem))
		}
		if err := f.grow(growSize(need, f.size, len(f.mem))); err != nil {
			field.unclaim()
			return err
		}
	}
	// Every field ends at a multiple of 4 (see place), so this field's
	// label_sz starts an aligned word that still reads 0, the end of the
	// list, until publishWord stores it; the later parts are complete
	// before that.
	first := p.places[0].offset
	p.write(f.mem, true)
	var word [4]byte
	binary.NativeEndian.PutUint16(word[:], uint16(len(p.labels[0])))
	copy(word[2:], f.mem[first+2:first+4])
	publishWord(f.mem, first, word)
	f.bindPlan(p)
	f.end = p.end()
	return nil
}

// Register adds the fields of model, a pointer to a struct, to the file.
// Each struct field whose type is a field type (or a pointer to one,
// allocated if nil) becomes a stat. The tag `mmstats:"label,key=value"`
// sets its label (default: the Go field name) and options: size=N for a
// String, window=N for a MovingAverage or Timer. `mmstats:"-"` skips it.
func (f *File) Register(model any) error {
	if f == nil {
		return ErrNilFile
	}
	fields, err := modelFields(model)
	if err != nil {
		return err
	}
	for _, l := range fields {
		if err := f.add(l.label, l.field, l.opts); err != nil {
			return err
		}
	}
	return nil
}

// addRefresher registers a field whose derived stats must be published
// every RefreshInterval, and starts the goroutine that does it.
func (f *File) addRefresher(r refresher) {
	f.rmu.Lock()
	f.refreshers = append(f.refreshers, r)
	r.refresh(time.Now())
	f.rmu.Unlock()
	f.startRefresh()
}

// startRefresh starts the goroutine that refreshes the derived stats and
// drains straggling updates every RefreshInterval, once.
func (f *File) startRefresh() {
	if f.stop == nil {
		f.stop, f.done = make(chan struct{}), make(chan struct{})
		go f.refreshLoop(f.opts.RefreshInterval, f.stop, f.done)
	}
}

// refreshLoop refreshes at the wall-clock multiples of interval (every
// whole second by default), not at multiples of the File's start: a
// reader that shows per-interval deltas (pollstats --view) and polls
// half-way between two ticks then sees exactly one refresh per second in
// each of its intervals, in every process, instead of 0 and 2 in turn.
func (f *File) refreshLoop(interval time.Duration, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTimer(time.Until(nextRefresh(time.Now(), interval)))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f.Refresh()
			t.Reset(time.Until(nextRefresh(time.Now(), interval)))
		}
	}
}

// nextRefresh returns the first wall-clock multiple of interval after now.
// A timer that fires a little early (clock steps, coarse timers) gets the
// next multiple, not the one it just passed, so no tick is doubled.
func nextRefresh(now time.Time, interval time.Duration) time.Time {
	next := now.Truncate(interval).Add(interval)
	if next.Sub(now) < interval/100 {
		next = next.Add(interval)
	}
	return next
}

// Refresh publishes the derived stats of the file's histograms, timers and
// time windows now, and any update that raced with a field being added.
// The File does it every Options.RefreshInterval and on Close; call it to
// publish at once, for example before a short-lived program exits.
func (f *File) Refresh() {
	if f == nil {
		return
	}
	f.refreshAt(time.Now())
}

// refreshAt publishes the derived stats as of now (tests pass a fake clock).
func (f *File) refreshAt(now time.Time) {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	for _, d := range f.drains {
		d.drain()
	}
	for _, r := range f.refreshers {
		r.refresh(now)
	}
}

// Path returns the file's path ("" for a nil *File).
func (f *File) Path() string {
	if f == nil {
		return ""
	}
	return f.opts.fullPath
}

// Size returns the file's size in bytes.
func (f *File) Size() int {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// Flush writes the file's pages to disk (msync) and waits until they are
// written. Readers never need a Flush: they see the mapping itself; it is
// for a file that must survive a crash of the machine.
func (f *File) Flush() error { return f.flush(false) }

// FlushAsync starts writing the file's pages to disk (msync) and returns
// without waiting.
func (f *File) FlushAsync() error { return f.flush(true) }

func (f *File) flush(async bool) error {
	if f == nil {
		return ErrNilFile
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if err := msync(f.mem[:f.size], async); err != nil {
		return fmt.Errorf("mmstats: msync %s: %w", f.opts.fullPath, err)
	}
	return nil
}

// Close detaches the fields from the file and releases it, leaving the
// file on disk (for a final read; cleanstats removes it later). Fields keep
// working afterwards, on private memory: a goroutine that still updates one
// neither faults nor changes the file. Close is idempotent.
func (f *File) Close() error {
	if f == nil {
		return ErrNilFile
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closeLocked()
}

func (f *File) closeLocked() error {
	err := f.detachLocked()
	if f.fd >= 0 {
		if cerr := closeFD(f.fd); err == nil {
			err = cerr
		}
		f.fd = -1
		markClosed(f.id)
	}
	return err
}

// detachLocked publishes the final values into the file and detaches the
// fields from it, keeping its descriptor, and with it the writer's lock.
func (f *File) detachLocked() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if f.stop != nil {
		close(f.stop)
		<-f.done
	}
	f.Refresh() // the final values of the derived stats, and stragglers
	f.releaseRefreshers()
	if err := detach(f.mem, f.size); err != nil {
		return fmt.Errorf("mmstats: close %s: %w", f.opts.fullPath, err)
	}
	return nil
}

// Remove deletes the file and closes it. It deletes the path only if it
// is still the file this File created.
//
// When the file name template has {PID} (the default), the file is
// folded first: its counters and histograms are added into the totals
// file of its directory (the template with {PID} made "totals" and {TID}
// dropped: mmstats-demo-totals.mmstats for the default), so that the
// tools' totals do not drop when a process exits; gauges are not folded.
// The fold is safe against other processes folding at the same moment
// (cleanstats, other writers exiting) and against this one being killed
// meanwhile. If the fold fails (the totals file's lock stays taken for
// 10 s, or it cannot be replaced: in a sticky directory such as /tmp
// only its owner can), the file stays, for cleanstats to fold, and the
// error says why. A File closed before is folded too, unless a cleanstats
// is folding it at that moment.
//
// When the file name template has both {PID} and {TID}, Remove also
// deletes, as Python mmstats 0.8.0 does, the files of this process's
// other threads (folding them likewise): the files of that name pattern
// that this process created (by device and inode, still at their path),
// never a file because of the PID written in it, which a process in
// another PID namespace may share. Remove is idempotent.
func (f *File) Remove() error {
	if f == nil {
		return ErrNilFile
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	errs := []error{f.removeOwn()}
	if strings.Contains(f.opts.Filename, "{PID}") && strings.Contains(f.opts.Filename, "{TID}") {
		errs = append(errs, f.removeThreadFiles())
	}
	unregister(f.id)
	errs = append(errs, f.closeLocked())
	return errors.Join(errs...)
}

// removeOwn folds the file, if it names a totals file, and deletes it.
func (f *File) removeOwn() error {
	detached := f.detachLocked() // the final values, in the file
	if f.fd >= 0 {
		return errors.Join(detached, f.foldAndUnlink(f.opts.fullPath, f.id, f.fd))
	}
	// Closed before: its lock went with its descriptor. An exclusive
	// lock keeps other folders away, as a Cleaner's does; if one holds
	// it, that Cleaner is folding the file now.
	fd, err := openLocked(f.opts.fullPath, f.id)
	if err != nil || fd < 0 {
		return err
	}
	defer closeFD(fd)
	return f.foldAndUnlink(f.opts.fullPath, f.id, fd)
}

// foldAndUnlink folds the file at path (this process's file id, open as
// fd, on which this process holds a lock) into the totals file its
// sys.totals names, then unlinks it if path still holds it. A file that
// names no totals file is only unlinked.
func (f *File) foldAndUnlink(path string, id fileID, fd int) error {
	var rerr error
	remove := func() {
		if now, regular, err := pathID(path); err == nil && regular && now == id {
			if err := unlink(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				rerr = err
			}
		}
	}
	res, err := fold.FoldPath(path, fd, remove)
	switch {
	case err != nil:
		return fmt.Errorf("mmstats: %s stays, for cleanstats to fold: cannot fold it into %s: %w", path, res.Totals, err)
	case res.Outcome == fold.NotFoldable:
		remove()
	}
	return rerr
}

// removeThreadFiles folds and deletes the files of this process's other
// threads.
func (f *File) removeThreadFiles() error {
	parts := strings.Split(f.opts.Filename, "{TID}")
	for i, p := range parts {
		parts[i] = convention.EscapeGlob(f.opts.expand(p))
	}
	var errs []error
	for id, path := range ownFilesMatching(filepath.Dir(f.opts.fullPath), strings.Join(parts, "*"), f.id) {
		errs = append(errs, f.removeOther(path, id))
		unregister(id)
	}
	return errors.Join(errs...)
}

// removeOther folds and deletes another file of this process.
func (f *File) removeOther(path string, id fileID) error {
	e, found := lookup(path)
	if !found {
		return nil // gone, or replaced
	}
	var fd int
	var err error
	if e.open {
		// Its File holds the writer's lock, as this one does: no
		// Cleaner folds it meanwhile.
		fd, err = openOwn(path, id)
	} else {
		fd, err = openLocked(path, id)
	}
	if err != nil || fd < 0 {
		return err
	}
	defer closeFD(fd)
	return f.foldAndUnlink(path, id, fd)
}
