package reader

import "runtime/debug"

// LoadSame is LoadEach for mappings whose words are all at the same
// offsets, as the files of one layout have them: the words of ws[k] at
// offs go to dst[k*stride:]. The offsets are checked once for all the
// mappings, so that each costs one length check and its loads: a
// processor then has the loads of many files under way at once (the
// cost of a poll over thousands of files is the waits on their pages,
// which overlap only when the loop between them is short). It stops at
// the first mapping that fails, returning its position in ws and the
// error (without path); else len(ws) and nil.
func LoadSame(ws []Words, offs []int, dst []uint64, stride int) (k int, err error) {
	if len(offs) == 0 {
		return len(ws), nil
	}
	lo, hi, aligned := offs[0], offs[0]+8, true
	for _, off := range offs {
		lo, hi, aligned = min(lo, off), max(hi, off+8), aligned && off%8 == 0
	}
	if lo < 0 || len(offs) > stride {
		return 0, &FormatError{Offset: lo, Err: ErrTruncated, Detail: "value runs past the end"}
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	if aligned {
		k = loadSame(ws, offs, dst, stride, hi, &k)
		if k == len(ws) {
			return k, nil
		}
		if ws[k].data == nil {
			return k, ErrClosed
		}
		return k, &FormatError{Offset: hi - 8, Err: ErrTruncated, Detail: "value runs past the end"}
	}
	for k = range ws { // a packed file's words, as loadWords reads them
		data := ws[k].data
		if data == nil {
			return k, ErrClosed
		}
		if hi > len(data) {
			return k, &FormatError{Offset: hi - 8, Err: ErrTruncated, Detail: "value runs past the end"}
		}
		d := dst[k*stride : k*stride+len(offs)]
		for j, off := range offs {
			loadWords(d[j:j+1], data, off)
		}
	}
	return len(ws), nil
}
