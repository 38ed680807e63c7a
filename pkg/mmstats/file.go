package mmstats

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// File is one stats file: a memory-mapped v1 file in MMSTATS_PATH and the
// fields that write into it. Its methods are safe for concurrent use; the
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
	closed bool

	defaults defaultFields

	rmu        sync.Mutex // guards refreshers and serialises refreshes
	refreshers []refresher
	stop, done chan struct{} // the refresher goroutine, once started
}

// defaultFields are the fields every file has, as the Python MmStats model
// does, plus sys.flock: it says that the writer holds a shared flock(2) on
// the file for as long as it lives, which cleanstats uses to tell a live
// file from a stale one even across PID reuse and PID namespaces.
type defaultFields struct {
	PID     StaticUInt   `mmstats:"sys.pid"`
	TID     StaticInt64  `mmstats:"sys.tid"`
	UID     StaticUInt64 `mmstats:"sys.uid"`
	GID     StaticUInt64 `mmstats:"sys.gid"`
	Version StaticText   `mmstats:"org.golang.version"`
	Created StaticDouble `mmstats:"sys.created,kind=timestamp,unit=seconds"`
	Flock   Bool         `mmstats:"sys.flock"`
}

// New creates a stats file holding the fields of model and the default
// fields, and returns it once the file is complete and visible under its
// final name. model is a pointer to a struct whose fields are field types
// (see Register for the tags), or nil for a file with only the defaults.
//
// The file is built under a temporary name in the same directory and
// renamed into place without replacing anything: if the name is taken, New
// fails with an error wrapping os.ErrExist. It never follows a symlink.
func New(model any, opts Options) (*File, error) {
	var fields []labeled
	if model != nil {
		var err error
		if fields, err = modelFields(model); err != nil {
			return nil, err
		}
	}
	f := &File{opts: opts.resolve(), fd: -1, labels: map[string]bool{}}
	if err := f.setDefaults(); err != nil {
		return nil, err
	}
	defaults, err := modelFields(&f.defaults)
	if err != nil {
		return nil, err
	}
	if err := f.create(append(fields, defaults...)); err != nil {
		return nil, err
	}
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
	)
}

// create lays out the fields, writes the file under a temporary name,
// renames it into place and binds the fields to it.
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

	f.size = roundPage(off)
	reserve := max(roundPage(f.opts.MaxSize), f.size)
	final := f.opts.fullPath
	tmp := filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".tmp"+randomSuffix())
	if f.fd, err = createExclusive(tmp); err != nil {
		return fmt.Errorf("mmstats: create %s: %w", tmp, err)
	}
	published := false
	defer func() {
		if err != nil {
			if !published {
				unlink(tmp)
			}
			if f.mem != nil {
				unmap(f.mem)
				f.mem = nil
			}
			closeFD(f.fd)
			f.fd = -1
		}
	}()
	if err = lockShared(f.fd); err != nil {
		return fmt.Errorf("mmstats: flock %s: %w", tmp, err)
	}
	if err = resize(f.fd, f.size); err != nil {
		return fmt.Errorf("mmstats: resize %s: %w", tmp, err)
	}
	if f.mem, err = mapReserve(f.fd, reserve); err != nil {
		return fmt.Errorf("mmstats: mmap %s: %w", tmp, err)
	}
	f.mem[0] = reader.Version1
	for _, p := range plans {
		p.write(f.mem, false)
	}
	if err = chmod(f.fd, uint32(f.opts.Mode.Perm())); err != nil {
		return fmt.Errorf("mmstats: chmod %s: %w", tmp, err)
	}
	if f.id, err = fdID(f.fd); err != nil {
		return fmt.Errorf("mmstats: stat %s: %w", tmp, err)
	}
	if err = renameNoReplace(tmp, final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mmstats: %s already exists (a stale file? see cleanstats): %w", final, os.ErrExist)
		}
		return fmt.Errorf("mmstats: rename %s to %s: %w", tmp, final, err)
	}
	published = true
	f.end = off
	for _, p := range plans {
		p.bind(f, f.mem)
		for _, l := range p.labels {
			f.labels[l] = true
		}
	}
	return nil
}

func roundPage(n int) int {
	page := os.Getpagesize()
	if n <= 0 {
		return page
	}
	return (n + page - 1) / page * page
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Add adds a field to the file under label (after the label prefix),
// appending it to the file, which grows by whole pages when full. Readers
// see the field appear whole: its first word, holding the label size, is
// published last with one atomic store. Options set the field's kind and
// unit (WithKind, WithUnit).
func (f *File) Add(label string, field Field, options ...AddOption) error {
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
	if end := p.end(); end > f.size {
		size := roundPage(end)
		if size > len(f.mem) {
			field.unclaim()
			return fmt.Errorf("%w: %q needs %d bytes, MaxSize is %d", ErrFileFull, p.labels[0], size, len(f.mem))
		}
		if err := resize(f.fd, size); err != nil {
			field.unclaim()
			return fmt.Errorf("mmstats: grow %s: %w", f.opts.fullPath, err)
		}
		f.size = size
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
	p.bind(f, f.mem)
	for _, l := range p.labels {
		f.labels[l] = true
	}
	f.end = p.end()
	return nil
}

// Register adds the fields of model, a pointer to a struct, to the file.
// Each struct field whose type is a field type (or a pointer to one,
// allocated if nil) becomes a stat. The tag `mmstats:"label,key=value"`
// sets its label (default: the Go field name) and options: size=N for a
// String, window=N for a MovingAverage or Timer. `mmstats:"-"` skips it.
func (f *File) Register(model any) error {
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
	if f.stop == nil {
		f.stop, f.done = make(chan struct{}), make(chan struct{})
		go f.refreshLoop(f.opts.RefreshInterval, f.stop, f.done)
	}
}

func (f *File) refreshLoop(interval time.Duration, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f.Refresh()
		}
	}
}

// Refresh publishes the derived stats of the file's histograms, timers and
// time windows now. The File does it every Options.RefreshInterval and on
// Close; call it to publish at once, for example before a short-lived
// program exits.
func (f *File) Refresh() { f.refreshAt(time.Now()) }

// refreshAt publishes the derived stats as of now (tests pass a fake clock).
func (f *File) refreshAt(now time.Time) {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	for _, r := range f.refreshers {
		r.refresh(now)
	}
}

// Path returns the file's path.
func (f *File) Path() string { return f.opts.fullPath }

// Size returns the file's size in bytes.
func (f *File) Size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// Flush writes the file's pages to disk (msync). With async, it starts the
// write and returns without waiting. Readers never need a Flush: they see
// the mapping itself.
func (f *File) Flush(async bool) error {
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
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closeLocked()
}

func (f *File) closeLocked() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if f.stop != nil {
		close(f.stop)
		<-f.done
	}
	f.Refresh() // the final values of the derived stats
	err := detach(f.mem, f.size)
	if cerr := closeFD(f.fd); err == nil {
		err = cerr
	}
	f.fd = -1
	if err != nil {
		return fmt.Errorf("mmstats: close %s: %w", f.opts.fullPath, err)
	}
	return nil
}

// Remove deletes the file and closes it. When the file name template has
// both {PID} and {TID}, it also deletes this process's files for other
// threads, as Python mmstats 0.8.0 does: regular files only, never through
// a symlink, and only those whose sys.pid is this process. It deletes its
// own path only if that is still the file it created. Remove is idempotent.
func (f *File) Remove() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	if id, regular, err := pathID(f.opts.fullPath); err == nil && regular && id == f.id {
		if err := unlink(f.opts.fullPath); err != nil {
			errs = append(errs, err)
		}
	}
	if strings.Contains(f.opts.Filename, "{PID}") && strings.Contains(f.opts.Filename, "{TID}") {
		errs = append(errs, f.removeThreadFiles())
	}
	errs = append(errs, f.closeLocked())
	return errors.Join(errs...)
}

// removeThreadFiles deletes the files of this process's other threads.
func (f *File) removeThreadFiles() error {
	parts := strings.Split(f.opts.Filename, "{TID}")
	for i, p := range parts {
		parts[i] = escapeGlob(f.opts.expand(p))
	}
	matches, err := filepath.Glob(filepath.Join(escapeGlob(f.opts.dir), strings.Join(parts, "*")))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		if m == f.opts.fullPath {
			continue
		}
		id, regular, err := pathID(m)
		if err != nil || !regular || !f.ownedByThisProcess(m) {
			continue
		}
		if now, _, err := pathID(m); err == nil && now == id {
			if err := unlink(m); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ownedByThisProcess reports whether path is an mmstats file whose
// sys.pid is this process.
func (f *File) ownedByThisProcess(path string) bool {
	rf, err := reader.OpenNoFollow(path)
	if err != nil {
		return false
	}
	defer rf.Close()
	stats, err := rf.Stats()
	if err != nil {
		return false
	}
	for _, s := range stats {
		if strings.HasSuffix(s.Label, "sys.pid") {
			return s.Value.Uint() == uint64(f.opts.pid)
		}
	}
	return false
}

func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}
