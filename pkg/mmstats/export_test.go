package mmstats

// SetUnnamed turns the building of files without a name (O_TMPFILE) on or
// off, so that tests cover the named temporary file too, and returns the
// previous setting.
func SetUnnamed(on bool) bool {
	old := useUnnamed
	useUnnamed = on
	return old
}

// IsTempName reports whether name (a base name) is one of the writer's
// temporary names: ".mmstats.<16 lowercase hex digits>.tmp".
func IsTempName(name string) bool {
	const hexDigits = 16
	if len(name) != len(tempPrefix)+hexDigits+len(tempSuffix) ||
		name[:len(tempPrefix)] != tempPrefix || name[len(name)-len(tempSuffix):] != tempSuffix {
		return false
	}
	for _, c := range name[len(tempPrefix) : len(tempPrefix)+hexDigits] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
