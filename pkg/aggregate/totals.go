package aggregate

import (
	"errors"
	"fmt"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/pkg/reader"
)

// IsTotals reports whether f is a totals file: a field labelled
// sys.folded holding a string, and no sys.pid. Such a file holds the
// counters and histograms of the stats files folded into it once their
// writers were gone.
func IsTotals(f *reader.File) bool {
	folded, pid := false, false
	f.ScanFields(func(_ int, fl *reader.Field) bool {
		switch {
		case fl.Label == convention.Folded:
			folded = fl.Sig.Code == 's'
		case convention.DefaultField(fl.Label) == convention.PID:
			pid = true
		}
		return !pid
	})
	return folded && !pid
}

// FileID returns f's sys.id (the last field labelled so, whatever its
// label prefix): the random number that names a stats file of the Go
// writer in a totals file's sys.folded. It never changes, not even when
// the writer grows the file: a tool reads it once per file. ok is false
// for a file without one (the Python writer's, older Go writers').
func FileID(f *reader.File) (id uint64, ok bool) {
	f.ScanFields(func(i int, fl *reader.Field) bool {
		if convention.DefaultField(fl.Label) == convention.ID {
			if v, err := f.Value(i); err == nil && v.Kind() == reader.Uint && v.Uint() != 0 {
				id, ok = v.Uint(), true
			}
		}
		return true
	})
	return id, ok
}

// Folded is the set of the stats files that totals files hold: folded,
// and perhaps not removed yet. Such a file is left out of a reading,
// since its values are in the totals file. The zero Folded is empty and
// ready to use.
type Folded struct {
	ids map[uint64]struct{}
}

// Reset empties the set, keeping its memory.
func (s *Folded) Reset() { clear(s.ids) }

// Add adds the files that the totals file f lists in its sys.folded. A
// file that is not a totals file gives an error, and so does a
// malformed sys.folded (nothing is added then).
func (s *Folded) Add(f *reader.File) error {
	i, fl, ok := f.Lookup(convention.Folded)
	if !ok || fl.Sig.Code != 's' {
		return fmt.Errorf("%s: %w", f.Path(), ErrNotTotals)
	}
	v, err := f.Value(i)
	if err != nil {
		return err
	}
	if s.ids == nil {
		s.ids = map[uint64]struct{}{}
	}
	err = convention.ScanFolded(v.Str(), func(e convention.FoldedEntry) bool {
		s.ids[e.ID] = struct{}{}
		return true
	})
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path(), err)
	}
	return nil
}

// Has reports whether the file of sys.id id is folded.
func (s *Folded) Has(id uint64) bool {
	_, ok := s.ids[id]
	return ok
}

// Holds reports whether the stats file f is folded (by its FileID). A
// tool that reads many files every second keeps each file's FileID and
// calls Has instead.
func (s *Folded) Holds(f *reader.File) bool {
	id, ok := FileID(f)
	return ok && s.Has(id)
}

// Len returns the number of files in the set.
func (s *Folded) Len() int { return len(s.ids) }

// ErrNotTotals means a file given as a totals file is not one.
var ErrNotTotals = errors.New("not a totals file (no sys.folded)")

// Reading is what AddFiles did with the files of one reading.
type Reading struct {
	// Totals are the paths of the totals files fed, each opened again.
	Totals []string
	// Folded are the stats files left out: a totals file holds them.
	Folded []*reader.File
}

// AddFiles feeds the files of one reading of a directory (or any set of
// stats files) so that every value counts once while the files are being
// folded. files are the files the tool opened, in any order, the totals
// files among them (IsTotals). The totals files are opened again with
// open (reader.Open if nil; a tool that confines its reads passes its
// own), because a fold replaces a totals file with a new one under the
// same name; then the stats files they do not hold are fed (AddFile),
// and the totals files last.
//
// So a file folded and not yet removed is left out (its values are in
// the totals), a dead file not yet folded still counts, and a file
// folded while the tool opened the others is counted in the totals file
// read afterwards: a total neither drops nor counts a file twice. (A
// totals file that cannot be opened again is read as it was opened: the
// error says so.) The error joins those of AddFile.
func (a *Accumulator) AddFiles(files []*reader.File, open func(path string) (*reader.File, error)) (Reading, error) {
	if open == nil {
		open = reader.Open
	}
	var r Reading
	var errs []error
	var stats, totals []*reader.File
	for _, f := range files {
		if IsTotals(f) {
			fresh, err := open(f.Path())
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: open again: %w", f.Path(), err))
			} else {
				defer fresh.Close()
				f = fresh
			}
			totals = append(totals, f)
			continue
		}
		stats = append(stats, f)
	}
	var folded Folded
	for _, t := range totals {
		if err := folded.Add(t); err != nil {
			errs = append(errs, err)
		}
		r.Totals = append(r.Totals, t.Path())
	}
	for _, f := range stats {
		if folded.Len() > 0 && folded.Holds(f) {
			r.Folded = append(r.Folded, f)
			continue
		}
		errs = append(errs, a.AddFile(f))
	}
	for _, t := range totals {
		errs = append(errs, a.AddFile(t))
	}
	return r, errors.Join(errs...)
}
