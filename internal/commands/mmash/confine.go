package mmash

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// errOutside marks a name whose real path is outside the stats directory.
var errOutside = errors.New("leads outside the stats directory")

// The bounds of a glob, so that no request can make mmash list, resolve
// or keep without end (a few symlinks to "." make */*/*/... grow
// exponentially otherwise).
const (
	// maxGlobLen is the longest glob, in bytes.
	maxGlobLen = 1024
	// maxGlobElems is the most path elements a glob may have.
	maxGlobElems = 16
)

// Variables, so that tests can lower them.
var (
	// maxGlobMatches is the most names one element of a glob may match
	// in all, and so the most files a request may read.
	maxGlobMatches = 250_000
	// maxGlobWork is the most directory entries a glob may look at plus
	// the path elements of the symlinks it resolves.
	maxGlobWork = 2_000_000
)

// statsDir is the one directory mmash reads, and the confinement of every
// glob a client sends:
//
//   - A glob is relative to the directory and slash-separated. One that is
//     absolute, contains "..", a NUL or a '%' (still URL-encoded: a client
//     encoded it twice), or is not a valid path.Match pattern is refused
//     (checkGlob), as is one longer than maxGlobLen or deeper than
//     maxGlobElems.
//   - expand matches it one path element at a time, listing only
//     directories whose real path is inside. A name that the directory
//     lists as a symlink, and a name written out in the glob, are resolved
//     (filepath.EvalSymlinks): a symlink is followed when its target is
//     inside, and a name that resolves outside is never listed, opened or
//     reported, only returned as escaped. A directory is descended into
//     once per element, however many symlinks lead to it, and the names
//     and the work of a glob are bounded (maxGlobMatches, maxGlobWork).
//   - A file is opened by its symlink-free path through an os.Root of the
//     directory, which refuses any symlink that leads outside, so a link
//     swapped in after the check cannot escape either. Only regular files
//     are opened, without blocking.
//
// The directory is followed by its path: when the path names another
// directory than the one open (it was deleted and created again, or a
// symlink on the way now points elsewhere), acquire opens the new one,
// and while the path names nothing, requests fail (dirError). Each change
// is logged once.
type statsDir struct {
	path string // the directory as given
	abs  string // its absolute path, symlinks and all
	logf func(format string, args ...any)

	mu      sync.Mutex
	cur     *rootRef // the directory open now; nil while it is gone
	lastErr string   // why it is gone, as last logged
}

// rootRef is one opening of the stats directory, shared by the requests
// that started while it was current, and closed after the last of them
// once another has replaced it.
type rootRef struct {
	real    string      // its absolute, symlink-free path
	root    *os.Root    // the directory itself
	id      os.FileInfo // its identity, for os.SameFile
	refs    int         // requests using it (under statsDir.mu)
	retired bool        // replaced: close it when refs drops to 0
}

// dirError is a request made while the stats directory is gone: 503.
type dirError struct{ err error }

func (e *dirError) Error() string { return "the stats directory is gone: " + e.err.Error() }

// match is a file that a glob matched.
type match struct {
	name string // slash-separated, relative to the directory, as matched
	real string // its symlink-free path, relative to the directory
}

// openStatsDir opens dir; logf (nil: nothing) reports the changes of the
// directory as mmash serves it.
func openStatsDir(dir string, logf func(string, ...any)) (*statsDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	ref, err := openRoot(abs)
	if err != nil {
		return nil, err
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &statsDir{path: dir, abs: abs, logf: logf, cur: ref}, nil
}

func openRoot(abs string) (*rootRef, error) {
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, err
	}
	id, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	return &rootRef{real: real, root: root, id: id}, nil
}

// Close closes the directory open now; requests still using an older
// opening close theirs when they end.
func (d *statsDir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil {
		return nil
	}
	d.retire()
	return nil
}

// acquire returns the directory that the path names now, opening it again
// if it changed, for one request; release it after.
func (d *statsDir) acquire() (*rootRef, error) {
	fi, statErr := os.Stat(d.abs)
	d.mu.Lock()
	defer d.mu.Unlock()
	if statErr == nil && d.cur != nil && os.SameFile(fi, d.cur.id) {
		d.cur.refs++
		return d.cur, nil
	}
	var ref *rootRef
	err := statErr
	if err == nil {
		ref, err = openRoot(d.abs)
	}
	if err != nil {
		if msg := err.Error(); d.cur != nil || msg != d.lastErr {
			d.logf("%s: %v: serving no files until it is back", d.path, err)
			d.lastErr = msg
		}
		if d.cur != nil {
			d.retire()
		}
		return nil, &dirError{err}
	}
	if d.cur != nil {
		d.logf("%s: the directory was replaced (deleted and created again?): serving the new one", d.path)
		d.retire()
	} else {
		d.logf("%s: the directory is back: serving it again", d.path)
	}
	d.cur, d.lastErr = ref, ""
	ref.refs++
	return ref, nil
}

// retire takes the current opening out of use; under d.mu.
func (d *statsDir) retire() {
	d.cur.retired = true
	if d.cur.refs == 0 {
		d.cur.root.Close()
	}
	d.cur = nil
}

// release ends a request's use of ref.
func (d *statsDir) release(ref *rootRef) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ref.refs--
	if ref.retired && ref.refs == 0 {
		ref.root.Close()
	}
}

// checkGlob returns an error if a client may not send pattern.
func checkGlob(pattern string) error {
	switch {
	case len(pattern) > maxGlobLen:
		return fmt.Errorf("is longer than %d bytes", maxGlobLen)
	case strings.HasPrefix(pattern, "/"):
		return errors.New("must be relative to the stats directory")
	case strings.Contains(pattern, ".."):
		return errors.New(`must not contain ".."`)
	case strings.ContainsAny(pattern, "%\x00"):
		return errors.New("must not contain '%' or NUL (encoded twice?)")
	}
	elems := strings.Split(pattern, "/")
	if len(elems) > maxGlobElems {
		return fmt.Errorf("has more than %d path elements", maxGlobElems)
	}
	for _, elem := range elems {
		if _, err := path.Match(elem, ""); err != nil {
			return err
		}
	}
	return nil
}

// hasMeta reports whether a path element is a pattern rather than a name.
func hasMeta(elem string) bool { return strings.ContainsAny(elem, `*?[\`) }

// globWork counts what a glob costs, against maxGlobWork.
type globWork struct{ n int }

// errGlob is a glob that costs too much.
type errGlob struct{ msg string }

func (e *errGlob) Error() string { return e.msg }

func (w *globWork) add(n int) error {
	w.n += n
	if w.n > maxGlobWork {
		return &errGlob{fmt.Sprintf("looks at more than %d directory entries and symlinks; narrow it", maxGlobWork)}
	}
	return nil
}

// expand returns the names inside the directory that a checked pattern
// matches, sorted, and the names it matched that lead outside. Its error
// is an *errGlob: the glob is too costly.
func (ref *rootRef) expand(pattern string) (matches []match, escaped []string, err error) {
	var elems []string
	for _, elem := range strings.Split(pattern, "/") {
		if elem != "" && elem != "." {
			elems = append(elems, elem)
		}
	}
	var work globWork
	level := []match{{name: ".", real: "."}}
	for i, elem := range elems {
		last := i == len(elems)-1
		var next []match
		// Before the last element, each directory is gone through once,
		// by the first name that leads to it: symlinks to "." or to each
		// other cannot multiply the work.
		var seen map[string]bool
		if !last {
			seen = map[string]bool{}
		}
		for _, m := range level {
			names, plain := []string{elem}, []bool{false}
			if hasMeta(elem) {
				if names, plain, err = ref.list(m.real, elem, &work); err != nil {
					return nil, nil, err
				}
			}
			for i, name := range names {
				// A directory entry that is not a symlink is its own real
				// path; anything else is resolved.
				real, err := path.Join(m.real, name), error(nil)
				if !plain[i] {
					if werr := work.add(strings.Count(real, "/") + 1); werr != nil {
						return nil, nil, werr
					}
					real, err = ref.resolve(real)
				}
				switch {
				case errors.Is(err, errOutside):
					escaped = append(escaped, path.Join(m.name, name))
				case err != nil:
					// No such file, dangling link: no match.
				case seen[real]:
				default:
					if seen != nil {
						seen[real] = true
					}
					if len(next) == maxGlobMatches {
						return nil, nil, &errGlob{fmt.Sprintf("matches more than %d names; narrow it", maxGlobMatches)}
					}
					next = append(next, match{name: path.Join(m.name, name), real: real})
				}
			}
		}
		level = next
	}
	slices.SortFunc(level, func(a, b match) int { return strings.Compare(a.name, b.name) })
	return level, escaped, nil
}

// list returns the names in directory real (relative, symlink-free) that
// match elem, sorted, and for each whether the directory says it is not a
// symlink. An unreadable directory matches nothing, as with filepath.Glob.
func (ref *rootRef) list(real, elem string, work *globWork) (names []string, plain []bool, err error) {
	// O_DIRECTORY: a FIFO that an earlier element matched must not block.
	f, err := ref.root.OpenFile(real, os.O_RDONLY|oDirectory|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, nil
	}
	defer f.Close()
	var entries []fs.DirEntry
	for {
		// In batches, so that a huge directory costs work as it is read.
		batch, rerr := f.ReadDir(4096)
		if err := work.add(len(batch)); err != nil {
			return nil, nil, err
		}
		for _, e := range batch {
			if ok, _ := path.Match(elem, e.Name()); ok {
				entries = append(entries, e)
			}
		}
		if rerr != nil {
			break // io.EOF at the end; after another error, what was read
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		names = append(names, e.Name())
		plain = append(plain, e.Type()&fs.ModeSymlink == 0 && e.Type()&fs.ModeIrregular == 0)
	}
	return names, plain, nil
}

// resolve returns the symlink-free path of name (relative to the
// directory), or errOutside.
func (ref *rootRef) resolve(name string) (string, error) {
	p, err := filepath.EvalSymlinks(filepath.Join(ref.real, filepath.FromSlash(name)))
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(ref.real, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", errOutside
	}
	return filepath.ToSlash(rel), nil
}

// open opens a matched file for reading, if it is a regular file.
func (ref *rootRef) open(m match) (*os.File, os.FileInfo, error) {
	// Refuse non-regular files before opening them: opening a FIFO would
	// block and opening some devices has side effects.
	fi, err := ref.root.Lstat(m.real)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, errNotRegular
	}
	f, err := ref.root.OpenFile(m.real, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, errNotRegular
	}
	return f, fi, nil
}
