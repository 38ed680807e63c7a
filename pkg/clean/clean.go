package clean

import (
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fileid"
	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/pkg/reader"
)

// DefaultStartSlack is how much later than sys.created a process may seem
// to have started and still be the file's writer: /proc/stat's boot time
// has a resolution of one second.
const DefaultStartSlack = 2 * time.Second

// Cleaner removes stale mmstats files. The zero value removes them, with
// the system's probes.
type Cleaner struct {
	// DryRun decides but removes nothing: stale files are reported as
	// WouldRemove.
	DryRun bool
	// Probe answers the questions about processes and locks; nil means
	// SystemProbe().
	Probe Probe
	// StartSlack is how much later than sys.created a process may start
	// and still be the writer; 0 means DefaultStartSlack.
	StartSlack time.Duration

	// beforeRemove, if set, runs between the decision and the removal:
	// tests use it to replace a file at the worst moment.
	beforeRemove func(path string)
	// rename, if set, replaces renameNoReplace for the move aside: tests
	// use it to fail a removal where permissions cannot (as root).
	rename func(dir int, from, to string) error
	// afterAside, if set, runs once the file is moved aside, before it
	// is checked: tests use it to take its name again.
	afterAside func(path, aside string)
	// now, if set, replaces time.Now for the age of temporary files.
	now func() time.Time
}

// Clean handles each path in turn and calls report with its result
// (report may keep it). It stops early only when report
// returns an error, which it returns. Failures to handle a file are
// results (Decision Failed), not errors.
func (c *Cleaner) Clean(paths []string, report func(*Result) error) error {
	return c.CleanEntries(entriesOf(paths), report)
}

// CleanEntries is Clean for entries whose types the listing of their
// directory may have given (MatchEntries): a file listed as a symlink,
// a directory or anything but a regular file is reported without being
// opened, and the others are opened without a stat before.
func (c *Cleaner) CleanEntries(entries []Entry, report func(*Result) error) error {
	return c.cleanEntries(entries, report, false)
}

// CleanEntriesTransient is CleanEntries for a report that does not keep
// the *Result it is given, nor anything it points to, once it returns:
// every file's result is made in the same Result, rather than in a new
// one each that the collector frees later (cleanstats prints a line
// and counts).
func (c *Cleaner) CleanEntriesTransient(entries []Entry, report func(*Result) error) error {
	return c.cleanEntries(entries, report, true)
}

func (c *Cleaner) cleanEntries(entries []Entry, report func(*Result) error, transient bool) error {
	r := c.start()
	defer r.close()
	r.files = len(entries)
	pf := startPrefetch(c, entries)
	defer pf.stop()
	one := new(Result) // the Result of each file, if transient
	for i := range entries {
		res := one
		if !transient {
			res = new(Result) // report may keep it
		}
		*res = r.cleanNext(&entries[i], pf.next())
		if res.Decision != Removed || res.FoldedInto == "" {
			r.folder.Close() // the totals lock is kept across consecutive folds only
		}
		if err := report(res); err != nil {
			return err
		}
	}
	return nil
}

// CleanFile handles one path.
func (c *Cleaner) CleanFile(path string) Result {
	r := c.start()
	defer r.close()
	return r.clean(path)
}

// run is one Clean call: the /proc cache, the open directory and the
// read buffer it reuses.
type run struct {
	c       *Cleaner
	probe   Probe
	judge   *judge
	dirPath string
	dirFD   int
	dirErr  error
	ld      loader // reads the files this goroutine opens
	// closing takes the descriptors of removed files to close (see
	// closeLater); closed is closed when they all are.
	closing chan []int
	closed  chan struct{}
	toClose []int // not handed over yet
	// moved holds the files this run renamed or unlinked: a file read
	// ahead before is not judged on that reading.
	// Keyed by movedKey: two files with one key (a hash) only cost
	// a file judged again, as if moved.
	moved map[uint64]struct{}
	// movedBits filters moved: the bit movedBit of each key in it is
	// set, so that a file whose bit is clear (most files read ahead)
	// is known not moved without a look in the map. files (the
	// number of entries of the Clean call) sizes it.
	movedBits []uint64
	files     int
	// settling is set while remove judges a file that was renamed over
	// the name of the one it removes, so that doing so cannot recurse.
	settling bool
	// folder folds the stale files, keeping the totals lock between
	// consecutive folds into the same totals file.
	folder fold.Folder
	// target is the file cleanNext handles when it was not read ahead.
	target target
}

func (c *Cleaner) start() *run {
	p := c.Probe
	if p == nil {
		p = SystemProbe()
	}
	slack := c.StartSlack
	if slack <= 0 {
		slack = DefaultStartSlack
	}
	return &run{c: c, probe: p, judge: newJudge(p, slack.Seconds()), dirFD: -1}
}

// moving notes that the run is about to rename or unlink the file id.
func (r *run) moving(id fileID) {
	if r.moved == nil {
		// Sized for half the files moved, as where half are stale:
		// a map grown from nothing moves its keys again and again.
		r.moved = make(map[uint64]struct{}, min(r.files/2, 1<<16))
		// Eight bits a file at least: a file not moved finds its
		// bit set (and looks in the map) with a chance of one in
		// eight when every file was moved, one in 16 when half were.
		r.movedBits = make([]uint64, 1<<bits.Len(uint(max(r.files, 512)*8/64-1)))
	}
	k := movedKey(id)
	r.moved[k] = struct{}{}
	w, b := r.movedBit(k)
	r.movedBits[w] |= b
}

// movedBit returns the word of run.movedBits and the bit in it of the
// key k of moved.
func (r *run) movedBit(k uint64) (int, uint64) {
	h := k * 0x9e3779b97f4a7c15 >> 32 // movedKey's low bits are the inode's
	return int(h>>6) & (len(r.movedBits) - 1), 1 << (h & 63)
}

// wasMoved reports whether the run may have renamed or unlinked the
// file id (moving).
func (r *run) wasMoved(id fileID) bool {
	if r.moved == nil {
		return false
	}
	k := movedKey(id)
	if w, b := r.movedBit(k); r.movedBits[w]&b == 0 {
		return false
	}
	_, ok := r.moved[k]
	return ok
}

// movedKey hashes a file's identity into a key of run.moved, which a
// uint64 key makes cheap to look up.
func movedKey(id fileID) uint64 { return id.Ino ^ (id.Dev * 0x9e3779b97f4a7c15) }

// closeLater closes fd on the run's closing goroutine, started on the
// first call, in batches of closeBatch (one hand-over for a batch);
// run.close closes the rest and waits for it.
func (r *run) closeLater(fd int) {
	if r.closing == nil {
		r.closing = make(chan []int, 4)
		r.closed = make(chan struct{})
		go func() {
			defer close(r.closed)
			for fds := range r.closing {
				for _, fd := range fds {
					closeFD(fd)
				}
			}
		}()
	}
	r.toClose = append(r.toClose, fd)
	if len(r.toClose) == closeBatch {
		r.closing <- r.toClose
		r.toClose = make([]int, 0, closeBatch)
	}
}

// closeBatch is how many descriptors closeLater hands over at once.
const closeBatch = 16

func (r *run) close() {
	if r.closing != nil {
		r.closing <- r.toClose
		r.toClose = nil
		close(r.closing)
		<-r.closed
		r.closing = nil
	}
	r.ld.snap.Close()
	r.folder.Close()
	if r.dirFD >= 0 {
		closeFD(r.dirFD)
		r.dirFD = -1
	}
}

// dir returns a descriptor of directory path, keeping the last one open:
// the paths of a run come sorted, a directory's files together.
func (r *run) dir(path string) (int, error) {
	if path == r.dirPath && (r.dirFD >= 0 || r.dirErr != nil) {
		return r.dirFD, r.dirErr
	}
	r.close()
	r.dirPath = path
	r.dirFD, r.dirErr = openDir(path)
	if r.dirErr != nil {
		r.dirFD = -1
	}
	return r.dirFD, r.dirErr
}

// clean handles one path.
func (r *run) clean(path string) Result { return r.cleanNext(&Entry{Path: path}, nil) }

// splitPath returns the directory and the name of path, as filepath.Dir
// and filepath.Base of its filepath.Clean would, cleaning it once.
func splitPath(path string) (dir, name string) {
	clean := path
	if !looksClean(path) {
		clean = filepath.Clean(path)
	}
	k := strings.LastIndexByte(clean, filepath.Separator)
	switch {
	case k < 0:
		return ".", clean
	case clean == string(filepath.Separator):
		return clean, clean
	case k == 0:
		return clean[:1], clean[1:]
	}
	return clean[:k], clean[k+1:]
}

// looksClean reports, cheaply, that filepath.Clean would leave path as
// it is: no repeated separator, no "." or ".." element (each follows a
// separator or starts the path), no separator at the end. It may say no
// of a clean path (a hidden file's), never yes of another.
func looksClean(path string) bool {
	const sep = filepath.Separator
	if path == "" || path[0] == '.' {
		return false
	}
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == sep:
			if i+1 == len(path) || path[i+1] == sep || path[i+1] == '.' {
				return false
			}
		case c == '/':
			return false // another separator, where sep is not '/'
		}
	}
	return true
}

// cleanNext handles one entry; pre, if not nil, is what the prefetcher
// read of it (opened and read, and for a file with the sys.flock
// marker, its lock tried).
func (r *run) cleanNext(e *Entry, pre *prefetched) (res Result) {
	path := e.Path
	res = Result{Path: path}
	var dirPath, name string
	if pre != nil {
		// As the prefetcher split and named it.
		dirPath, name, res.Kind = pre.dir, pre.t.name, pre.res.Kind
	} else {
		dirPath, name = splitPath(path)
		res.Kind = KindOf(name)
	}
	dfd, err := r.dir(dirPath)
	if err != nil {
		if pre != nil {
			pre.t.close()
		}
		return res.fail(OpenFailed, fmt.Errorf("open directory: %w", err))
	}
	t := &r.target // not read ahead: this call's (remove never calls cleanNext)
	*t = target{dir: dfd, name: name, fd: -1, typ: e.Type, listed: e.Listed}
	defer func() {
		// And with it the lock, if taken. The last close of a file
		// removed frees it, as rm's unlink does: that can happen on
		// another CPU while the run goes on, the file gone from the
		// directory already.
		if res.Decision == Removed && t.fd >= 0 {
			if t.held != nil {
				t.held.forget(t.id)
				t.held = nil
			}
			r.closeLater(t.fd)
			t.fd = -1
		}
		t.close()
	}()
	if pre != nil && (res.Kind == Temporary || res.Kind == Aside) {
		pre.t.close() // not read ahead (see lane.run); never used
		pre = nil
	}
	switch res.Kind {
	case Temporary:
		return r.temporary(t, res, name)
	case Aside:
		return r.aside(t, res, filepath.Join(dirPath, asideOrigin(name)))
	}
	if pre != nil && (!pre.opened || r.wasMoved(pre.t.id)) {
		// Not opened (it may be there now), or a file this run moved
		// or removed since it was read ahead (whose lock the run may
		// have held when it was tried): what the name holds now is
		// opened again, as it would have been without reading ahead.
		pre.t.close()
		pre = nil
	}
	var w Writer
	if pre != nil {
		// Opened through the prefetcher's descriptor of the directory:
		// what follows acts through this one, and checks by identity
		// that the name still is the file opened, as always.
		t = &pre.t
		t.dir = dfd
		if res = pre.res; !pre.ok {
			return res
		}
		w = pre.w
	} else {
		if !r.open(t, &res) {
			return res
		}
		var ok bool
		if w, ok = r.writer(t, &res); !ok {
			return res
		}
	}
	if w.IsTotals {
		res.Kind = Totals
		return res.skip(TotalsFile, nil)
	}
	v := r.judge.decide(&w, func() (bool, error) {
		if pre != nil && pre.lock.tried {
			// Tried by the prefetcher, which keeps the lock taken
			// (and closed the file if a writer holds it).
			free, err := pre.lock.free, pre.lock.err
			if pre.lock.ours {
				// This run held it, for another entry of this file:
				// tried again now. If the run still holds it (for an
				// entry after this one, whose descriptor stays open
				// until then), no writer does, nor can until then.
				var ours bool
				free, ours, err = pre.lock.held.tryLock(t.fd, t.id)
				if free {
					t.held = pre.lock.held
				} else if err == nil && ours {
					t.locked = true
					return true, nil
				}
			}
			t.locked = err == nil && free
			return free, err
		}
		free, err := r.probe.TryLock(t.fd)
		t.locked = err == nil && free && takesLock(r.probe)
		return free, err
	})
	res.Decision, res.Reason, res.Err, res.Process = v.decision, v.reason, v.err, v.proc
	if v.decision != Removed {
		return res
	}
	res.FoldedInto = foldsInto(&w, res.Path)
	if r.c.DryRun {
		res.Decision = WouldRemove
		return res
	}
	if res.FoldedInto != "" {
		return r.foldRemove(t, res, asideName(name))
	}
	return r.remove(t, res, asideName(name))
}

// target is the file a run is handling: its name in an open directory,
// and once opened its descriptor and identity.
type target struct {
	dir  int
	name string
	fd   int
	st   fileStat
	id   fileID
	// locked: this run holds the exclusive lock on fd already (the
	// system's probe took it to judge the file).
	locked bool
	// typ is the file's type as its directory's listing gave it, when
	// listed (see Entry); otherwise open lstats it first.
	typ    fs.FileMode
	listed bool
	// held, if set, notes the lock that fd holds (see heldSet), and
	// closes fd.
	held *heldSet
}

// fileID is the identity of a file: its device and inode.
type fileID = fileid.ID

func (t *target) close() {
	if t.held != nil {
		t.held.close(t.fd, t.id)
		t.held, t.fd = nil, -1
		return
	}
	if t.fd >= 0 {
		closeFD(t.fd)
		t.fd = -1
	}
}

func (res *Result) skip(reason Reason, err error) Result {
	res.Decision, res.Reason, res.Err = Skipped, reason, err
	return *res
}

func (res *Result) fail(reason Reason, err error) Result {
	if errors.Is(err, syscall.ENOENT) {
		return res.skip(Vanished, ErrVanished)
	}
	res.Decision, res.Reason, res.Err = Failed, reason, err
	return *res
}

// open opens t, a regular file and not a symlink, and fills in its
// identity. When it cannot, it sets res and returns false.
func (r *run) open(t *target, res *Result) bool { return r.ld.open(t, res) }

// open is run.open, for the goroutine that owns l.
func (l *loader) open(t *target, res *Result) bool {
	// A symlink, a FIFO, a device is never opened on purpose: the
	// listing says what it is, or else lstat. What the name holds may
	// have changed since: O_NOFOLLOW refuses a symlink, O_NONBLOCK
	// keeps a FIFO from hanging the run, and fstat checks that what
	// opened is a regular file before anything reads it.
	if t.listed {
		if listedSkip(t.typ, res) {
			return false
		}
	} else if err := lstatAt(t.dir, t.name, &t.st); err != nil {
		*res = res.fail(OpenFailed, fmt.Errorf("stat: %w", err))
		return false
	} else {
		switch {
		case isSymlink(&t.st):
			*res = res.skip(Symlink, reader.ErrSymlink)
			return false
		case !isRegular(&t.st):
			*res = res.skip(NotRegular, fmt.Errorf("%w (%s)", reader.ErrNotRegular, typeName(&t.st)))
			return false
		}
	}
	fd, err := openAt(t.dir, t.name)
	if errors.Is(err, syscall.ELOOP) {
		*res = res.skip(Symlink, reader.ErrSymlink) // swapped in since the stat
		return false
	} else if err != nil {
		*res = res.fail(OpenFailed, fmt.Errorf("open: %w", err))
		return false
	}
	t.fd = fd
	if err := fstat(fd, &t.st); err != nil {
		*res = res.fail(ReadFailed, fmt.Errorf("fstat: %w", err))
		return false
	}
	if !isRegular(&t.st) {
		*res = res.skip(NotRegular, fmt.Errorf("%w (%s)", reader.ErrNotRegular, typeName(&t.st)))
		return false
	}
	t.id = idOf(&t.st)
	return true
}

// writer reads what the open file t says about its writer. When it cannot,
// it sets res and returns false.
func (r *run) writer(t *target, res *Result) (Writer, bool) { return r.ld.writer(t, res) }

// writer is run.writer, for the goroutine that owns l.
func (l *loader) writer(t *target, res *Result) (Writer, bool) {
	w, ioErr, err := l.load(t.fd, t.st.Size, res.Path)
	res.Writer = w
	if ioErr != nil {
		*res = res.fail(ReadFailed, fmt.Errorf("read: %w", ioErr))
		return w, false
	}
	if err != nil {
		*res = res.skip(Invalid, err)
		return w, false
	}
	return w, true
}

func (r *run) now() time.Time {
	if r.c.now != nil {
		return r.c.now()
	}
	return time.Now()
}

// load reads the file behind fd (size bytes, as fstat said; its path is
// name) and parses what it says about its writer. ioErr is a read error;
// err means the file is not a valid mmstats file.
//
// A file of the Go writer's size is read by the run's Snapshot: a file
// whose layout the one before had (the workers of one program) costs
// the reads of its few hundred bytes of layout and values, and the
// fields the rules look at are found once for all the files of that
// layout. A larger one is read by loadLarge.
func (l *loader) load(fd int, size int64, name string) (w Writer, ioErr, err error) {
	if size > reader.MaxSnapshot {
		return l.loadLarge(fd, size)
	}
	defer l.snap.Close()
	f := &l.file
	if err := l.snap.ReadFDHint(f, fd, name, size, &l.hint); err != nil {
		ioErr, err := readError(err)
		return Writer{}, ioErr, err
	}
	fields := l.wanted[:0]
	if sl := f.SharedLayout(); sl != nil && sl == l.layout {
		fields = l.wanted
	} else {
		l.idx = l.idx[:0]
		f.ScanFields(func(i int, fl *reader.Field) bool {
			if wantedField(fl.Label) {
				fields = append(fields, wanted{i, fl.Label, fieldOf(fl.Label)})
				if fieldOf(fl.Label) != convention.Folded { // read: see writerScan.addAs
					l.idx = append(l.idx, i)
				}
			}
			return true
		})
		l.layout, l.wanted = sl, fields
	}
	// The values, in one call (one guard for them all), then taken in
	// file order as writerScan takes them: an error of any is the
	// file's, as when they are read one by one.
	if cap(l.vals) < len(l.idx) {
		l.vals = make([]reader.Value, len(l.idx))
	}
	vals := l.vals[:len(l.idx)]
	var ws writerScan
	if err := f.Values(l.idx, vals); err != nil {
		if pe, ok := err.(*reader.PathError); ok {
			err = pe.Err
		}
		ws.valErr = err
	}
	k := 0
	for _, wf := range fields {
		ws.addAs(wf.which, wf.label, func() (reader.Value, error) {
			k++
			return vals[k-1], nil
		})
	}
	w, err = ws.result()
	return w, nil, err
}

// wanted is a field the rules look at: its index and label.
type wanted struct {
	i            int
	label, which string // which: fieldOf(label)
}

// readError sorts an error of reading a file: an error of the system
// (ioErr), or a file that is not a valid mmstats file (err), as a file
// that shrank while it was read, whose fields a read of fewer bytes
// found cut short, always was.
func readError(err error) (ioErr, invalid error) {
	if pe, ok := err.(*reader.PathError); ok {
		err = pe.Err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return err, nil
	}
	return nil, err
}

// loadLarge is load for a file larger than a Snapshot copies: it reads
// firstRead bytes, and the rest (up to maxRead) only if the fields run
// to the end of what it read. It walks the fields without keeping them,
// so its memory is the bytes read, whatever the number of fields.
func (l *loader) loadLarge(fd int, size int64) (w Writer, ioErr, err error) {
	n := min(size, firstRead)
	for {
		if int64(cap(l.buf)) < n {
			l.buf = nil // let the old buffer go before the new one comes
			l.buf = make([]byte, n)
		}
		data, ioErr := preadFull(fd, l.buf[:n])
		if ioErr != nil {
			return Writer{}, ioErr, nil
		}
		w, end, scanErr, err := scanWriter(data)
		if int64(len(data)) < n || n >= size || !inconclusive(data, end, scanErr) {
			if scanErr != nil {
				return Writer{}, nil, scanErr
			}
			return w, nil, err
		}
		if n >= maxRead {
			return Writer{}, nil, ErrTooLarge
		}
		// The rest at once: walking the fields again costs more than
		// reading bytes that may not be needed.
		n = min(size, maxRead)
	}
}
