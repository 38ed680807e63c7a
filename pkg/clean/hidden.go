package clean

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
)

// temporary handles a writer's temporary file, named orig or moved aside
// from orig: removed when its lock is free and it is TemporaryMinAge old.
func (r *run) temporary(t *target, res Result, orig string) Result {
	if t.fd < 0 && !r.open(t, &res) {
		return res
	}
	free, err := r.probe.TryLock(t.fd)
	switch {
	case err != nil:
		return res.fail(ProbeFailed, fmt.Errorf("flock: %w", err))
	case !free:
		res.Decision, res.Reason = Alive, LockHeld
		return res
	}
	// The modification time, not the change time: a writer never sets it
	// back, and a test (or an operator) can age a file with touch -d.
	if age := r.now().Sub(mtime(&t.st)); age < TemporaryMinAge {
		return res.skip(YoungTemporary, nil)
	}
	res.Decision, res.Reason = Removed, AbandonedTemporary
	if r.c.DryRun {
		res.Decision = WouldRemove
		return res
	}
	return r.remove(t, res, asideName(orig))
}

// aside handles a file found under a private name of a Cleaner (a run was
// killed between its moves, or the file's name was taken): a stale file is
// removed, anything else goes back to origin.
func (r *run) aside(t *target, res Result, origin string) Result {
	orig := filepath.Base(origin)
	// What is not provably stale goes back, whatever it is.
	back := func(res Result) bool {
		return res.Decision == Alive || res.Decision == Skipped &&
			(res.Reason == Symlink || res.Reason == NotRegular || res.Reason == Invalid || res.Reason == NoPID || res.Reason == YoungTemporary)
	}
	if !r.open(t, &res) {
		if back(res) {
			return r.restore(t, res, origin)
		}
		return res
	}
	// A Cleaner that moved the file here holds an exclusive lock while it
	// works on it: leave the file to it. (A writer's shared lock does not
	// stop this one.)
	if ok, err := lockShared(t.fd); err != nil {
		return res.fail(ProbeFailed, fmt.Errorf("flock: %w", err))
	} else if !ok {
		return res.skip(Busy, nil)
	}
	if KindOf(orig) == Temporary {
		if res = r.temporary(t, res, orig); back(res) {
			return r.restore(t, res, origin)
		}
		return res
	}
	w, ok := r.writer(t, &res)
	if ok {
		v := r.judge.decide(&w, func() (bool, error) { return r.probe.TryLock(t.fd) })
		res.Decision, res.Reason, res.Err, res.Process = v.decision, v.reason, v.err, v.proc
		if v.decision == Removed {
			res.FoldedInto = foldsInto(&w, res.Path)
			switch {
			case r.c.DryRun:
				res.Decision = WouldRemove
				return res
			case res.FoldedInto != "" && r.settling:
				// Moved aside by this run's removal of another file,
				// whose totals lock it may hold: a later run folds it.
				return res.skip(Busy, nil)
			case res.FoldedInto != "":
				// Already under a private name: folded under it, and
				// removed without another move.
				return r.foldRemove(t, res, "")
			}
			return r.remove(t, res, asideName(orig))
		}
	}
	if back(res) {
		return r.restore(t, res, origin)
	}
	return res
}

// restore puts the file found aside at t back under origin, never
// replacing anything there.
func (r *run) restore(t *target, res Result, origin string) Result {
	res.MovedTo = origin
	if r.c.DryRun {
		res.Decision = WouldRestore
		return res
	}
	if t.fd >= 0 {
		r.moving(t.id)
	}
	switch err := renameNoReplace(t.dir, t.name, filepath.Base(origin)); {
	case err == nil:
		res.Decision = Restored
	case errors.Is(err, syscall.EEXIST):
		// It stays at Path, reported each run until its name is free.
		res.Decision, res.Reason, res.MovedTo = Failed, NameTaken, ""
		res.Err = fmt.Errorf("cannot go back to %s: %w", origin, ErrNameTaken)
	default:
		res.MovedTo = ""
		return res.fail(RemoveFailed, fmt.Errorf("cannot go back to %s: %w", origin, err))
	}
	return res
}
