package reader

import "runtime/debug"

// UnchangedWords checks many files as Unchanged checks one, in one
// pass through their Words, without going through their Files: a
// poller keeps one record per file for both its loads and this check.
// It returns the position in ws of the first file that is not Unchanged
// (or whose Words is the zero Words), or len(ws) when all are.
func UnchangedWords(ws []Words) (k int) {
	var err error
	defer catchFault(&err, debug.SetPanicOnFault(true)) // k: the file that faulted
	for k = range ws {
		if !unchangedAt(ws[k].data, ws[k].end) {
			return k
		}
	}
	return len(ws)
}
