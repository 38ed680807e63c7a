package mmash

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/mmstats/mmstats/pkg/reader"
)

// errOutside marks a name whose real path is outside the stats directory.
var errOutside = errors.New("leads outside the stats directory")

// statsDir is the one directory mmash reads, and the confinement of every
// glob a client sends:
//
//   - A glob is relative to the directory and slash-separated. One that is
//     absolute, contains "..", a NUL or a '%' (still URL-encoded: a client
//     encoded it twice), or is not a valid path.Match pattern is refused
//     (checkGlob).
//   - expand matches it one path element at a time, listing only
//     directories whose real path is inside. A name that the directory
//     lists as a symlink, and a name written out in the glob, are resolved
//     (filepath.EvalSymlinks): a symlink is followed when its target is
//     inside, and a name that resolves outside is never listed, opened or
//     reported, only returned as escaped.
//   - A file is opened by its symlink-free path through an os.Root of the
//     directory, which refuses any symlink that leads outside, so a link
//     swapped in after the check cannot escape either. Only regular files
//     are opened, without blocking.
type statsDir struct {
	path string   // the directory as given
	real string   // its absolute, symlink-free path
	root *os.Root // the directory itself
}

// match is a file that a glob matched.
type match struct {
	name string // slash-separated, relative to the directory, as matched
	real string // its symlink-free path, relative to the directory
}

func openStatsDir(dir string) (*statsDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, err
	}
	return &statsDir{path: dir, real: real, root: root}, nil
}

func (d *statsDir) Close() error { return d.root.Close() }

// checkGlob returns an error if a client may not send pattern.
func checkGlob(pattern string) error {
	switch {
	case strings.HasPrefix(pattern, "/"):
		return errors.New("must be relative to the stats directory")
	case strings.Contains(pattern, ".."):
		return errors.New(`must not contain ".."`)
	case strings.ContainsAny(pattern, "%\x00"):
		return errors.New("must not contain '%' or NUL (encoded twice?)")
	}
	for _, elem := range strings.Split(pattern, "/") {
		if _, err := path.Match(elem, ""); err != nil {
			return err
		}
	}
	return nil
}

// hasMeta reports whether a path element is a pattern rather than a name.
func hasMeta(elem string) bool { return strings.ContainsAny(elem, `*?[\`) }

// expand returns the names inside the directory that a checked pattern
// matches, sorted, and the names it matched that lead outside.
func (d *statsDir) expand(pattern string) (matches []match, escaped []string) {
	level := []match{{name: ".", real: "."}}
	for _, elem := range strings.Split(pattern, "/") {
		if elem == "" || elem == "." {
			continue
		}
		var next []match
		for _, m := range level {
			names, plain := []string{elem}, []bool{false}
			if hasMeta(elem) {
				names, plain = d.list(m.real, elem)
			}
			for i, name := range names {
				// A directory entry that is not a symlink is its own real
				// path; anything else is resolved.
				real, err := path.Join(m.real, name), error(nil)
				if !plain[i] {
					real, err = d.resolve(real)
				}
				switch {
				case errors.Is(err, errOutside):
					escaped = append(escaped, path.Join(m.name, name))
				case err == nil:
					next = append(next, match{name: path.Join(m.name, name), real: real})
				}
				// Other errors (no such file, dangling link): no match.
			}
		}
		level = next
	}
	slices.SortFunc(level, func(a, b match) int { return strings.Compare(a.name, b.name) })
	return level, escaped
}

// list returns the names in directory real (relative, symlink-free) that
// match elem, and for each whether the directory says it is not a symlink.
// An unreadable directory matches nothing, as with filepath.Glob.
func (d *statsDir) list(real, elem string) (names []string, plain []bool) {
	// O_DIRECTORY: a FIFO that an earlier element matched must not block.
	f, err := d.root.OpenFile(real, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	entries, _ := f.ReadDir(-1)
	for _, e := range entries {
		if ok, _ := path.Match(elem, e.Name()); ok {
			names = append(names, e.Name())
			plain = append(plain, e.Type()&fs.ModeSymlink == 0 && e.Type()&fs.ModeIrregular == 0)
		}
	}
	return names, plain
}

// resolve returns the symlink-free path of name (relative to the
// directory), or errOutside.
func (d *statsDir) resolve(name string) (string, error) {
	p, err := filepath.EvalSymlinks(filepath.Join(d.real, filepath.FromSlash(name)))
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(d.real, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", errOutside
	}
	return filepath.ToSlash(rel), nil
}

// read reads every stat of a matched file.
func (d *statsDir) read(m match) ([]reader.Stat, error) {
	// Refuse non-regular files before opening them: opening a FIFO would
	// block and opening some devices has side effects.
	fi, err := d.root.Lstat(m.real)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, reader.ErrNotRegular
	}
	f, err := d.root.OpenFile(m.real, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, reader.ErrNotRegular
	}
	// Map the very file that the root opened, not a path that could have
	// changed since.
	rf, err := reader.Open(fdPath(f))
	if err != nil {
		return nil, err
	}
	defer rf.Close()
	return rf.Stats()
}
