package cleanstats

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/pkg/clean"
)

// missing is an argument that names nothing: reported, and the exit
// status is 1, so that a typo in a crontab does not go unnoticed.
type missing struct {
	path string
	err  error
}

// resolve returns the paths that args name, by the tools' rules
// (cli.FileSet: a directory means its *.mmstats files, an argument that
// does not exist but holds glob characters is a glob, anything else a
// file; no argument means the default glob), with the hidden files that
// belong to them (clean.Matches), sorted and without duplicates, with
// the file types that listing their directories gave. A file that does
// not exist, or a glob or default whose directory does not, is
// returned in missing instead; a bad pattern is a usage error.
func resolve(args []string) (entries []clean.Entry, absent []missing, err error) {
	set, err := cli.NewFileSet(args).Args()
	if err != nil {
		return nil, nil, err
	}
	sources := 0                               // lists appended: more than one is sorted again
	hidden := map[string]map[string][]string{} // directory: origin name: hidden names
	add := func(dir, pattern string) error {
		matches, err := clean.MatchEntries(dir, pattern)
		if errors.Is(err, filepath.ErrBadPattern) {
			return err
		}
		if err != nil {
			absent = append(absent, missing{dir, unwrapPath(err)})
			return nil
		}
		if entries == nil {
			entries = matches
		} else {
			entries = append(entries, matches...)
		}
		sources++
		return nil
	}
	for _, a := range set {
		switch a.Kind {
		case cli.Dir:
			err = add(a.Split())
		case cli.Glob:
			dir, pattern := a.Split()
			dir = filepath.Clean(dir)
			if !convention.HasMeta(dir) {
				err = add(dir, pattern)
				break
			}
			dirs, gerr := filepath.Glob(dir)
			if gerr != nil {
				return nil, nil, cli.UsageError("bad pattern %q: %v", a.Path, gerr)
			}
			for _, d := range dirs {
				if isDir(d) {
					if err = add(d, pattern); err != nil {
						break
					}
				}
			}
		default:
			sources += 2
			if _, serr := os.Lstat(a.Path); serr != nil && (os.IsNotExist(serr) || errors.Is(serr, errNotDir)) {
				absent = append(absent, missing{a.Path, unwrapPath(serr)})
			} else {
				entries = append(entries, clean.Entry{Path: a.Path})
			}
			// And what a killed cleanstats left aside of it.
			dir, name := filepath.Split(a.Path)
			dir = filepath.Clean(dir)
			if hidden[dir] == nil {
				hidden[dir] = hiddenNames(dir)
			}
			for _, h := range hidden[dir][name] {
				entries = append(entries, clean.Entry{Path: filepath.Join(dir, h)})
			}
		}
		if err != nil {
			return nil, nil, cli.UsageError("bad pattern %q: %v", a.Path, err)
		}
	}
	if sources > 1 {
		// Sorted, each path once: a listed entry first, for its type.
		slices.SortFunc(entries, func(a, b clean.Entry) int {
			if c := strings.Compare(a.Path, b.Path); c != 0 || a.Listed == b.Listed {
				return c
			}
			if a.Listed {
				return -1
			}
			return 1
		})
		entries = slices.CompactFunc(entries, func(a, b clean.Entry) bool { return a.Path == b.Path })
	}
	return entries, absent, nil
}

// hiddenNames returns the names in dir that belong to another name
// (clean.Origin), by that name. Listing each directory once keeps a long
// list of files (a shell's expansion) linear.
func hiddenNames(dir string) map[string][]string {
	out := map[string][]string{}
	f, err := os.Open(dir)
	if err != nil {
		return out
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		if o := clean.Origin(n); o != "" {
			out[o] = append(out[o], n)
		}
	}
	return out
}

// unwrapPath returns the reason of a *PathError ("no such file or
// directory"): the path is printed beside it.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func isDir(a string) bool {
	st, err := os.Stat(a)
	return err == nil && st.IsDir()
}

var errNotDir = syscall.ENOTDIR
