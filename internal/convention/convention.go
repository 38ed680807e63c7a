// Package convention holds the rules that the writer and the tools share
// beyond the file format, each written once: where stats files go and
// what they are called (the default directory and glob, the *.mmstats
// pattern, the writer's temporary names, glob escaping), and the default
// fields that every file carries (sys.pid, sys.flock...) and what they
// mean.
package convention

import (
	"os"
	"path/filepath"
	"strings"
)

// The environment variables that choose where stats files are.
const (
	// EnvPath is the directory that writers write to and tools read.
	EnvPath = "MMSTATS_PATH"
	// EnvGlob is the pattern that tools read when given no files.
	EnvGlob = "MMSTATS_GLOB"
)

// Pattern is the name pattern of stats files: the files of a directory
// that a tool is given, and the last element of the default glob.
const Pattern = "*.mmstats"

// Dir returns the directory that stats files go to by default:
// $MMSTATS_PATH, or the system's temporary directory.
func Dir() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	return os.TempDir()
}

// Glob returns the pattern the tools read when given no files:
// $MMSTATS_GLOB, or Dir()/Pattern.
func Glob() string {
	if g := os.Getenv(EnvGlob); g != "" {
		return g
	}
	return filepath.Join(Dir(), Pattern)
}

// EscapeGlob escapes the characters that filepath.Match treats
// specially, so that a name matches as it is: a directory called
// "[x]" in a pattern built from it.
func EscapeGlob(s string) string { return globEscaper.Replace(s) }

var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)

// HasMeta reports whether s holds a character that makes it a pattern
// for filepath.Match.
func HasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// A writer that cannot create a file without a name builds it under a
// temporary name in the target directory, TempPrefix + TempHex lowercase
// hex digits + TempSuffix (".mmstats.0123456789abcdef.tmp"): a name of
// fixed length, whatever the final name, that no Pattern matches and
// that cleanstats recognizes (IsTempName) and removes once its creator's
// lock is free.
const (
	TempPrefix = ".mmstats."
	TempSuffix = ".tmp"
	TempHex    = 16
)

// IsTempName reports whether name (a base name) is a writer's temporary
// name.
func IsTempName(name string) bool {
	hex, ok := strings.CutPrefix(name, TempPrefix)
	if !ok {
		return false
	}
	hex, ok = strings.CutSuffix(hex, TempSuffix)
	if !ok || len(hex) != TempHex {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
