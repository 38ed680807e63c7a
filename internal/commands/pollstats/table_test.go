package pollstats

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAbbreviate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		width int
		want  string
	}{
		{"2XX", 5, "2XX"},
		{"timers.request", 14, "timers.request"},
		{"timers.request", 9, "request"},
		{"a.b.request", 8, "request"},
		{"timers.request", 5, "requ~"},
		{"requests", 4, "req~"},
		{"ünïcödé", 4, "ünï~"},
		{"x.", 1, "x"},
		{"abc", 1, "a"},
	} {
		if got := abbreviate(tt.name, tt.width); got != tt.want {
			t.Errorf("abbreviate(%q, %d) = %q, want %q", tt.name, tt.width, got, tt.want)
		}
	}
}

// render fits a table of names with values to width and returns the
// header and the line.
func render(names []string, values []float64, width int) (string, string) {
	tab := newTable(names, 0)
	cells := make([]cell, len(values))
	for i, v := range values {
		r := result{isSum: true}
		if v == math.Trunc(v) {
			r.sum.AddInt(int64(v))
		} else {
			r.sum.AddFloat(v)
		}
		cells[i] = cell{text: appendResult(nil, &r, false, 0), v: v}
	}
	tab.fit(width)
	tab.observe(cells)
	return string(tab.appendHeader(nil, false)), string(tab.appendLine(nil, cells, false))
}

func TestTableFits(t *testing.T) {
	names := []string{"status.2XX", "status.5XX", "timers.request", "working"}
	values := []float64{1234567, 3, 0.0123, 2}
	for _, tt := range []struct {
		width        int
		header, line string
	}{
		// Unlimited (piped): as wide as the headers, two spaces apart.
		{0, "status.2XX  status.5XX  timers.request  working\n", "   1234567           3          0.0123        2\n"},
		{47, "status.2XX  status.5XX  timers.request  working\n", "   1234567           3          0.0123        2\n"},
		// One space apart.
		{44, "status.2XX status.5XX timers.request working\n", "   1234567          3         0.0123       2\n"},
		// Headers cut to their last part, then shortened.
		{30, "     2XX  5XX  request working\n", " 1234567    3   0.0123       2\n"},
		{24, "    2XX 5XX request wor~\n", "1234567   3  0.0123    2\n"},
		// Values in 5 columns, then columns left out.
		{18, "  2XX 5XX requ~ >\n", " 1.2M   3 0.012 >\n"},
		{12, "  2XX 5XX >\n", " 1.2M   3 >\n"},
		// At least one column, even if it does not fit.
		{3, "  2XX >\n", " 1.2M >\n"},
	} {
		h, l := render(names, values, tt.width)
		if h != tt.header || l != tt.line {
			t.Errorf("width %d:\n got %q\n     %q\nwant %q\n     %q", tt.width, h, l, tt.header, tt.line)
		}
		if tt.width >= 12 {
			for _, s := range []string{h, l} {
				if n := utf8.RuneCountInString(strings.TrimSuffix(s, "\n")); n > tt.width {
					t.Errorf("width %d: %q is %d wide", tt.width, s, n)
				}
			}
		}
	}
}

func TestTableWidensForValues(t *testing.T) {
	tab := newTable([]string{"2XX"}, 0)
	if tab.observe([]cell{{text: []byte("12")}}) {
		t.Error("a value that fits changed the layout")
	}
	if !tab.observe([]cell{{text: []byte("1234567")}}) || tab.widths[0] != 7 {
		t.Errorf("a wide value did not widen the column: %v", tab.widths)
	}
	if tab.observe([]cell{{text: []byte("1")}}) || tab.widths[0] != 7 {
		t.Errorf("the column shrank again: %v", tab.widths)
	}
}
