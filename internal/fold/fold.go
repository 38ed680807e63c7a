package fold

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fileid"
)

// LockWait bounds how long a fold waits for the totals file's lock. A
// fold holds it for a few milliseconds; a longer wait means a folder is
// stuck (or someone holds the lock file on purpose), and the fold fails
// without changing anything: the file stays, to be folded later.
var LockWait = 10 * time.Second

// maxRead bounds how much of a stats file or a totals file is read.
const maxRead = 64 << 20

// Source is a stats file to fold.
type Source struct {
	// Dir is a descriptor of the file's directory.
	Dir int
	// Name is the file's name in Dir.
	Name string
	// FD is a descriptor of the file, on which the caller holds a lock
	// that keeps every other folder away: the writer's own shared lock
	// (a Cleaner cannot take its exclusive one meanwhile), or an
	// exclusive lock.
	FD int
	// Private lists the other names the file may have in Dir until
	// Remove is done with it (a Cleaner's private name, to which it
	// moves the file before unlinking it): they are recorded in
	// sys.folded with Name, so that the file is known as folded under
	// every name it can be found at.
	Private []string
	// Remove removes the file. Fold calls it with the totals lock held,
	// once the file is folded (now, or before a crash).
	Remove func()
}

// Outcome is what Fold did.
type Outcome int

const (
	// NotFoldable: the file names no totals file (no sys.totals, or one
	// that is not a valid name), or has no sys.id. Nothing was done: the
	// caller removes it as files were removed before folding.
	NotFoldable Outcome = iota
	// Folded: the file's stats are in the totals file now, and Remove
	// was called.
	Folded
	// AlreadyFolded: sys.folded listed the file (a folder died between
	// the commit and the removal); only Remove was called.
	AlreadyFolded
	// Vanished: the file was no longer at Name once the lock was taken:
	// another folder handled it. Nothing was done.
	Vanished
)

var outcomeNames = [...]string{NotFoldable: "not-foldable", Folded: "folded", AlreadyFolded: "already-folded", Vanished: "vanished"}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is the outcome of a fold.
type Result struct {
	Outcome Outcome
	// Totals is the name of the totals file in the directory (from the
	// file's sys.totals), also when the fold failed.
	Totals string
	// ID is the file's sys.id.
	ID uint64
}

// Step names the points of a fold, for TestHook.
type Step int

// The steps, in order.
const (
	StepLocked      Step = iota + 1 // the totals lock is taken
	StepRead                        // the totals file is read
	StepTempCreated                 // the new totals file exists under a temporary name, empty
	StepTempWritten                 // it is written, not yet renamed
	StepCommitted                   // it replaced the totals file: the commit point
	StepRemoved                     // Remove returned; the lock is still held
)

var stepNames = [...]string{StepLocked: "locked", StepRead: "read", StepTempCreated: "temp-created",
	StepTempWritten: "temp-written", StepCommitted: "committed", StepRemoved: "removed"}

func (s Step) String() string {
	if s > 0 && int(s) < len(stepNames) {
		return stepNames[s]
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// TestHook, if set, is called at each step of every fold with the
// folded file's name. It is for the fault-injection tests only, which
// kill the folding process at a chosen step; nothing else sets it.
var TestHook func(step Step, name string)

func hook(s Step, name string) {
	if TestHook != nil {
		TestHook(s, name)
	}
}

// Fold folds the stats file src into the totals file that its sys.totals
// names, in the same directory, then calls src.Remove. The protocol
// (see the package documentation) is safe against concurrent folders
// and against a folder killed at any instant: nothing is lost and
// nothing is counted twice. On error nothing was changed, or the totals
// file was replaced but the file not yet removed (a failed Remove is
// the caller's to report): the file is folded, and the next fold of it
// only removes it.
func Fold(src Source) (Result, error) {
	var f Folder
	defer f.Close()
	return f.Fold(src)
}

// HoldFor bounds how long a Folder keeps the totals lock between folds;
// then it lets the lock go for yieldFor, so that a writer folding its
// own file as it exits (which tries every few milliseconds) gets its
// turn.
const (
	HoldFor  = 200 * time.Millisecond
	yieldFor = 20 * time.Millisecond
)

// Folder folds files one after the other, as a Cleaner's run does:
// between two folds into the same totals file it keeps the lock, and so
// the totals file it read and wrote, for up to HoldFor, instead of
// taking the lock and reading the totals file again for each file.
// Each file is still committed on its own. Close releases the lock: call
// it as soon as no fold follows. The zero Folder is ready to use.
type Folder struct {
	dir    int
	name   string
	unlock func()
	since  time.Time // when the lock was taken
	t      *Totals
	old    totalsFile
}

// Close releases the totals lock, if the Folder holds it.
func (f *Folder) Close() {
	if f.unlock != nil {
		f.unlock()
	}
	*f = Folder{}
}

// Fold is the function Fold, keeping the lock for the next call.
func (f *Folder) Fold(src Source) (res Result, err error) {
	data, err := readFD(src.FD)
	if err != nil {
		return res, fmt.Errorf("read: %w", err)
	}
	me, err := scan(data)
	if err != nil {
		return res, err
	}
	if me.id == 0 || !convention.ValidTotalsName(me.totals) {
		return res, nil // NotFoldable
	}
	res.Totals, res.ID = me.totals, me.id

	switch {
	case f.unlock == nil:
	case f.dir != src.Dir || f.name != me.totals:
		f.Close()
	case time.Since(f.since) > HoldFor:
		f.Close()
		time.Sleep(yieldFor)
	}
	defer func() {
		if err != nil {
			f.Close() // what it holds may be amiss: read it again next time
		}
	}()
	if f.unlock == nil {
		unlock, err := lockTotals(src.Dir, me.totals)
		if err != nil {
			return res, err
		}
		*f = Folder{dir: src.Dir, name: me.totals, unlock: unlock, since: time.Now()}
		if f.t, f.old, err = readTotals(src.Dir, me.totals); err != nil {
			return res, fmt.Errorf("%s: %w", me.totals, err)
		}
	}
	hook(StepLocked, src.Name)

	// Under the lock, a file still at its name was neither removed nor
	// moved by another folder: they remove only under this lock.
	var self, st fileStat
	if err := fstat(src.FD, &self); err != nil {
		return res, err
	}
	if err := lstatAt(src.Dir, src.Name, &st); errors.Is(err, syscall.ENOENT) || err == nil && idOf(&st) != idOf(&self) {
		res.Outcome = Vanished
		return res, nil
	} else if err != nil {
		return res, err
	}

	t, old := f.t, f.old
	hook(StepRead, src.Name)
	res.Outcome = Folded
	names := append([]string{src.Name}, src.Private...)
	if t.IsFolded(me.id) {
		// Folded before a crash: only removed, unless the removal moves
		// it to a name sys.folded does not know yet (a Cleaner's new
		// private name): that name is recorded first, or a folder
		// killed after the move would leave it under a name that, once
		// the others are pruned, no entry covers.
		res.Outcome = AlreadyFolded
		names = slices.DeleteFunc(names, func(n string) bool { return t.hasEntry(me.id, n) })
		if len(names) == 0 {
			src.Remove()
			hook(StepRemoved, src.Name)
			return res, nil
		}
	}

	// T' = T + the file; sys.folded without the files known to be gone,
	// with the file under every name it may have until it is removed.
	t.prune(src.Dir)
	if res.Outcome == Folded {
		if err := t.Add(data); err != nil {
			return res, fmt.Errorf("read: %w", err)
		}
	}
	for _, n := range names {
		t.Folded = append(t.Folded, convention.FoldedEntry{ID: me.id, Name: n})
	}
	out, err := t.Bytes()
	if err != nil {
		return res, fmt.Errorf("%s: %w", me.totals, err)
	}
	owner := old
	if !old.exists {
		owner = totalsFile{exists: true, uid: self.Uid, gid: self.Gid, mode: uint32(self.Mode) & 0o777}
	}
	if owner.id, err = commit(src.Dir, me.totals, src.Name, out, old, owner); err != nil {
		return res, fmt.Errorf("%s: %w", me.totals, err)
	}
	f.old = owner
	hook(StepCommitted, src.Name)
	src.Remove()
	hook(StepRemoved, src.Name)
	return res, nil
}

// hasEntry reports whether sys.folded lists the file of sys.id id under
// name.
func (t *Totals) hasEntry(id uint64, name string) bool {
	for _, e := range t.Folded {
		if e.ID == id && e.Name == name {
			return true
		}
	}
	return false
}

// totalsFile is what a fold keeps of the totals file it read: to check
// that it is still the one before replacing it, and to give the new one
// the same owner and mode.
type totalsFile struct {
	exists   bool
	id       fileid.ID
	uid, gid uint32
	mode     uint32
}

// readTotals reads the totals file named name in dir: empty if there is
// none yet.
func readTotals(dir int, name string) (*Totals, totalsFile, error) {
	fd, err := openAt(dir, name)
	if errors.Is(err, syscall.ENOENT) {
		return &Totals{}, totalsFile{}, nil
	}
	if err != nil {
		return nil, totalsFile{}, err
	}
	defer closeFD(fd)
	var st fileStat
	if err := fstat(fd, &st); err != nil {
		return nil, totalsFile{}, err
	}
	if !isRegular(&st) {
		return nil, totalsFile{}, ErrNotTotals
	}
	data, err := readFD(fd)
	if err != nil {
		return nil, totalsFile{}, err
	}
	t, err := ParseTotals(data)
	if err != nil {
		return nil, totalsFile{}, err
	}
	return t, totalsFile{exists: true, id: idOf(&st), uid: st.Uid, gid: st.Gid, mode: uint32(st.Mode) & 0o777}, nil
}

// prune drops the entries of the files that are gone: the entries of a
// sys.id none of whose names holds a file with that sys.id. A folded
// file only moves between the names recorded with it (a Cleaner moves
// it to its private name to remove it, and puts it back under its name
// if it judges it alive, which two Cleaners looking at it at once can
// make it do), so the entries of one file go together. A name that
// cannot be read counts as holding the file.
func (t *Totals) prune(dir int) {
	present := map[uint64]bool{}
	for _, e := range t.Folded {
		if !present[e.ID] && holds(dir, e.Name, e.ID) {
			present[e.ID] = true
		}
	}
	kept := t.Folded[:0]
	for _, e := range t.Folded {
		if present[e.ID] {
			kept = append(kept, e)
		}
	}
	clear(t.Folded[len(kept):])
	t.Folded = kept
}

// holds reports whether name in dir may be a file whose sys.id is id:
// false only when it is known not to be (no such name, or another id).
func holds(dir int, name string, id uint64) bool {
	fd, err := openAt(dir, name)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ELOOP) {
		return false
	}
	if err != nil {
		return true
	}
	defer closeFD(fd)
	var st fileStat
	if err := fstat(fd, &st); err != nil {
		return true
	}
	if !isRegular(&st) {
		return false
	}
	data, err := readFD(fd)
	if err != nil {
		return true
	}
	s, err := scan(data)
	return err != nil || s.id == id
}

// commit writes data as the new totals file: under a temporary name,
// then renamed over the old one (if old.exists, and only if it is still
// there) or to the free name. The rename is the commit point. It returns
// the identity of the new totals file.
func commit(dir int, name, folding string, data []byte, old, owner totalsFile) (fileid.ID, error) {
	tmp, fd, err := createTemp(dir)
	if err != nil {
		return fileid.ID{}, err
	}
	committed := false
	defer func() {
		closeFD(fd)
		if !committed {
			unlinkAt(dir, tmp)
		}
	}()
	hook(StepTempCreated, folding)
	var st fileStat
	if err := pwriteAll(fd, data); err != nil {
		return fileid.ID{}, err
	}
	if err := fchmod(fd, owner.mode); err != nil {
		return fileid.ID{}, err
	}
	if err := fstat(fd, &st); err != nil {
		return fileid.ID{}, err
	}
	id := idOf(&st)
	if st.Uid != owner.uid || st.Gid != owner.gid {
		// Root's cleanstats keeps the owner, so that the writers can
		// fold into it in a sticky directory (/tmp); anyone else cannot
		// give a file away, and keeps it.
		fchown(fd, owner.uid, owner.gid)
	}
	hook(StepTempWritten, folding)
	switch err := lstatAt(dir, name, &st); {
	case old.exists && err == nil && idOf(&st) == old.id:
		err = renameAt(dir, tmp, name)
		committed = err == nil
		return id, err
	case !old.exists && errors.Is(err, syscall.ENOENT):
		err = renameNoReplace(dir, tmp, name)
		committed = err == nil
		return id, err
	case err != nil && !errors.Is(err, syscall.ENOENT):
		return fileid.ID{}, err
	}
	return fileid.ID{}, errors.New("replaced meanwhile by a program that does not take its lock")
}

// lockTotals takes the exclusive lock that serialises the folds into the
// totals file name, on its lock file in dir, waiting up to LockWait.
func lockTotals(dir int, name string) (unlock func(), err error) {
	lock := convention.LockName(name)
	fd, err := openLock(dir, lock)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock, err)
	}
	deadline := time.Now().Add(LockWait)
	for pause := time.Millisecond; ; pause = min(2*pause, 10*time.Millisecond) {
		ok, err := tryLock(fd)
		if err != nil {
			closeFD(fd)
			return nil, fmt.Errorf("lock %s: %w", lock, err)
		}
		if ok {
			return func() { closeFD(fd) }, nil
		}
		if time.Now().After(deadline) {
			closeFD(fd)
			return nil, fmt.Errorf("lock %s: %w", lock, ErrLockWait)
		}
		time.Sleep(pause)
	}
}

// ErrLockWait means the totals lock stayed taken for LockWait.
var ErrLockWait = errors.New("held by another folder for too long")

// tempName returns a fresh temporary name: a writer's (see
// convention.TempPrefix), which cleanstats removes once its lock is free
// and it is old enough.
func tempName() string {
	var b [convention.TempHex / 2]byte
	rand.Read(b[:])
	return convention.TempPrefix + hex.EncodeToString(b[:]) + convention.TempSuffix
}

// createTemp creates a temporary file in dir, holding a shared lock on
// it as a writer's temporary file does.
func createTemp(dir int) (name string, fd int, err error) {
	for tries := 0; ; tries++ {
		name = tempName()
		fd, err = createAt(dir, name)
		if errors.Is(err, os.ErrExist) && tries < 8 {
			continue
		}
		if err != nil {
			return "", -1, err
		}
		if _, err := tryLockShared(fd); err != nil {
			closeFD(fd)
			unlinkAt(dir, name)
			return "", -1, err
		}
		return name, fd, nil
	}
}
