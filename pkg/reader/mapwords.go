package reader

import "runtime/debug"

// Words without a File: a process that only loads words of files it was
// told the layout of (pollstats' mapping helper, which maps the files
// past pollstats' own mapping budget) keeps a mapping per file and
// nothing parsed. Its mappings count against the same budget as Open's.

// MapWords maps the first size bytes of the regular file open at fd
// read-only and shared, as Words; the caller may close fd then. Past the
// process's mapping budget (see Open), or where the system maps no
// files, it fails and makes no copy. Unmap unmaps it. Its layout is not
// known, so UnchangedWords reports it changed; LoadBytes loads the
// bytes to check.
func MapWords(fd, size int) (Words, error) {
	if copyOnly || liveMaps.Add(1) > mapBudget() {
		liveMaps.Add(-1)
		return Words{}, errNoMap
	}
	data, err := mmap(fd, size)
	if err != nil {
		liveMaps.Add(-1)
		return Words{}, err
	}
	// No layout is known: UnchangedWords never calls it unchanged.
	return Words{data: data, end: len(data)}, nil
}

// Unmap unmaps w, a mapping of MapWords, and sets it to the zero Words
// (whose loads give ErrClosed). It does nothing to the zero Words.
func (w *Words) Unmap() error {
	if w.data == nil {
		return nil
	}
	err := munmap(w.data)
	liveMaps.Add(-1)
	w.data = nil
	return err
}

// LoadBytes loads the bytes of w at offs into dst (len(dst) >=
// len(offs)), each atomically as part of its word, as the checks of
// UnchangedWords load them, under one fault guard: a file that shrank
// gives ErrFault, an offset past the mapping ErrTruncated.
func (w Words) LoadBytes(offs []int, dst []byte) (err error) {
	if w.data == nil {
		return ErrClosed
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	for k, off := range offs {
		if off < 0 || off >= len(w.data) {
			return &FormatError{Offset: off, Err: ErrTruncated, Detail: "byte past the end"}
		}
		dst[k] = loadByte(w.data, off)
	}
	return nil
}
