package pollstats

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/convention"
)

// fileID identifies the file a path names, so that a path replaced by a
// new file is read as a new file: its inode number, which a directory
// listing (getdents) gives without a stat per file. The entries compared
// are those of one directory, on one device, so the number alone is the
// identity that internal/fileid holds with the device. A file system may
// give a freed inode number to the next file created, but not while
// pollstats maps the file that has it: a new file at the path of a file
// being read always has another number.
type fileID uint64

// racyWindow is how long after a directory changed its listing is not
// trusted to be complete. A change made in the same timestamp tick as an
// earlier one leaves the directory's mtime as it was; listing again while
// the mtime is this recent catches it (git's "racy" index entries). Two
// seconds are above any local file system's timestamp granularity (FAT's
// is two seconds; most have nanoseconds, ext3 and some network file
// systems one second).
const racyWindow = 2 * time.Second

// relistEvery is how many looks at an unchanged directory go by before
// it is listed all the same: a safety net for a file system whose
// directory timestamps do not follow its changes (some network and FUSE
// file systems, attribute caches). A listing that finds nothing new costs
// the listing alone: the poller hears of a change only when there is one.
const relistEvery = 64

// listThreshold is how many plain files of one directory make listing
// the directory cheaper than looking each file up.
const listThreshold = 16

// sources are the places the FILE|DIR|GLOB arguments name. Each interval
// they find the paths to read and their IDs; a directory that has not
// changed since it was last looked at costs one stat.
type sources struct {
	names []string // the arguments, or the default glob, for messages
	dirs  []*dirSource
	globs []string // globs with wildcards in a directory part
	// globbed are the files the globs matched at the last scan, in order.
	globbed []entry
	next    []entry // the scan's, then swapped with globbed
	buf     []byte  // for directory listings
	// stat returns a directory's stamp: statDir, but in tests, which
	// make a file system with coarse timestamps.
	stat func(dir string) (dirStamp, error)
	// alwaysList makes every scan list every directory (tests: the lines
	// must be those of a poller that never trusts the stamps).
	alwaysList bool
}

// dirSource is one directory: the files in it that match patterns (DIR
// and glob arguments) and the files named in it (FILE arguments).
type dirSource struct {
	dir      string            // as listed; "." for bare globs
	join     string            // joined with names to make paths
	patterns []matcher         // name patterns
	named    map[string]string // name -> path as given
	stamp    dirStamp          // the directory when last looked at
	looked   bool              // found is the result of a look at stamp
	racy     bool              // stamp was too recent to trust
	since    int               // looks since the last listing (relistEvery)
	// held is a descriptor of the directory (openDir), plus 1 (0: none):
	// it is looked at through it (fstatDir), without walking its path,
	// unless its path goes through a symlink (direct is false), which
	// may come to name another directory with nothing changed in this
	// one. A directory replaced at its path was renamed or removed, which
	// changes its ctime: the look by path follows then.
	held   int
	direct bool
	gen    int               // counts the listings
	found  map[string]*entry // by name, from the last look
}

// entry is a file a dirSource found.
type entry struct {
	path string
	id   fileID
	gen  int // the look that last found it
}

// matcher matches names against a pattern; "prefix*suffix", the usual
// shape, without filepath.Match.
type matcher struct {
	pattern, prefix, suffix string
	simple                  bool
}

func newMatcher(pattern string) matcher {
	if i := strings.IndexByte(pattern, '*'); i >= 0 && strings.Count(pattern, "*") == 1 && !strings.ContainsAny(pattern, `?[\`) {
		return matcher{prefix: pattern[:i], suffix: pattern[i+1:], simple: true}
	}
	return matcher{pattern: pattern}
}

func (m matcher) match(name string) bool {
	if m.simple {
		return len(name) >= len(m.prefix)+len(m.suffix) && strings.HasPrefix(name, m.prefix) && strings.HasSuffix(name, m.suffix)
	}
	ok, _ := filepath.Match(m.pattern, name)
	return ok
}

// newSources finds the places that set names, classified by the tools'
// rules (cli.FileSet.Args): a FILE is looked up in its directory, a DIR
// or a glob whose directory part is plain is a directory whose names are
// matched, and a glob with wildcards in its directory part is expanded
// whole every interval.
func newSources(set *cli.FileSet) (*sources, error) {
	args, err := set.Args()
	if err != nil {
		return nil, err
	}
	s := &sources{names: set.Names(), stat: statDir}
	byDir := map[string]*dirSource{}
	dirFor := func(dir, join string) *dirSource {
		d := byDir[dir]
		if d == nil {
			d = &dirSource{dir: dir, join: join, named: map[string]string{}, found: map[string]*entry{}, direct: direct(dir)}
			byDir[dir] = d
			s.dirs = append(s.dirs, d)
		}
		return d
	}
	for _, a := range args {
		if a.Kind == cli.File {
			d := dirFor(filepath.Dir(a.Path), filepath.Dir(a.Path))
			d.named[filepath.Base(a.Path)] = a.Path
			continue
		}
		dir, pattern := a.Split()
		if convention.HasMeta(dir) {
			s.globs = append(s.globs, a.Path)
			continue
		}
		join := filepath.Clean(dir)
		if dir == "" {
			dir, join = ".", ""
		}
		d := dirFor(filepath.Clean(dir), join)
		d.patterns = append(d.patterns, newMatcher(pattern))
	}
	return s, nil
}

// direct reports whether the path of dir goes through no symlink.
func direct(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(abs)
	return err == nil && real == abs
}

// scan looks at every source and reports whether the set of paths or
// their IDs may have changed since the last scan. errf reports a source
// that cannot be looked at.
func (s *sources) scan(now time.Time, errf func(error)) (changed bool) {
	for _, d := range s.dirs {
		if d.scan(s, now, errf) {
			changed = true
		}
	}
	if len(s.globs) > 0 && s.glob(errf) {
		changed = true
	}
	return changed
}

// glob expands the globs that have wildcards in a directory part (every
// scan: their directories may come and go), and reports whether they
// matched other files than at the last scan.
func (s *sources) glob(errf func(error)) bool {
	s.next = s.next[:0]
	for _, g := range s.globs {
		matches, _ := cli.NewFileSet([]string{g}).Resolve() // checked in newSources
		for _, p := range matches {
			id, err := lstatID(p)
			if err != nil {
				errf(err)
				continue
			}
			s.next = append(s.next, entry{path: p, id: id})
		}
	}
	changed := !slices.EqualFunc(s.next, s.globbed, func(a, b entry) bool { return a.path == b.path && a.id == b.id })
	s.globbed, s.next = s.next, s.globbed
	return changed
}

// paths calls fn for every path the sources found in their last scan.
func (s *sources) paths(fn func(path string, id fileID), _ func(error)) {
	for _, d := range s.dirs {
		for _, e := range d.found {
			fn(e.path, e.id)
		}
	}
	for _, e := range s.globbed {
		fn(e.path, e.id)
	}
}

// missing returns the FILE arguments that the last scan did not find.
func (s *sources) missing() []string {
	var out []string
	for _, d := range s.dirs {
		for name, p := range d.named {
			if d.found[name] == nil {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// scan looks at the directory again if it may have changed, and reports
// whether what it found changed: a file came, left, or is another file
// (another inode) at its name. It lists the directory (or looks the
// named files up) when its stamp changed, while the stamp is too recent
// to trust (racyWindow), and every relistEvery looks.
func (d *dirSource) scan(s *sources, now time.Time, errf func(error)) bool {
	if d.held > 0 && d.looked && !d.racy && d.since+1 < relistEvery && !s.alwaysList {
		if st, err := fstatDir(d.held - 1); err == nil && st == d.stamp {
			d.since++
			return false
		}
	}
	st, err := s.stat(d.dir)
	if err == nil {
		d.hold(st)
	}
	if err != nil {
		d.release()
		if len(d.found) == 0 && d.looked {
			return false // still gone
		}
		errf(err)
		clear(d.found)
		d.looked = true
		return true
	}
	d.since++
	if d.looked && !d.racy && st == d.stamp && d.since < relistEvery && !s.alwaysList {
		return false
	}
	changed := !d.looked
	d.stamp, d.looked, d.since = st, true, 0
	d.racy = st.recent(now, racyWindow)
	d.gen++
	see := func(name, path string, id fileID) {
		if d.see(name, path, id) {
			changed = true
		}
	}
	if len(d.patterns) == 0 && len(d.named) < listThreshold {
		for name, p := range d.named {
			if id, err := lstatID(p); err == nil {
				see(name, p, id)
			} else if !os.IsNotExist(err) {
				errf(err)
			}
		}
	} else {
		s.buf, err = listDir(d.dir, s.buf, func(name []byte, id fileID) {
			if e := d.found[string(name)]; e != nil { // matched before: no allocation
				changed = changed || e.id != id
				e.id, e.gen = id, d.gen
				return
			}
			n := string(name)
			if p, ok := d.named[n]; ok {
				see(n, p, id)
				return
			}
			for _, m := range d.patterns {
				if m.match(n) {
					// The name kept is the end of the path: one string
					// kept a file, not two.
					p := d.pathOf(n)
					see(p[len(p)-len(n):], p, id)
					return
				}
			}
		})
		if err != nil {
			errf(err)
			changed = true
		}
	}
	for name, e := range d.found {
		if e.gen != d.gen {
			delete(d.found, name)
			changed = true
		}
	}
	return changed
}

// hold keeps a descriptor of the directory whose stamp st is, to look at
// it through that from then on.
func (d *dirSource) hold(st dirStamp) {
	if d.held > 0 {
		if fst, err := fstatDir(d.held - 1); err == nil && fst.sameDir(st) {
			return
		}
		d.release()
	}
	if !d.direct {
		return
	}
	fd, err := openDir(d.dir)
	if err != nil {
		return
	}
	if fst, err := fstatDir(fd); err != nil || !fst.sameDir(st) { // replaced since
		closeDir(fd)
		return
	}
	d.held = fd + 1
}

// release closes the descriptor of the directory, if held.
func (d *dirSource) release() {
	if d.held > 0 {
		closeDir(d.held - 1)
		d.held = 0
	}
}

// close closes what the sources hold.
func (s *sources) close() {
	for _, d := range s.dirs {
		d.release()
	}
}

// see records that the current look found name, and reports whether it
// is new or another file than the last look found there.
func (d *dirSource) see(name, path string, id fileID) bool {
	if e := d.found[name]; e != nil {
		changed := e.id != id
		e.id, e.gen = id, d.gen
		return changed
	}
	d.found[name] = &entry{path: path, id: id, gen: d.gen}
	return true
}

// pathOf returns the path of the file name in the directory.
func (d *dirSource) pathOf(name string) string {
	switch {
	case d.join == "":
		return name
	case strings.HasSuffix(d.join, "/"):
		return d.join + name
	}
	return d.join + "/" + name
}
