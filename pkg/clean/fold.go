package clean

import (
	"fmt"
	"path/filepath"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fold"
)

// Folding: a stale file that names a totals file (sys.totals, with a
// sys.id) is folded into it before it is removed, so that the readers'
// totals do not drop (see the package documentation, "Folding").

// foldsInto returns the path of the totals file that the stale file at
// path, written by w, is folded into, or "" if it is not folded.
func foldsInto(w *Writer, path string) string {
	if w.ID == 0 || !convention.ValidTotalsName(w.Totals) {
		return ""
	}
	return filepath.Join(filepath.Dir(filepath.Clean(path)), w.Totals)
}

// foldRemove folds the stale file t into its totals file, then removes
// it: moving it to the private name aside, which is recorded in
// sys.folded with its name, then unlinking it (remove), or, for a file
// already under a private name (aside ""), unlinking it there.
func (r *run) foldRemove(t *target, res Result, aside string) Result {
	// The exclusive lock keeps every other folder away. The sys.flock
	// rule took it already; a file of the PID rules is locked here.
	if ok, err := lockExclusive(t.fd); err == nil && !ok {
		return res.skip(Busy, nil)
	}
	out := res
	src := fold.Source{Dir: t.dir, Name: t.name, FD: t.fd, Remove: func() {
		if aside == "" {
			out = r.unlinkPrivate(t, res)
		} else {
			out = r.remove(t, res, aside)
		}
	}}
	if aside != "" {
		src.Private = []string{aside}
	}
	f, err := r.folder.Fold(src)
	switch {
	case err != nil:
		return res.fail(FoldFailed, fmt.Errorf("cannot fold it into %s: %w", res.FoldedInto, err))
	case f.Outcome == fold.Vanished:
		return res.skip(Vanished, ErrVanished)
	case f.Outcome == fold.NotFoldable: // it said otherwise when read
		res.FoldedInto = ""
		if aside == "" {
			return r.unlinkPrivate(t, res)
		}
		return r.remove(t, res, aside)
	}
	out.AlreadyFolded = f.Outcome == fold.AlreadyFolded
	return out
}

// unlinkPrivate removes the stale file t found under a private name of a
// Cleaner, if that name still holds it: only someone who knows the name
// could have put another file there (see remove).
func (r *run) unlinkPrivate(t *target, res Result) Result {
	var st fileStat
	if err := lstatAt(t.dir, t.name, &st); err != nil {
		return res.fail(RemoveFailed, fmt.Errorf("stat before removing: %w", err))
	}
	if idOf(&st) != t.id {
		return res.skip(Replaced, ErrReplaced)
	}
	r.moving(t.id)
	if err := unlinkAt(t.dir, t.name); err != nil {
		return res.fail(RemoveFailed, fmt.Errorf("cannot remove: %w", err))
	}
	return res
}
