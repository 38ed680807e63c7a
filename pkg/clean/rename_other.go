//go:build unix && !linux && !darwin

package clean

// renameNoReplace renames from to to in dir, failing with EEXIST if to
// exists: it never replaces anything. This system has no rename that
// refuses to replace (FreeBSD among others): linkNoReplace does it.
func renameNoReplace(dir int, from, to string) error { return linkNoReplace(dir, from, to) }
