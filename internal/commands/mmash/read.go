package mmash

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"

	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// How mmash bounds the memory that reading files takes. Parsing a file
// costs memory in proportion to its number of fields, not its size: a
// crafted file of tiny fields (8 bytes each) costs ~80 times its size. So
//
//   - a file larger than --max-file-size is not read at all (a fileError);
//   - a request reads its files one at a time, and each file's parsing
//     reserves what it costs (fieldCost a field, counted first on a copy
//     for all but small files) from one budget shared by all requests,
//     half of --max-memory; a file that costs more than that is not read;
//   - what a request keeps for its answer (labels, values, series) counts
//     against its share of the other half, --max-memory / 2 /
//     --max-requests; an answer that outgrows it fails (errAnswer);
//   - and at most --max-requests requests read files at once (gate).
//
// The count is of a copy, and the file is mapped after: a writer that
// makes it grow in between gets it parsed at its new size. Only its
// owner can do that, and only by as many fields as it writes in the
// meantime.
const (
	// fieldCost is what one field costs while a file is parsed and read:
	// its place in the layout and in the stats, and the garbage of
	// growing them (measured: ~280 bytes live, twice that at the
	// collector's peak).
	fieldCost = 640
	// minFieldSize is less than the smallest field (8 bytes: the two
	// sizes, a 1-byte label, a 1-byte signature, the write_buffer byte
	// and a 1-byte value), for the files whose fields are not counted.
	minFieldSize = 7
	// countAbove is the cost above which a file's fields are counted
	// before it is parsed, rather than assumed to be as many as its size
	// allows: files of a few KiB, the usual, are read once.
	countAbove = 1 << 20
	// labelCost and valueCost are what an answer keeps for a label and
	// for a value.
	labelCost = 128
	valueCost = 48
)

var errNotRegular = reader.ErrNotRegular

// fileError is a file that mmash will not read because of a limit: it is
// logged, once, and the file is skipped.
type fileError struct{ msg string }

func (e *fileError) Error() string { return e.msg }

// errAnswer is an answer that outgrew a request's share of the memory.
type errAnswer struct{ limit int64 }

func (e *errAnswer) Error() string {
	return fmt.Sprintf("the answer needs more than the %s a request may use (--max-memory / 2 / --max-requests); narrow the glob or raise --max-memory", mib(e.limit))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// job is the reading that one request does: the files of one glob, one
// at a time, under the server's limits.
type job struct {
	s     *server
	ctx   context.Context
	dir   *rootRef
	used  int64 // what the answer keeps, as counted by grow
	limit int64
	cur   *entry // the file of the cache that eachReader passes, if any
	// wantGroups says that eachReader's caller reads the histogram
	// groups (cachedGroups): the cache reads them with the values.
	wantGroups bool
}

// newJob starts a request's reading of the stats directory; call done
// after.
func (s *server) newJob(ctx context.Context) (*job, error) {
	dir, err := s.dir.acquire()
	if err != nil {
		return nil, err
	}
	return &job{s: s, ctx: ctx, dir: dir, limit: s.answerLimit()}, nil
}

func (j *job) done() { j.s.dir.release(j.dir) }

// grow counts n more bytes kept for the answer.
func (j *job) grow(n int) error {
	j.used += int64(n)
	if j.used > j.limit {
		return &errAnswer{j.limit}
	}
	return nil
}

// files returns the files that a client's glob matches, or the default
// glob when the client sent none. A client glob that is refused, that
// matches a name leading outside the stats directory, or that costs too
// much, is a requestError; the default glob just skips names that lead
// outside, so that a stray symlink in a shared directory such as /tmp
// cannot break the pages.
func (j *job) files(glob string) ([]match, error) {
	client := glob != ""
	if !client {
		glob = j.s.glob
	} else if err := checkGlob(glob); err != nil {
		return nil, &requestError{fmt.Sprintf("glob %q: %v", glob, err)}
	}
	matches, escaped, err := j.dir.expand(glob)
	switch {
	case err != nil && client:
		return nil, &requestError{fmt.Sprintf("glob %q: %v", glob, err)}
	case err != nil:
		return nil, fmt.Errorf("the default glob %q (--glob): %v", glob, err)
	case client && len(escaped) > 0:
		return nil, &requestError{fmt.Sprintf("glob %q: %s %v", glob, path.Clean(escaped[0]), errOutside)}
	}
	if err := j.grow(len(matches) * labelCost); err != nil {
		return nil, err
	}
	return matches, nil
}

// eachLabel calls fn with the labels of each file of glob that reads as an
// mmstats file, in the order of the files' names, then file with its
// name. Files that cannot be read are skipped, as the original mmash did.
// It needs no values, so it parses a copy of each file without keeping
// its layout: its memory is the size of one file.
func (j *job) eachLabel(glob string, fn func(label string) error, file func(name string) error) error {
	matches, err := j.files(glob)
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		err := j.scan(m, func(f *reader.Field) error {
			if fn == nil {
				return nil
			}
			return fn(f.Label)
		})
		if err == nil && file != nil {
			err = file(m.name)
		}
		if err := j.fatal(m, err); err != nil {
			return err
		}
	}
	return nil
}

// eachReader calls fn with the stats of each file of glob that can be
// read, with the file open for fn to read more (its histograms): f is
// valid while fn runs. Files that cannot be read are skipped, as the
// original mmash did. The files go in the order of their names, but for
// the totals files, into which the files of the writers that have exited
// are folded: those come last, opened again, and a stats file that a
// totals file holds is left out (aggregate.Arrange), so that a sum over
// the files neither drops nor counts a file twice while writers come and
// go. So every file is opened (mapped, its fields indexed) before any is
// read, then read one at a time as before.
func (j *job) eachReader(glob string, fn func(name string, f *reader.File, stats []reader.Stat) error) error {
	if cached(glob) {
		return j.eachCached(fn)
	}
	matches, err := j.files(glob)
	if err != nil {
		return err
	}
	var files []*reader.File
	byFile := map[*reader.File]*opened{}
	byPath := map[string]*opened{} // for Arrange, which opens the totals files again
	defer func() {
		for f := range byFile {
			f.Close()
		}
	}()
	for _, m := range matches {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		o, err := j.openMatch(m)
		if err := j.fatal(m, err); err != nil {
			return err
		}
		if o == nil {
			continue
		}
		files = append(files, o.f)
		byFile[o.f] = o
		if byPath[o.f.Path()] == nil {
			byPath[o.f.Path()] = o
		}
	}
	var again error // the error that ends the request, from opening a totals file again
	arr, err := aggregate.Arrange(files, func(path string) (*reader.File, error) {
		o, err := j.openMatch(byPath[path].m)
		if err == nil {
			byFile[o.f] = o
			return o.f, nil
		}
		if ferr := j.fatal(byPath[path].m, err); ferr != nil && again == nil {
			again = ferr
		}
		return nil, err
	})
	if again != nil {
		return again
	}
	if err != nil {
		// A totals file whose sys.folded cannot be read: the files it
		// holds may count twice. Logged once (fileLog), and read.
		for _, e := range joined(err) {
			var pe *reader.PathError
			if errors.As(e, &pe) && byPath[pe.Path] != nil {
				j.s.fileLog(path.Join(j.s.dir.path, byPath[pe.Path].m.name), pe.Err.Error())
			}
		}
	}
	for _, f := range append(arr.Stats, arr.Totals...) {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		o := byFile[f]
		err := j.read(o, func(f *reader.File, stats []reader.Stat) error { return fn(o.m.name, f, stats) })
		// What its stats took goes now: one file's at a time.
		f.Close()
		delete(byFile, f)
		if err := j.fatal(o.m, err); err != nil {
			return err
		}
	}
	return nil
}

// joined returns the errors that err joins, or err.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// fatal sorts the error of one file: nil when the request goes on (the
// file is skipped, and logged if a limit refused it), or the error that
// ends the request (the answer outgrew its share, the request ended).
func (j *job) fatal(m match, err error) error {
	if err == nil {
		return nil // before the pointers that errors.As makes escape
	}
	var fe *fileError
	var ae *errAnswer
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		j.s.fileLog(path.Join(j.s.dir.path, m.name), fe.msg)
		return nil
	case errors.As(err, &ae), j.ctx.Err() != nil:
		return err
	}
	return nil // not an mmstats file, gone, unreadable...: skipped
}

// open opens a matched file and checks its size against --max-file-size.
func (j *job) open(m match) (*os.File, int64, error) {
	f, fi, err := j.openInfo(m)
	if err != nil {
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// openInfo is open, with what fstat says of the file opened.
func (j *job) openInfo(m match) (*os.File, os.FileInfo, error) {
	f, fi, err := j.dir.open(m)
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if max := j.s.cfg.maxFileSize; size > max {
		f.Close()
		return nil, nil, &fileError{fmt.Sprintf("%s, larger than --max-file-size (%s): not read", mib(size), mib(max))}
	}
	return f, fi, nil
}

// reserve reserves n bytes of the shared budget for parsing one file.
func (j *job) reserve(n int64, what string) error {
	err := j.s.parsing.acquire(j.ctx, n)
	if errors.Is(err, errTooBig) {
		return &fileError{fmt.Sprintf("reading %s needs about %s, more than the %s (--max-memory / 2) that all reading may take: not read",
			what, mib(n), mib(j.s.parsing.size))}
	}
	return err
}

// copyBuffers recycles the copies of small files, the usual ones.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// scan parses a copy of a matched file (labels never change once written)
// and calls fn with each field. A file that does not parse to its end is
// an error, and then fn is not called.
func (j *job) scan(m match, fn func(f *reader.Field) error) error {
	f, size, err := j.open(m)
	if err != nil {
		return err
	}
	defer f.Close()
	if size == 0 {
		return reader.ErrEmpty
	}
	if err := j.reserve(size, "its "+mib(size)); err != nil {
		return err
	}
	defer j.s.parsing.release(size)
	var data []byte
	if size <= 64<<10 {
		bp := copyBuffers.Get().(*[]byte)
		defer copyBuffers.Put(bp)
		data = (*bp)[:size]
	} else {
		data = make([]byte, size)
	}
	n, err := f.ReadAt(data, 0)
	if err != nil && err != io.EOF {
		return err
	}
	data = data[:n]
	// Once to check the whole file, and then for fn: a file broken in
	// the middle gives nothing, as when it is read with its values.
	if err := reader.Scan(data, func(*reader.Field) bool { return true }); err != nil {
		return err
	}
	var ferr error
	reader.Scan(data, func(f *reader.Field) bool {
		ferr = fn(f)
		return ferr == nil
	})
	return ferr
}

// opened is a matched file, open and mapped, with what reading its
// stats will cost.
type opened struct {
	m    match
	f    *reader.File
	cost int64  // to reserve while its stats are read
	what string // the cost, for people
	ino  uint64 // the inode mapped, where there are inodes (else 0)
}

// openMatch opens a matched file: it checks what reading its stats will
// cost (a file that costs more than all reading may take is a
// fileError), maps it and indexes its fields (4 bytes a field, counted
// in the answer's share), without reading them.
func (j *job) openMatch(m match) (*opened, error) {
	f, fi, err := j.openInfo(m)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := fi.Size()
	ino, _ := inodeOf(fi)
	cost := size/minFieldSize*fieldCost + 3*size
	what := "its " + mib(size)
	if cost > countAbove {
		// Count the fields on a copy, without keeping them.
		fields, labels := 0, 0
		err := j.scan(m, func(f *reader.Field) error {
			fields++
			labels += len(f.Label)
			return nil
		})
		if err != nil {
			return nil, err
		}
		cost = int64(fields)*fieldCost + 2*int64(labels) + size
		what = fmt.Sprintf("its %d fields", fields)
	}
	if cost > j.s.parsing.size {
		return nil, j.reserve(cost, what) // the fileError that says so
	}
	// Map the very file that the root opened, not a path that could have
	// changed since.
	rf, err := reader.OpenFile(f)
	if err != nil {
		return nil, err
	}
	if rf.IsCopy() {
		j.s.sayCopies(path.Join(j.s.dir.path, m.name))
	}
	if err := j.grow(4*rf.Len() + 256); err != nil {
		rf.Close()
		return nil, err
	}
	return &opened{m: m, f: rf, cost: cost, what: what, ino: ino}, nil
}

// read reads every stat of an opened file, live from its mapping, and
// calls fn with the file and them, under a reservation of what the
// parsing costs (reading a histogram costs no more than its bytes in the
// file).
func (j *job) read(o *opened, fn func(*reader.File, []reader.Stat) error) error {
	if err := j.reserve(o.cost, o.what); err != nil {
		return err
	}
	defer j.s.parsing.release(o.cost)
	stats, err := o.f.Stats()
	if err != nil {
		return err
	}
	return fn(o.f, stats)
}
