package slurpstats

import (
	"bufio"
	"path/filepath"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/mmstats/mmstats/pkg/reader"
)

// tablePrinter collects every file and prints one table at the end: a row
// per label, in the order labels are first seen over the sorted files, and
// a column per file that could be read. A file without a label has an
// empty cell.
type tablePrinter struct {
	w      *bufio.Writer
	color  bool
	paths  []string
	labels []string
	index  map[string]int // label -> row
	cells  [][]string     // cells[row][file]
	human  *humanizer     // nil: values as they are
}

func (p *tablePrinter) file(path string, _, stats []reader.Stat) error {
	col := len(p.paths)
	p.paths = append(p.paths, path)
	var buf []byte
	for i := range stats {
		row, ok := p.index[stats[i].Label]
		if !ok {
			row = len(p.labels)
			p.index[stats[i].Label] = row
			p.labels = append(p.labels, stats[i].Label)
			p.cells = append(p.cells, nil)
		}
		for len(p.cells[row]) <= col {
			p.cells[row] = append(p.cells[row], "")
		}
		if p.cells[row][col] == "" { // a repeated label keeps its first value
			buf = p.human.appendValue(buf[:0], &stats[i])
			p.cells[row][col] = string(buf)
		}
	}
	return nil
}

func (p *tablePrinter) fail(path, msg string) error { return nil }

func (p *tablePrinter) end() error {
	if len(p.paths) == 0 {
		return nil
	}
	header := append([]string{"label"}, columnNames(p.paths)...)
	opts := []tablewriter.Option{
		// Paths and labels print as they are: no upper-casing.
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{
			Global:    tw.AlignRight, // values: numbers line up
			PerColumn: []tw.Align{tw.AlignLeft},
		}),
	}
	if p.color {
		opts = append(opts, tablewriter.WithHeaderFilter(tw.CellFilter{Global: bold}))
	}
	t := tablewriter.NewTable(p.w, opts...)
	t.Header(header)
	for r, label := range p.labels {
		row := make([]string, len(header)) // the table keeps the slice
		row[0] = label
		copy(row[1:], p.cells[r])
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// columnNames names the file columns: the base names when every file is
// in the same directory (the usual case), the paths otherwise.
func columnNames(paths []string) []string {
	dir := filepath.Dir(paths[0])
	names := make([]string, len(paths))
	for i, p := range paths {
		if filepath.Dir(p) != dir {
			return paths
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
