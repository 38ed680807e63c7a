package clean

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mmstats/mmstats/internal/convention"
)

// Kind says what a file is, by its name.
type Kind int

// The kinds of file a Cleaner handles.
const (
	// Stats: a stats file, judged by what it says about its writer.
	Stats Kind = iota
	// Temporary: a file a writer was creating, named
	// ".mmstats.XXXXXXXXXXXXXXXX.tmp" (16 lowercase hex digits), or
	// ".NAME.tmpXXXXXXXXXXXX" (12) by writers before it. Its creator
	// holds a shared flock on it from the start (on Linux, from just
	// after the open): it is removed when that lock is free and it is
	// TemporaryMinAge old.
	Temporary
	// Aside: a file a Cleaner moved to ".NAME.cleanstats-XXXXXXXXXXXXXXXX"
	// to remove it, and left there because it was killed or because NAME
	// was taken again. It is removed if it is a stale stats file, and
	// otherwise put back under NAME.
	Aside
	// Totals: a totals file, which holds the counts of the stats files
	// folded into it (a sys.folded field, no sys.pid). It is recognised
	// by its contents, not its name (KindOf never returns it), and never
	// removed.
	Totals
)

var kindNames = [...]string{Stats: "stats", Temporary: "temporary", Aside: "aside", Totals: "totals"}

// String returns "stats", "temporary", "aside" or "totals".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// TemporaryMinAge is how old (by its modification time) an unlocked
// temporary file must be before it is removed. Where a writer cannot
// create and lock a file in one call, a temporary file is unlocked for a
// moment after its creation; a writer never sets its modification time
// back, so an unlocked file this old has lost its creator.
const TemporaryMinAge = 60 * time.Second

const (
	asideInfix  = ".cleanstats-"
	asideHex    = 16
	oldTmpInfix = ".tmp"
	oldTmpHex   = 12
)

// KindOf returns the kind of the file named name (a base name).
func KindOf(name string) Kind {
	switch {
	case asideOrigin(name) != "":
		return Aside
	case isTemporary(name):
		return Temporary
	}
	return Stats
}

// asideOrigin returns NAME for a name ".NAME.cleanstats-<16 hex>", or "".
func asideOrigin(name string) string {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok || len(rest) < len(asideInfix)+asideHex+1 {
		return ""
	}
	cut := len(rest) - asideHex - len(asideInfix)
	if rest[cut:cut+len(asideInfix)] != asideInfix || !lowerHex(rest[cut+len(asideInfix):]) {
		return ""
	}
	return rest[:cut]
}

// Origin returns the name that a hidden file belongs to: NAME for a file
// moved aside (".NAME.cleanstats-…") or an older writer's temporary file
// (".NAME.tmp…"), and "" for any other name.
func Origin(name string) string {
	if orig := asideOrigin(name); orig != "" {
		return orig
	}
	return oldTemporaryOrigin(name)
}

// asideName returns a new private name for a file named name: unique in
// its directory, and recognised by later runs.
func asideName(name string) string {
	var b [asideHex / 2]byte
	rand.Read(b[:])
	var h [asideHex]byte
	hex.Encode(h[:], b[:])
	return "." + name + asideInfix + string(h[:]) // one allocation
}

// isTemporary reports whether name is a writer's temporary name, or an
// older writer's.
func isTemporary(name string) bool {
	return convention.IsTempName(name) || oldTemporaryOrigin(name) != ""
}

// oldTemporaryOrigin returns NAME for an older writer's temporary name
// ".NAME.tmp<12 hex>", or "".
func oldTemporaryOrigin(name string) string {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok || len(rest) < len(oldTmpInfix)+oldTmpHex+1 {
		return ""
	}
	cut := len(rest) - oldTmpHex - len(oldTmpInfix)
	if rest[cut:cut+len(oldTmpInfix)] != oldTmpInfix || !lowerHex(rest[cut+len(oldTmpInfix):]) {
		return ""
	}
	return rest[:cut]
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// DefaultPattern is the file name pattern of a directory's stats files.
// A pattern equal to it also covers the writers' temporary files.
const DefaultPattern = convention.Pattern

// Matches returns the paths of the entries of directory dir whose names
// match pattern (filepath.Match syntax), sorted, with the hidden files that
// belong to them: files moved aside by a Cleaner (.NAME.cleanstats-…)
// whose NAME would be included, an older writer's temporary files
// (.NAME.tmp…) whose NAME matches, and, when pattern is DefaultPattern,
// the writer's temporary files (.mmstats.….tmp). Its error is the
// directory's (it does not exist, or cannot be read), or
// filepath.ErrBadPattern.
func Matches(dir, pattern string) ([]string, error) {
	entries, err := MatchEntries(dir, pattern)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(entries))
	for i := range entries {
		out[i] = entries[i].Path
	}
	return out, nil
}

// MatchEntries is Matches with the type of each file, as the directory's
// listing gives it, for Cleaner.CleanEntries: a Cleaner then need not
// stat a file before opening it.
func MatchEntries(dir, pattern string) ([]Entry, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	out, err := listMatching(dir, newListing(dir, pattern))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// newListing returns what MatchEntries lists of dir for pattern (valid).
func newListing(dir, pattern string) listing {
	match := matcher(pattern)
	var include func(name string) bool
	include = func(name string) bool {
		if match(name) {
			return true
		}
		if name == "" || name[0] != '.' {
			return false // not hidden: none of the names below
		}
		if orig := asideOrigin(name); orig != "" {
			return include(orig)
		}
		if orig := oldTemporaryOrigin(name); orig != "" {
			return match(orig)
		}
		return pattern == DefaultPattern && isTemporary(name)
	}
	// filepath.Join, without cleaning every path again when dir is
	// clean: a name from the directory has no separator, and is not "."
	// or "..".
	join := func(n string) string { return filepath.Join(dir, n) }
	prefix := ""
	if dir != "" && filepath.Clean(dir) == dir {
		prefix = dir + string(filepath.Separator)
		if strings.HasSuffix(dir, string(filepath.Separator)) {
			prefix = dir // the root
		}
		join = func(n string) string { return prefix + n }
	}
	return listing{include: include, join: join, prefix: prefix, suffix: simpleSuffix(pattern)}
}

// listing is what listMatching needs of MatchEntries: which names it
// includes, and their paths (join). When suffix is set (a pattern
// "*SUFFIX") and prefix is not empty (a clean dir), the names that are
// not hidden are included exactly when they end in suffix, and their
// paths are prefix+name: a listing may then tell them without making
// each name a string.
type listing struct {
	include        func(name string) bool
	join           func(name string) string
	prefix, suffix string
}

// listMatchingDir is listMatching through os.File.ReadDir, which gives
// the type that getdents(2) lists (d_type), and lstats a file whose type
// the file system does not list.
func listMatchingDir(dir string, l listing) ([]Entry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	des, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		if n := de.Name(); l.include(n) {
			out = append(out, Entry{Path: l.join(n), Type: de.Type(), Listed: true})
		}
	}
	return out, nil
}

// simpleSuffix returns SUFFIX for a pattern "*SUFFIX" that matches the
// names ending in SUFFIX (no other metacharacter), or "".
func simpleSuffix(pattern string) string {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok && suffix != "" && !strings.ContainsAny(suffix, `*?[\`+string(filepath.Separator)) {
		return suffix
	}
	return ""
}

// matcher returns filepath.Match(pattern, name) as a function of name,
// valid pattern, cheaper for the usual "*SUFFIX" (such as
// DefaultPattern) than matching it afresh for each name.
func matcher(pattern string) func(name string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok && !strings.ContainsAny(suffix, `*?[\`+string(filepath.Separator)) {
		// "*" matches any run of characters but the separator, which
		// a name from a listing does not hold.
		return func(name string) bool { return strings.HasSuffix(name, suffix) }
	}
	return func(name string) bool {
		ok, _ := filepath.Match(pattern, name)
		return ok
	}
}
