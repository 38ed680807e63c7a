package mmstats

import (
	"errors"
	"fmt"
	"github.com/mmstats/mmstats/internal/v1"
	"path/filepath"
)

// errNotOurs means the file's path no longer names the file this File
// created: someone removed or replaced it.
var errNotOurs = errors.New("the path no longer holds this process's file (removed or replaced)")

// growSize is the size to grow a file of size cur to, for need bytes:
// doubling (by at most 1 MiB at a time) keeps the copies few.
func growSize(need, cur, limit int) int {
	return min(max(roundPage(need), roundPage(min(2*cur, cur+1<<20))), limit)
}

// grow replaces the file by a copy of size bytes (f.mu held).
//
// It never extends a file that readers may have mapped: a reader that
// maps a file once at its size, as Python 0.8.0's pollstats does, would
// run off its mapping when the field list grew past it. Instead:
//
//  1. a new file of size bytes is built (its blocks reserved) holding a
//     copy of the old one, made word by word with atomic loads;
//  2. it replaces the old file at its path (an atomic exchange of names,
//     then a check that what left the path is this File's own file;
//     otherwise the exchange is undone);
//  3. it is mapped over the old mapping, at the same address, in one
//     mmap call, so that every field's pointer stays valid (the hot path
//     never checks anything) and, from then on, no update reaches the
//     old file;
//  4. the updates that hot paths made in the old file between the copy
//     and the remap are carried into the new one (see mergeRule).
//
// The writers that are not single atomic words are stopped meanwhile:
// strings (their lock) and the refresher's groups and drains (rmu).
// Readers that follow the path (the Go tools reopen a replaced file) see
// the new file; a reader that keeps the old mapping sees the old file's
// values as they were at the growth, complete and frozen.
func (f *File) grow(size int) (err error) {
	final := f.opts.fullPath
	fail := func(err error) error { return fmt.Errorf("mmstats: cannot grow %s: %w", final, err) }
	if id, regular, err := pathID(final); err != nil || !regular || id != f.id {
		return fail(errNotOurs)
	}
	t, err := openTemp(filepath.Dir(final), size)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if t != nil {
			t.discard()
		}
	}()
	if err := chmod(t.fd, uint32(f.opts.Mode.Perm())); err != nil {
		return fail(err)
	}
	if err := t.ensureName(); err != nil { // the exchange needs a name
		return fail(err)
	}
	id, err := fdID(t.fd)
	if err != nil {
		return fail(err)
	}

	f.rmu.Lock()
	defer f.rmu.Unlock()
	for _, s := range f.strs {
		s.lock()
	}
	defer func() {
		for _, s := range f.strs {
			s.unlock()
		}
	}()
	snap := make([]byte, f.size)
	loadWords(snap, f.mem[:f.size])
	if err := pwriteAll(t.fd, snap, 0); err != nil {
		return fail(err)
	}
	swapped, err := f.swapIn(t.name, final)
	if err != nil {
		return fail(err)
	}
	if err := remapFixed(t.fd, f.mem); err != nil {
		if rerr := remapFixed(f.fd, f.mem); rerr != nil {
			panic(fmt.Sprintf("mmstats: cannot map %s again after a failed growth (%v): %v", final, err, rerr))
		}
		if swapped {
			exchange(t.name, final) // the old file back at its path
		}
		return fail(err)
	}
	// No update can reach the old file any more: it is frozen.
	frozen := make([]byte, f.size)
	if preadAll(f.fd, frozen, 0) == nil {
		mergeInto(f.mem, snap, frozen, f.merges)
	}
	// Mark the old file superseded: its version byte becomes 0. A Go
	// reader that still maps it sees that at its next Refresh and follows
	// the path to this file (same fields at the same offsets); a reader
	// that maps once and never looks at the version byte again (0.8.0's
	// pollstats) keeps reading its frozen values.
	pwriteAll(f.fd, []byte{v1.Superseded}, 0)
	if swapped {
		unlink(t.name) // the old file, now under the temporary name
	}
	t.name = ""
	closeFD(f.fd)
	f.fd, f.size = t.fd, size
	reregister(f.id, id)
	f.id = id
	t = nil
	return nil
}

// swapIn puts the file at tmp in the place of this File's file at final.
// swapped says that the old file is now at tmp (an exchange); otherwise
// the old file lost its name (a rename, where the file system cannot
// exchange).
func (f *File) swapIn(tmp, final string) (swapped bool, err error) {
	ok, err := exchange(tmp, final)
	if !ok {
		// Check, then rename: a replacement in between is lost; only
		// this file's owner or root can make one.
		if id, regular, err := pathID(final); err != nil || !regular || id != f.id {
			return false, errNotOurs
		}
		return false, rename(tmp, final)
	}
	if err != nil {
		return false, err
	}
	if id, regular, err := pathID(tmp); err != nil || !regular || id != f.id {
		exchange(tmp, final) // not ours: give it its name back
		return false, errNotOurs
	}
	return true, nil
}
