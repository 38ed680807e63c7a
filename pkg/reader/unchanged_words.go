package reader

import "runtime/debug"

// UnchangedWords is UnchangedEach for the Words of many files, which
// hold what a Watch holds: a poller keeps one record per file for both
// its loads and this check. It returns the position in ws of the first
// file that is not Unchanged (or whose Words is the zero Words), or
// len(ws) when all are.
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
