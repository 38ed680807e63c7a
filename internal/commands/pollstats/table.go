package pollstats

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Terminal attributes. Each line that sets one ends with reset, so an
// interrupt between lines never leaves the terminal coloured.
const (
	bold   = "\033[1m"
	yellow = "\033[33m" // non-zero values, as the Python original
	reset  = "\033[0m"
)

// Sizes of the table, in columns.
const (
	minWidth  = 5 // a column is at least this wide when there is room
	minHeader = 3 // an abbreviated header keeps at least this much
	more      = " >"
)

// table lays out the columns of the lines: right-aligned, as wide as
// their header and the widest value so far, fitted to the terminal's
// width. When the columns do not fit it, in order: the gap between
// columns shrinks from two spaces to one; headers are abbreviated (see
// abbreviate) down to the width of their values; values are shown in at
// most compactWidth characters (1.2k, 45M); and the columns that still
// do not fit are left out, the line ending in ">". The first labels
// columns label the rows (--each: the PID): never compacted or coloured.
type table struct {
	names  []string // the full headers
	labels int      // the leading columns that label rows
	valueW []int    // the widest exact value so far, per column
	limit  int      // the terminal's width; 0 means unlimited

	// The current fit.
	widths []int
	heads  []string
	gap    int
	shown  int
}

// cell is one value of a line: its exact text, and its value for the
// compact text and the colour.
type cell struct {
	text []byte
	v    float64
	none bool // no value ("-"): not coloured
}

func newTable(names []string, labels int) *table {
	t := &table{names: names, labels: labels, valueW: make([]int, len(names))}
	t.fit(0)
	return t
}

// fit lays the columns out for a terminal limit columns wide (0:
// unlimited) and reports whether the layout changed.
func (t *table) fit(limit int) bool {
	n := len(t.names)
	old := struct {
		widths []int
		heads  []string
		gap    int
		shown  int
	}{t.widths, t.heads, t.gap, t.shown}
	t.limit = limit
	natural := make([]int, n)
	base := make([]int, n)
	for i, name := range t.names {
		nw := utf8.RuneCountInString(name)
		natural[i] = max(minWidth, nw, t.valueW[i])
		base[i] = max(t.valueW[i], min(nw, minHeader), 1)
	}
	t.widths, t.gap, t.shown = natural, 2, n
	switch {
	case limit <= 0 || sum(natural)+2*(n-1) <= limit:
	case sum(natural)+(n-1) <= limit:
		t.gap = 1
	default:
		t.gap = 1
		if sum(base)+(n-1) > limit { // values in compactWidth
			for i := t.labels; i < n; i++ {
				base[i] = max(min(t.valueW[i], compactWidth), min(utf8.RuneCountInString(t.names[i]), minHeader), 1)
			}
		}
		// Room left goes first to the last part of each header ("level"
		// of "web.level"), then to whole headers and exact values.
		heads := make([]int, n)
		for i, name := range t.names {
			last := name[strings.LastIndexByte(name[:max(len(name)-1, 0)], '.')+1:]
			heads[i] = max(base[i], min(utf8.RuneCountInString(last), natural[i]))
		}
		t.widths = grow(grow(base, heads, limit-(n-1)), natural, limit-(n-1))
		if sum(t.widths)+(n-1) > limit {
			t.shown = 1 // at least one column, even if it wraps
			for t.shown < n && sum(t.widths[:t.shown+1])+t.shown+len(more) <= limit {
				t.shown++
			}
		}
	}
	t.heads = make([]string, n)
	for i, name := range t.names {
		t.heads[i] = abbreviate(name, t.widths[i])
	}
	return t.gap != old.gap || t.shown != old.shown || !slices.Equal(t.widths, old.widths) || !slices.Equal(t.heads, old.heads)
}

// grow widens the columns from base towards natural, one column at a
// time in turn, while their sum stays within room.
func grow(base, natural []int, room int) []int {
	w := append([]int(nil), base...)
	left := room - sum(w)
	for left > 0 {
		grew := false
		for i := range w {
			if left > 0 && w[i] < natural[i] {
				w[i]++
				left--
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	return w
}

// observe widens the columns for a line's exact texts and reports whether
// the layout changed.
func (t *table) observe(cells []cell) bool {
	wider := false
	for i := range cells {
		if w := utf8.RuneCount(cells[i].text); w > t.valueW[i] {
			t.valueW[i] = w
			wider = true
		}
	}
	return wider && t.fit(t.limit)
}

// appendHeader appends the header line.
func (t *table) appendHeader(b []byte, color bool) []byte {
	if color {
		b = append(b, bold...)
	}
	for i := range t.shown {
		if i > 0 {
			b = appendSpaces(b, t.gap)
		}
		b = appendSpaces(b, t.widths[i]-utf8.RuneCountInString(t.heads[i]))
		b = append(b, t.heads[i]...)
	}
	if t.shown < len(t.names) {
		b = append(b, more...)
	}
	if color {
		b = append(b, reset...)
	}
	return append(b, '\n')
}

// appendLine appends a line of cells.
func (t *table) appendLine(b []byte, cells []cell, color bool) []byte {
	var scratch [32]byte
	for i := range t.shown {
		if i > 0 {
			b = appendSpaces(b, t.gap)
		}
		c := &cells[i]
		s := c.text
		if i >= t.labels && !c.none && utf8.RuneCount(s) > t.widths[i] {
			s = appendCompact(scratch[:0], c.v)
		}
		b = appendSpaces(b, t.widths[i]-utf8.RuneCount(s))
		if color && i >= t.labels && !c.none && c.v != 0 {
			b = append(append(append(b, yellow...), s...), reset...)
		} else {
			b = append(b, s...)
		}
	}
	if t.shown < len(t.names) {
		b = append(b, more...)
	}
	return append(b, '\n')
}

// abbreviate fits a header into width columns: first by dropping leading
// dot-separated parts ("timers.request" becomes "request"), then by
// cutting the last part and marking the cut with "~" ("requ~").
func abbreviate(name string, width int) string {
	if utf8.RuneCountInString(name) <= width {
		return name
	}
	last := name
	for {
		i := strings.IndexByte(last, '.')
		if i < 0 || i == len(last)-1 {
			break
		}
		last = last[i+1:]
		if utf8.RuneCountInString(last) <= width {
			return last
		}
	}
	r := []rune(last)
	if width <= 1 {
		return string(r[:max(width, 0)])
	}
	return string(r[:width-1]) + "~"
}

// displayWidth returns the columns a line takes on the terminal: its
// runes, without the escapes of bold and colour and the final newline.
func displayWidth(line []byte) int {
	n := 0
	for i := 0; i < len(line); {
		if line[i] == '\033' {
			for i < len(line) && line[i] != 'm' {
				i++
			}
			i++
			continue
		}
		if line[i] != '\n' {
			n++
		}
		_, size := utf8.DecodeRune(line[i:])
		i += size
	}
	return n
}

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}
