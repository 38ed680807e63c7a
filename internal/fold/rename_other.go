//go:build unix && !linux

package fold

// renameNoReplace renames from to to in dir, failing with EEXIST if to
// exists: link then unlink, which every Unix has.
func renameNoReplace(dir int, from, to string) error { return linkNoReplace(dir, from, to) }
