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
// malformed sys.folded (nothing is added then); a *reader.PathError
// that names the file.
func (s *Folded) Add(f *reader.File) error {
	i, fl, ok := f.Lookup(convention.Folded)
	if !ok || fl.Sig.Code != 's' {
		return &reader.PathError{Path: f.Path(), Err: ErrNotTotals}
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
		return &reader.PathError{Path: f.Path(), Err: err}
	}
	return nil
}

// unwrapPath returns the reason of an error about path, without the
// path, so that it is not said twice.
func unwrapPath(err error, path string) error {
	if pe, ok := err.(*reader.PathError); ok && pe.Path == path {
		return pe.Err
	}
	return err
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

// Arrangement is one reading of many files in the order that counts
// every value once while files are being folded (see the package
// documentation, "Totals files"): feed Stats, then Totals.
type Arrangement struct {
	// Stats are the stats files to feed, in the order given.
	Stats []*reader.File
	// Totals are the totals files, opened again, to feed last.
	Totals []*reader.File
	// Folded are the stats files left out: a totals file holds them.
	Folded []*reader.File
	opened []*reader.File // the totals files Arrange opened: Close closes them
}

// Arrange sorts the files of one reading, opened by the tool in any
// order (the totals files among them are recognised by IsTotals): each
// totals file is opened again with open (reader.Open if nil; a tool
// that confines its reads passes its own), because a fold replaces a
// totals file with a new one under the same name, and the stats files
// that the totals files list in their sys.folded are left out. A tool
// that feeds an Accumulator with Begin, Add and End (only some labels)
// feeds Stats, then Totals; AddFiles does it with AddFile. A totals file
// that cannot be opened again is used as it was opened; the error says
// so. Each error it joins is a *reader.PathError naming its file. Close
// closes what Arrange opened.
func Arrange(files []*reader.File, open func(path string) (*reader.File, error)) (Arrangement, error) {
	if open == nil {
		open = reader.Open
	}
	var r Arrangement
	var errs []error
	for _, f := range files {
		if !IsTotals(f) {
			r.Stats = append(r.Stats, f)
			continue
		}
		if fresh, err := open(f.Path()); err != nil {
			errs = append(errs, &reader.PathError{Path: f.Path(), Err: fmt.Errorf("open again: %w", unwrapPath(err, f.Path()))})
		} else {
			r.opened = append(r.opened, fresh)
			f = fresh
		}
		r.Totals = append(r.Totals, f)
	}
	var folded Folded
	for _, t := range r.Totals {
		if err := folded.Add(t); err != nil {
			errs = append(errs, err)
		}
	}
	if folded.Len() > 0 {
		kept := r.Stats[:0:0]
		for _, f := range r.Stats {
			if folded.Holds(f) {
				r.Folded = append(r.Folded, f)
			} else {
				kept = append(kept, f)
			}
		}
		r.Stats = kept
	}
	return r, errors.Join(errs...)
}

// Close closes the totals files that Arrange opened again.
func (r *Arrangement) Close() error {
	var errs []error
	for _, f := range r.opened {
		errs = append(errs, f.Close())
	}
	r.opened = nil
	return errors.Join(errs...)
}

// Reading is what AddFiles did with the files of one reading.
type Reading struct {
	// Totals are the paths of the totals files fed, each opened again.
	Totals []string
	// Folded are the stats files left out: a totals file holds them.
	Folded []*reader.File
}

// AddFiles feeds the files of one reading of a directory (or any set of
// stats files) so that every value counts once while the files are being
// folded: Arrange, then AddFile for each of its Stats and, last, its
// Totals. So a file folded and not yet removed is left out (its values
// are in the totals), a dead file not yet folded still counts, and a
// file folded while the tool opened the others is counted in the totals
// file read afterwards: a total neither drops nor counts a file twice.
// The error joins Arrange's and those of AddFile.
func (a *Accumulator) AddFiles(files []*reader.File, open func(path string) (*reader.File, error)) (Reading, error) {
	// Arrange's error says what it could not do; what it arranged is
	// read all the same.
	arr, err := Arrange(files, open)
	errs := []error{err}
	for _, f := range arr.Stats {
		errs = append(errs, a.AddFile(f))
	}
	r := Reading{Folded: arr.Folded}
	for _, t := range arr.Totals {
		errs = append(errs, a.AddFile(t))
		r.Totals = append(r.Totals, t.Path())
	}
	errs = append(errs, arr.Close())
	return r, errors.Join(errs...)
}
