package cli

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mmstats/mmstats/internal/convention"
)

// FileSet resolves the FILE|DIR|GLOB arguments of a tool, by the rules
// every tool follows. With no arguments it is the pattern $MMSTATS_GLOB
// (default $MMSTATS_PATH/*.mmstats). A directory means its *.mmstats
// files; an argument that does not exist but holds glob characters is
// expanded by the tool itself (a quoted glob); anything else is a file,
// reported by the tool if it cannot be read. Tools that look at the
// places again and again (pollstats) or that need more than the matching
// names (cleanstats) go through Args; the others call Resolve.
type FileSet struct {
	args []string
}

// NewFileSet returns the set named by args.
func NewFileSet(args []string) *FileSet {
	if len(args) == 0 {
		args = []string{convention.Glob()}
	}
	return &FileSet{args: args}
}

// Names returns the arguments as given, or the default glob: what the
// set names, for messages ("no stats files match ...").
func (s *FileSet) Names() []string { return s.args }

// ArgKind is what a FILE|DIR|GLOB argument names.
type ArgKind int

// The kinds of argument.
const (
	File ArgKind = iota // a file, read as it is
	Dir                 // a directory: its files that convention.Pattern matches
	Glob                // a pattern that names no file, expanded by the tool
)

// Arg is one argument of a FileSet, classified.
type Arg struct {
	Path string // as given
	Kind ArgKind
}

// Split returns, for a Dir or a Glob, the directory to look in, as given
// ("" for a glob without a directory part: the current directory), and
// the pattern that names match in it: convention.Pattern for a
// directory, the glob's last element for a glob. The directory part of a
// glob may be a pattern too (convention.HasMeta).
func (a Arg) Split() (dir, pattern string) {
	if a.Kind == Dir {
		return a.Path, convention.Pattern
	}
	return filepath.Split(a.Path)
}

// Args returns the arguments, classified. A glob that is not a valid
// pattern is a usage error.
func (s *FileSet) Args() ([]Arg, error) {
	out := make([]Arg, len(s.args))
	for i, a := range s.args {
		out[i] = Arg{Path: a, Kind: classify(a)}
		if out[i].Kind == Glob {
			if _, err := filepath.Match(a, ""); err != nil {
				return nil, UsageError("bad pattern %q: %v", a, err)
			}
		}
	}
	return out, nil
}

// classify applies the rules: a directory, else a glob if it names
// nothing and has glob characters, else a file.
func classify(a string) ArgKind {
	if st, err := os.Stat(a); err == nil && st.IsDir() {
		return Dir
	}
	if strings.ContainsAny(a, "*?[") {
		if _, err := os.Lstat(a); err != nil {
			return Glob
		}
	}
	return File
}

// Dynamic reports whether resolving again can give other files: the set
// has a directory or a glob. A plain list of files is fixed.
func (s *FileSet) Dynamic() bool {
	for _, a := range s.args {
		if classify(a) != File {
			return true
		}
	}
	return false
}

// Resolve returns the paths the set names now, sorted and without
// duplicates. A glob that matches nothing adds nothing; a bad pattern is
// returned as an error.
func (s *FileSet) Resolve() ([]string, error) {
	args, err := s.Args()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, a := range args {
		pattern := a.Path
		switch a.Kind {
		case File:
			add(a.Path)
			continue
		case Dir:
			pattern = filepath.Join(convention.EscapeGlob(a.Path), convention.Pattern)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, UsageError("bad pattern %q: %v", a.Path, err)
		}
		for _, m := range matches {
			add(m)
		}
	}
	sort.Strings(out)
	return out, nil
}
