package convention

import (
	"errors"
	"strconv"
	"strings"
)

// Folding: when a stats file's writer is gone, its counters and histogram
// buckets are added into the totals file of its directory before the file
// is removed (internal/fold does it; readers count the totals file and
// leave out the files it holds). The names and encodings that the writer,
// the cleaner and the readers share are here.

// Folded is the label of the totals file's field that lists the files
// folded into it and perhaps not removed yet: a string of entries
// separated by one space, each the file's sys.id in 16 lowercase hex
// digits, a colon and the name it had in the directory (AppendFolded).
// A file that has it, and no sys.pid, is a totals file.
const Folded = "sys.folded"

// TotalsWord replaces {PID} in a file name template to name its totals
// file.
const TotalsWord = "totals"

// TotalsTemplate returns the template of the totals file for the file
// name template tmpl: each {TID} removed together with one adjacent
// separator ('-', '_' or '.'; the one before it if there is one), then
// {PID} replaced by "totals", so that "{CMD}-{PID}-{TID}.mmstats" gives
// "{CMD}-totals.mmstats". ok is false when tmpl has no {PID}: a file
// that is not per process is not folded.
func TotalsTemplate(tmpl string) (string, bool) {
	if !strings.Contains(tmpl, "{PID}") {
		return "", false
	}
	const tid = "{TID}"
	for {
		i := strings.Index(tmpl, tid)
		if i < 0 {
			break
		}
		start, end := i, i+len(tid)
		switch {
		case i > 0 && isSeparator(tmpl[i-1]):
			start--
		case end < len(tmpl) && isSeparator(tmpl[end]):
			end++
		}
		tmpl = tmpl[:start] + tmpl[end:]
	}
	return strings.ReplaceAll(tmpl, "{PID}", TotalsWord), true
}

func isSeparator(c byte) bool { return c == '-' || c == '_' || c == '.' }

// ValidTotalsName reports whether name may name a totals file: one path
// element of at most 255 bytes, not hidden, holding "totals". A file's
// sys.totals that is not valid is not followed: a stats file, which
// anyone who can write the directory can craft, must not make a folder
// replace another file.
func ValidTotalsName(name string) bool {
	return name != "" && len(name) <= 255 && name[0] != '.' &&
		!strings.ContainsAny(name, "/\x00") && strings.Contains(name, TotalsWord)
}

// FoldedEntry is one entry of sys.folded: a folded file's sys.id and a
// name it has, or may have, in the directory.
type FoldedEntry struct {
	ID   uint64
	Name string
}

// AppendFolded appends the encoding of entries to b (see Folded). Bytes
// of a name outside '!'..'~', and '%', are written %XX, so that entries
// and their parts stay apart whatever the names hold.
func AppendFolded(b []byte, entries []FoldedEntry) []byte {
	const hex = "0123456789ABCDEF"
	for i, e := range entries {
		if i > 0 {
			b = append(b, ' ')
		}
		id := strconv.FormatUint(e.ID, 16)
		b = append(b, "0000000000000000"[len(id):]...)
		b = append(b, id...)
		b = append(b, ':')
		for j := 0; j < len(e.Name); j++ {
			c := e.Name[j]
			if c <= ' ' || c >= 0x7f || c == '%' {
				b = append(b, '%', hex[c>>4], hex[c&15])
				continue
			}
			b = append(b, c)
		}
	}
	return b
}

// ErrFolded means a sys.folded value does not follow its encoding.
var ErrFolded = errors.New("malformed " + Folded)

// ScanFolded calls fn with each entry of the sys.folded value s, in
// order, and stops when fn returns false. It checks the whole encoding
// first: a malformed value gives ErrFolded and no call.
func ScanFolded(s string, fn func(FoldedEntry) bool) error {
	var err error
	walk := func(call bool) {
		rest, more := s, s != ""
		for more && err == nil {
			var item string
			item, rest, more = strings.Cut(rest, " ")
			if len(item) < 18 || item[16] != ':' {
				err = ErrFolded
				return
			}
			id, perr := strconv.ParseUint(item[:16], 16, 64)
			name, uerr := unescapeName(item[17:])
			if perr != nil || uerr != nil || item[:16] != strings.ToLower(item[:16]) {
				err = ErrFolded
				return
			}
			if call && !fn(FoldedEntry{ID: id, Name: name}) {
				return
			}
		}
	}
	if walk(false); err != nil {
		return err
	}
	walk(true)
	return nil
}

// ParseFolded returns the entries of the sys.folded value s.
func ParseFolded(s string) ([]FoldedEntry, error) {
	var out []FoldedEntry
	err := ScanFolded(s, func(e FoldedEntry) bool {
		out = append(out, e)
		return true
	})
	return out, err
}

// unescapeName undoes AppendFolded's escapes.
func unescapeName(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", ErrFolded
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", ErrFolded
		}
		b = append(b, byte(v))
		i += 2
	}
	return string(b), nil
}
