package cli

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// FileSet resolves the FILE|DIR|GLOB arguments of a tool. With no
// arguments it is the pattern MMSTATS_GLOB (default
// $MMSTATS_PATH/*.mmstats). A directory means its *.mmstats files; an
// argument that does not exist but holds glob characters is expanded by
// the tool itself (a quoted glob); anything else is a file, reported by
// the tool if it cannot be read.
type FileSet struct {
	args []string
}

// NewFileSet returns the set named by args.
func NewFileSet(args []string) *FileSet {
	if len(args) == 0 {
		args = []string{reader.DefaultGlob()}
	}
	return &FileSet{args: args}
}

// Dynamic reports whether resolving again can give other files: the set
// has a directory or a glob. A plain list of files is fixed.
func (s *FileSet) Dynamic() bool {
	for _, a := range s.args {
		if isDir(a) || isGlob(a) {
			return true
		}
	}
	return false
}

// Resolve returns the paths the set names now, sorted and without
// duplicates. A glob that matches nothing adds nothing; a bad pattern is
// returned as an error.
func (s *FileSet) Resolve() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, a := range s.args {
		switch {
		case isDir(a):
			matches, err := filepath.Glob(filepath.Join(escapeGlob(a), "*.mmstats"))
			if err != nil {
				return nil, err
			}
			for _, m := range matches {
				add(m)
			}
		case isGlob(a):
			matches, err := filepath.Glob(a)
			if err != nil {
				return nil, UsageError("bad pattern %q: %v", a, err)
			}
			for _, m := range matches {
				add(m)
			}
		default:
			add(a)
		}
	}
	sort.Strings(out)
	return out, nil
}

// isGlob reports whether a names no existing file but has glob syntax.
func isGlob(a string) bool {
	if !strings.ContainsAny(a, "*?[") {
		return false
	}
	_, err := os.Lstat(a)
	return err != nil
}

func isDir(a string) bool {
	st, err := os.Stat(a)
	return err == nil && st.IsDir()
}

func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}
