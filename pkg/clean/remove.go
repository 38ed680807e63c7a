package clean

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
)

// The removal of a stale file, and nothing else: a file renamed over its
// name at any moment is never lost.

// remove removes the stale file t, whose descriptor is open, and nothing
// else, even if another file is renamed over t's name meanwhile.
//
// Holding an exclusive lock on t (no writer can lock it, so it cannot come
// back to life), it renames t's name to the private name aside, checks
// that what moved is t, and unlinks the private name. If something else
// moved (a file renamed over the name since t was opened), it goes back
// under its name, or, if another file has taken the name since, stays
// aside under a name that later runs recognise: a Cleaner killed between
// its moves leaves nothing hidden either.
//
// No step unlinks a name another file can take meanwhile: once the private
// name holds t, only someone who knows that name (the owner of the file
// or root, reading the directory in that microsecond) could put another
// file there.
func (r *run) remove(t *target, res Result, aside string) Result {
	// A file of the PID rules is locked here for the first time: a lock
	// held by someone else (another Cleaner) means it is theirs. Where
	// the file system has no flock (an error), the PID rules decided
	// alone, as before.
	if t.locked {
		// Taken when the file was judged: no second flock.
	} else if ok, err := lockExclusive(t.fd); err == nil && !ok {
		return res.skip(Busy, nil)
	}
	if r.c.beforeRemove != nil {
		r.c.beforeRemove(res.Path)
	}
	// Cheap first check: a file replaced since the open (a restarted
	// writer's new file, often) is left alone without being moved at
	// all, so it is never missing from its name for a moment. It does
	// not replace the check of what moved, after the move: the name
	// may change in between.
	var st fileStat
	if err := lstatAt(t.dir, t.name, &st); err != nil {
		return res.fail(RemoveFailed, fmt.Errorf("stat before removing: %w", err))
	}
	if idOf(&st) != t.id {
		return res.skip(Replaced, ErrReplaced)
	}
	rename := renameNoReplace
	if r.c.rename != nil {
		rename = r.c.rename
	}
	r.moving(t.id)
	if err := rename(t.dir, t.name, aside); err != nil {
		return res.fail(RemoveFailed, fmt.Errorf("cannot remove: %w", err))
	}
	if r.c.afterAside != nil {
		r.c.afterAside(res.Path, aside)
	}
	err := lstatAt(t.dir, aside, &st)
	switch {
	case err == nil && idOf(&st) == t.id:
		if err := unlinkAt(t.dir, aside); err != nil {
			// Put it back: the next run tries again.
			if renameNoReplace(t.dir, aside, t.name) != nil {
				res.MovedTo = r.sibling(res.Path, aside)
			}
			return res.fail(RemoveFailed, fmt.Errorf("cannot remove: %w", err))
		}
		return res
	case errors.Is(err, syscall.ENOENT):
		// Another Cleaner handled what moved meanwhile (it holds no lock
		// of ours): it was not t.
		return res.skip(Replaced, ErrReplaced)
	}
	// Another file was renamed over the name: it goes back.
	if err == nil {
		r.moving(idOf(&st))
	}
	switch err := renameNoReplace(t.dir, aside, t.name); {
	case err == nil, errors.Is(err, syscall.ENOENT):
		return res.skip(Replaced, ErrReplaced)
	case errors.Is(err, syscall.EEXIST) && !r.settling:
		// The name was taken again meanwhile. Judge what moved at once,
		// as a later run would: a stale file is removed now; anything
		// else waits aside until its name is free (reported below).
		r.settling = true
		other := &target{dir: t.dir, name: aside, fd: -1}
		got := r.aside(other, Result{Path: r.sibling(res.Path, aside), Kind: Aside}, res.Path)
		other.close()
		r.settling = false
		if got.Decision == Removed {
			return res.skip(Replaced, ErrReplaced)
		}
		fallthrough
	case errors.Is(err, syscall.EEXIST):
		res.Decision, res.Reason, res.MovedTo = Failed, NameTaken, r.sibling(res.Path, aside)
		res.Err = fmt.Errorf("the file renamed over it is kept as %s: %w; a later run puts it back", res.MovedTo, ErrNameTaken)
		return res
	default:
		res.Decision, res.Reason, res.MovedTo = Failed, RemoveFailed, r.sibling(res.Path, aside)
		res.Err = fmt.Errorf("the file renamed over it is kept as %s: cannot put it back: %w; a later run does", res.MovedTo, err)
		return res
	}
}

// sibling returns the path of name in the directory of path.
func (r *run) sibling(path, name string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(path)), name)
}
