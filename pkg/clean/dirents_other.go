//go:build !linux

package clean

// listMatching returns the entries of directory dir that l includes,
// unsorted (MatchEntries).
func listMatching(dir string, l listing) ([]Entry, error) { return listMatchingDir(dir, l) }
