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
// stuck (or someone holds the totals file's lock on purpose), and the fold fails
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
	locked bool
	dir    int
	name   string
	fd     int       // the totals file, locked: closing it releases the lock
	since  time.Time // when the lock was taken
	t      *Totals
	old    totalsFile
}

// Close releases the totals lock, if the Folder holds it.
func (f *Folder) Close() {
	if f.locked {
		closeFD(f.fd)
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
	case !f.locked:
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
	var self, st fileStat
	if err := fstat(src.FD, &self); err != nil {
		return res, err
	}
	if !f.locked {
		// A totals file made now is the folded file's owner's, with its
		// mode: see commit.
		owner := totalsFile{uid: self.Uid, gid: self.Gid, mode: uint32(self.Mode) & 0o777}
		fd, err := lockTotals(src.Dir, me.totals, owner)
		if err != nil {
			return res, fmt.Errorf("%s: %w", me.totals, err)
		}
		*f = Folder{locked: true, dir: src.Dir, name: me.totals, fd: fd, since: time.Now()}
		if f.t, f.old, err = readTotals(fd); err != nil {
			return res, fmt.Errorf("%s: %w", me.totals, err)
		}
	}
	hook(StepLocked, src.Name)

	// Under the lock, a file still at its name was neither removed nor
	// moved by another folder: they remove only under this lock.
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
	fd, id, err := commit(src.Dir, me.totals, src.Name, out, old)
	if err != nil {
		return res, fmt.Errorf("%s: %w", me.totals, err)
	}
	// The new totals file came locked: the lock moves to it with the
	// name, and the old one's, which waiting folders hold no more use
	// for, is released (they find the name moved on, and wait for the
	// new one).
	closeFD(f.fd)
	f.fd, f.old.id = fd, id
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
	id       fileid.ID
	uid, gid uint32
	mode     uint32
}

// readTotals reads the totals file open as fd.
func readTotals(fd int) (*Totals, totalsFile, error) {
	var st fileStat
	if err := fstat(fd, &st); err != nil {
		return nil, totalsFile{}, err
	}
	data, err := readFD(fd)
	if err != nil {
		return nil, totalsFile{}, err
	}
	t, err := ParseTotals(data)
	if err != nil {
		return nil, totalsFile{}, err
	}
	return t, totalsFile{id: idOf(&st), uid: st.Uid, gid: st.Gid, mode: uint32(st.Mode) & 0o777}, nil
}

// KeepGone is how many of the files folded last sys.folded keeps listing
// after they are gone. A reader that opened a file before it was folded
// and removed, and opens the totals file again after, must still find it
// listed, or it would count it twice (once in the file it holds, once in
// the totals): that takes KeepGone more folds during one reading. And a
// poller (pollstats) that showed a file which has gone since its last
// look finds it listed, so it knows that the file's values moved into the
// totals file. Entries take some 50 bytes each: the totals file stays
// small, whatever the number of files folded into it.
const KeepGone = 64

// prune drops the entries of the files that are gone, but for those of
// the KeepGone-1 files folded last (the file being folded is listed
// after, and makes KeepGone): the entries of a sys.id none of whose
// names holds a file with that sys.id. A folded file only moves between
// the names recorded with it (a Cleaner moves it to its private name to
// remove it, and puts it back under its name if it judges it alive,
// which two Cleaners looking at it at once can make it do), so the
// entries of one file go together. A name that cannot be read counts as
// holding the file.
func (t *Totals) prune(dir int) {
	keep := map[uint64]bool{}
	recent := 0
	for i := len(t.Folded) - 1; i >= 0; i-- { // the last folded last
		id := t.Folded[i].ID
		if _, seen := keep[id]; seen {
			continue
		}
		keep[id] = recent < KeepGone-1
		recent++
	}
	for _, e := range t.Folded {
		if !keep[e.ID] && holds(dir, e.Name, e.ID) {
			keep[e.ID] = true
		}
	}
	kept := t.Folded[:0]
	for _, e := range t.Folded {
		if keep[e.ID] {
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
// locked, then renamed over the old one, if it is still there. The
// rename is the commit point. It returns the new totals file, open and
// locked, and its identity.
func commit(dir int, name, folding string, data []byte, old totalsFile) (fd int, id fileid.ID, err error) {
	tmp, fd, err := createTemp(dir)
	if err != nil {
		return -1, id, err
	}
	committed := false
	defer func() {
		if !committed {
			closeFD(fd)
			unlinkAt(dir, tmp)
		}
	}()
	hook(StepTempCreated, folding)
	if id, err = writeTotals(fd, data, old); err != nil {
		return -1, id, err
	}
	hook(StepTempWritten, folding)
	var st fileStat
	switch err := lstatAt(dir, name, &st); {
	case err == nil && idOf(&st) == old.id:
		if err := renameAt(dir, tmp, name); err != nil {
			return -1, id, err
		}
		committed = true
		return fd, id, nil
	case err != nil && !errors.Is(err, syscall.ENOENT):
		return -1, id, err
	}
	return -1, id, errors.New("replaced meanwhile by a program that does not take its lock")
}

// writeTotals writes data to the new totals file fd, with owner's owner
// and mode, and returns its identity.
func writeTotals(fd int, data []byte, owner totalsFile) (fileid.ID, error) {
	if err := pwriteAll(fd, data); err != nil {
		return fileid.ID{}, err
	}
	if err := fchmod(fd, owner.mode); err != nil {
		return fileid.ID{}, err
	}
	var st fileStat
	if err := fstat(fd, &st); err != nil {
		return fileid.ID{}, err
	}
	if st.Uid != owner.uid || st.Gid != owner.gid {
		// Root's cleanstats keeps the owner, so that the writers can
		// fold into it in a sticky directory (/tmp); anyone else cannot
		// give a file away, and keeps it.
		fchown(fd, owner.uid, owner.gid)
	}
	return idOf(&st), nil
}

// lockTotals opens the totals file name in dir and takes its exclusive
// flock, which serialises the folds into it, waiting up to LockWait. A
// fold replaces the totals file by renaming a new one over it: a lock
// taken on a file that is no longer at name is let go, and the file at
// name locked instead. A missing totals file is made first, empty (see
// createTotals), with owner's owner and mode. A file at name that is not
// a totals file gives ErrNotTotals at once, without waiting for its lock
// (a live writer holds it).
func lockTotals(dir int, name string, owner totalsFile) (int, error) {
	deadline := time.Now().Add(LockWait)
	for {
		fd, err := openAt(dir, name)
		if errors.Is(err, syscall.ENOENT) {
			fd, err = createTotals(dir, name, owner)
			if errors.Is(err, os.ErrExist) {
				continue // made meanwhile by another folder: lock that one
			}
			return fd, err
		}
		if err != nil {
			return -1, err
		}
		if err := checkTotals(fd); err != nil {
			closeFD(fd)
			return -1, err
		}
		for pause := time.Millisecond; ; pause = min(2*pause, 10*time.Millisecond) {
			ok, err := tryLock(fd)
			if err != nil {
				closeFD(fd)
				return -1, fmt.Errorf("lock: %w", err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				closeFD(fd)
				return -1, ErrLockWait
			}
			time.Sleep(pause)
		}
		var here, locked fileStat
		if err := fstat(fd, &locked); err != nil {
			closeFD(fd)
			return -1, err
		}
		err = lstatAt(dir, name, &here)
		if err == nil && idOf(&here) == idOf(&locked) {
			return fd, nil
		}
		closeFD(fd) // replaced (or removed) while this one waited
		if err != nil && !errors.Is(err, syscall.ENOENT) {
			return -1, err
		}
	}
}

// checkTotals checks that fd is a regular file that holds a totals file,
// as far as it can be read without its lock.
func checkTotals(fd int) error {
	var st fileStat
	if err := fstat(fd, &st); err != nil {
		return err
	}
	if !isRegular(&st) {
		return ErrNotTotals
	}
	data, err := readFD(fd)
	if err != nil {
		return err
	}
	if s, err := scan(data); err == nil && (!s.isFolded || s.hasPID) {
		return ErrNotTotals
	}
	return nil // a file that does not parse is read again under the lock
}

// createTotals makes the totals file name in dir, empty (no stats, an
// empty sys.folded: a valid file that adds nothing), and returns it open
// and locked. It is written under a temporary name and renamed to name
// only if nothing is there (os.ErrExist otherwise), so that no reader
// ever sees it half written.
func createTotals(dir int, name string, owner totalsFile) (int, error) {
	data, err := (&Totals{}).Bytes()
	if err != nil {
		return -1, err
	}
	tmp, fd, err := createTemp(dir)
	if err != nil {
		return -1, err
	}
	if _, err = writeTotals(fd, data, owner); err == nil {
		err = renameNoReplace(dir, tmp, name)
	}
	if err != nil {
		closeFD(fd)
		unlinkAt(dir, tmp)
		return -1, err
	}
	return fd, nil
}

// ErrLockWait means the totals lock stayed taken for LockWait.
var ErrLockWait = errors.New("locked by another folder for too long")

// tempName returns a fresh temporary name: a writer's (see
// convention.TempPrefix), which cleanstats removes once its lock is free
// and it is old enough.
func tempName() string {
	var b [convention.TempHex / 2]byte
	rand.Read(b[:])
	return convention.TempPrefix + hex.EncodeToString(b[:]) + convention.TempSuffix
}

// createTemp creates a temporary file in dir, holding an exclusive lock
// on it: cleanstats leaves a locked temporary file alone, as a writer's,
// and once it is renamed to the totals name, the lock is the totals
// lock.
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
		if _, err := tryLock(fd); err != nil {
			closeFD(fd)
			unlinkAt(dir, name)
			return "", -1, err
		}
		return name, fd, nil
	}
}
