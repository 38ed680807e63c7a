package slurpstats

import (
	"bufio"
	"path/filepath"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/reader"
)

// maxTableRows bounds the labels a table holds: a table is for people to
// read, and it is held whole until the end (its columns are as wide as
// their widest cell), so a file of millions of labels must not fill it.
// The labels past it are left out, and slurpstats says so.
const maxTableRows = 10000

// tablePrinter collects every file and prints one table at the end: a row
// per label, in the order labels are first seen over the sorted files, and
// a column per file that could be read. A file without a label has an
// empty cell. On a terminal, a table wider than the terminal is printed in
// blocks, one under the other, each with the label column and as many
// file columns as fit (as R and pandas print wide tables): the values stay
// whole, on one line.
type tablePrinter struct {
	w       *bufio.Writer
	streams *cli.Streams
	paths   []string
	labels  []string
	index   map[string]int // label -> row
	cells   [][]string     // cells[row][file]
	human   *humanizer     // nil: values as they are
	buf     []byte
	dropped int // labels left out past maxTableRows
}

func (p *tablePrinter) begin(path string) error {
	p.paths = append(p.paths, path)
	return nil
}

func (p *tablePrinter) stat(s *reader.Stat, shown bool) error {
	if !shown {
		return nil
	}
	col := len(p.paths) - 1
	row, ok := p.index[s.Label]
	if !ok {
		if len(p.labels) == maxTableRows {
			p.dropped++
			return nil
		}
		row = len(p.labels)
		p.index[s.Label] = row
		p.labels = append(p.labels, s.Label)
		p.cells = append(p.cells, nil)
	}
	for len(p.cells[row]) <= col {
		p.cells[row] = append(p.cells[row], "")
	}
	if p.cells[row][col] == "" { // a repeated label keeps its first value
		p.buf = appendShown(p.buf[:0], s, p.human)
		p.cells[row][col] = string(p.buf)
	}
	return nil
}

func (p *tablePrinter) endFile(string) error { return nil }

func (p *tablePrinter) fail(path, msg string) error { return nil }

func (p *tablePrinter) end() error {
	if len(p.paths) == 0 {
		return nil
	}
	header := append([]string{"label"}, columnNames(p.paths)...)
	for i := range header {
		header[i] = cli.Quote(header[i])
	}
	rows := make([][]string, len(p.labels))
	for r, label := range p.labels {
		row := make([]string, len(header))
		row[0] = cli.Quote(label)
		copy(row[1:], p.cells[r])
		rows[r] = row
	}
	limit := 0
	if p.streams.IsTerminal && p.streams.Width != nil {
		limit = p.streams.Width()
	}
	for i, cols := range blocks(header, rows, limit) {
		if i > 0 {
			if err := p.w.WriteByte('\n'); err != nil {
				return err
			}
		}
		if err := p.render(pick(header, cols), rows, cols); err != nil {
			return err
		}
	}
	return nil
}

// render prints one table of the columns cols (the label column first).
func (p *tablePrinter) render(header []string, rows [][]string, cols []int) error {
	opts := []tablewriter.Option{
		// Paths and labels print as they are: no upper-casing.
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{
			Global:    tw.AlignRight, // values: numbers line up
			PerColumn: []tw.Align{tw.AlignLeft},
		}),
	}
	if p.streams.Color {
		opts = append(opts, tablewriter.WithHeaderFilter(tw.CellFilter{Global: bold}))
	}
	t := tablewriter.NewTable(p.w, opts...)
	t.Header(header)
	for _, row := range rows {
		if err := t.Append(pick(row, cols)); err != nil { // the table keeps the slice
			return err
		}
	}
	return t.Render()
}

// blocks splits the columns of a table into blocks that fit limit
// terminal columns (0: no limit): each block is the label column (0) and
// the file columns that fit after it, at least one.
func blocks(header []string, rows [][]string, limit int) [][]int {
	if limit <= 0 {
		all := make([]int, len(header))
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = twwidth.Width(h)
	}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], twwidth.Width(c))
		}
	}
	// A table's width: each column, its padding of one space on each side
	// and a border before it, then the last border.
	const perColumn = 3
	var out [][]int
	cur := []int{0}
	used := 1 + widths[0] + perColumn
	for i := 1; i < len(header); i++ {
		w := widths[i] + perColumn
		if len(cur) > 1 && used+w > limit {
			out = append(out, cur)
			cur, used = []int{0}, 1+widths[0]+perColumn
		}
		cur = append(cur, i)
		used += w
	}
	return append(out, cur)
}

// pick returns the cells of row at cols, in a new slice.
func pick(row []string, cols []int) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = row[c]
	}
	return out
}

// columnNames names the file columns: the base names when every file is
// in the same directory (the usual case), the paths otherwise.
func columnNames(paths []string) []string {
	dir := filepath.Dir(paths[0])
	names := make([]string, len(paths))
	for i, p := range paths {
		if filepath.Dir(p) != dir {
			return append([]string(nil), paths...)
		}
		names[i] = filepath.Base(p)
	}
	return names
}

// bold wraps each header cell in the ANSI bold escape; the table measures
// widths without escapes.
func bold(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = "\x1b[1m" + c + "\x1b[0m"
	}
	return out
}
