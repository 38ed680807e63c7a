package slurpstats

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/textfmt"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// maxTotalLabels bounds the labels that --total combines: it holds a
// value per label until the end, and a crafted file of millions of
// labels must not fill the memory. The labels past it are left out, and
// slurpstats says so.
const maxTotalLabels = 100000

// totaler combines the files for --total (package aggregate): it feeds
// each file's stats that -f keeps, and those their policies need (a
// weight, sys.created, the buckets of a histogram whose percentiles are
// kept), to an Accumulator, then prints one value per label.
type totaler struct {
	r   *runner
	acc aggregate.Accumulator

	admitted map[string]bool // the labels fed: true for those shown (-f)
	dropped  bool            // a label was left out past maxTotalLabels
	errs     []fileError     // the files that failed
	folded   int             // the files left out: a totals file holds them

	// Per file.
	heads    map[string]bool // the histograms whose percentiles are kept
	carriers []carrier
	hist     reader.Histogram
}

// fileError is a file that could not be read, or broke while it was.
type fileError struct {
	path string
	msg  string // "PATH: reason"
}

// carrier is a histogram group of a file: its head's label and the index
// of the member that carries its buckets.
type carrier struct {
	head string
	i    int
}

// files feeds the files names to the accumulator in the order that
// counts every value once while their writers' files are being folded
// into totals files (aggregate.Arrange): the stats files, without those
// that a totals file holds, then the totals files, opened again after
// the others. A file that cannot be read is reported and counted, and
// what it had before it broke counts.
func (t *totaler) files(names []string) {
	var opened []*reader.File
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	for _, name := range names {
		f, err := reader.Open(name)
		if err != nil {
			t.fail(name, err)
			continue
		}
		opened = append(opened, f)
	}
	arr, err := aggregate.Arrange(opened, nil)
	t.failAll(err) // errors of single files: the others are read
	defer arr.Close()
	t.folded = len(arr.Folded)
	for _, f := range arr.Stats {
		t.file(f)
	}
	for _, f := range arr.Totals {
		t.file(f)
	}
}

// failAll reports each file that err, joined errors of
// *reader.PathError, names.
func (t *totaler) failAll(err error) {
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var pe *reader.PathError
		if errors.As(e, &pe) { // always
			t.fail(pe.Path, pe.Err)
		}
	}
}

// file feeds the open file f to the accumulator.
func (t *totaler) file(f *reader.File) {
	r, name := t.r, f.Path()
	if err := t.prepare(f); err != nil {
		t.fail(name, err)
		return
	}
	t.acc.Begin(name)
	defer t.acc.End()
	rerr := f.ScanStats(func(s *reader.Stat) bool {
		r.stats++
		if _, ok := t.admitted[s.Label]; ok {
			t.acc.Add(s)
		}
		return true
	})
	errs := []error{rerr}
	for _, c := range t.carriers {
		if !t.heads[c.head] {
			continue
		}
		err := f.ReadHistogram(c.i, &t.hist)
		if err == nil {
			err = t.acc.AddHistogram(c.head, &t.hist)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cli.Quote(c.head), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.fail(name, err)
		return
	}
	r.read++
}

// prepare goes through the labels of f, before its stats are read: it
// admits those that -f keeps (up to maxTotalLabels over the files) and
// those their policies need, and finds the file's histograms.
func (t *totaler) prepare(f *reader.File) error {
	clear(t.heads)
	t.carriers = t.carriers[:0]
	head, headIdx := "", -1
	created := ""
	var inputs []string // the weights of the labels kept
	needCreated := false
	err := f.ScanFields(func(i int, fl *reader.Field) bool {
		label := fl.Label
		if fl.Meta.Role == reader.GroupHead {
			head, headIdx = label, i
		}
		if fl.HasBuckets() && headIdx >= 0 && fl.Group == headIdx {
			t.carriers = append(t.carriers, carrier{head: head, i: i})
		}
		if convention.DefaultField(label) == convention.Created && created == "" {
			created = label
		}
		if !t.r.match(label) || !t.admit(label, true) {
			return true
		}
		weight, needs, hist := aggregate.Inputs(label, fl.Meta)
		if weight != "" {
			inputs = append(inputs, weight)
		}
		needCreated = needCreated || needs
		if hist != "" {
			t.heads[hist] = true
		}
		return true
	})
	for _, w := range inputs {
		t.admit(w, false)
	}
	if needCreated && created != "" {
		t.admit(created, false)
	}
	return err
}

// admit admits label to the accumulator, shown or only as the input of
// another, and reports whether it is admitted: a label is left out past
// maxTotalLabels.
func (t *totaler) admit(label string, shown bool) bool {
	if was, ok := t.admitted[label]; ok {
		if shown && !was {
			t.admitted[label] = true
		}
		return true
	}
	if len(t.admitted) >= maxTotalLabels {
		t.dropped = true
		return false
	}
	t.admitted[label] = shown
	return true
}

// fail reports a file that cannot be read, or broke while it was read.
func (t *totaler) fail(name string, err error) {
	t.r.failed++
	t.errs = append(t.errs, fileError{path: name, msg: t.r.report(name, err)})
}

// print prints the totals in format.
func (t *totaler) print(w *bufio.Writer, format Format, s *cli.Streams, h *humanizer) error {
	var totals []aggregate.Total
	for _, tot := range t.acc.Totals() {
		if t.admitted[tot.Label] {
			totals = append(totals, tot)
		}
	}
	t.r.shown = len(totals)
	switch format {
	case FormatJSON:
		return printTotalJSON(w, totals, t.acc.Files(), t.errs)
	case FormatTable:
		return printTotalTable(w, totals, s, h)
	}
	return printTotalText(w, totals, t.acc.Files(), h)
}

// appendTotal appends a total's value for people: a sum exactly, whatever
// its size; --human units from the first file's metadata; strings through
// cli.Quote; "-" for a value that could not be computed (percentiles
// without any histogram).
func appendTotal(b []byte, tot *aggregate.Total, h *humanizer) []byte {
	switch v := tot.Value; {
	case v.Kind() == reader.Invalid:
		return append(b, '-')
	case v.Kind() == reader.String:
		s := reader.Stat{Label: tot.Label, Value: v, Meta: tot.Meta}
		return appendShown(b, &s, h)
	case h != nil && v.Kind().Numeric() && (tot.Meta.Kind == reader.KindTimestamp || tot.Meta.Unit == "seconds" || tot.Meta.Unit == "bytes"):
		s := reader.Stat{Label: tot.Label, Value: v, Meta: tot.Meta}
		return h.appendValue(b, &s)
	}
	return tot.AppendText(b)
}

// fromFile returns the file a total's value came from, when it is one
// file's value (max, min, latest, none) that not every file shares.
func fromFile(tot *aggregate.Total) string {
	if tot.Same {
		return ""
	}
	return tot.From
}

// printTotalText prints the totals as the text output prints a file,
// with the policy of each label after its value, and the file the value
// came from when it is one file's:
//
//	==> total of 4 files
//	  web.stats.status.2XX       728        sum
//	  web.stats.timers.last_hit  1796.5     latest  /tmp/a.mmstats
//	(blank line)
func printTotalText(w *bufio.Writer, totals []aggregate.Total, files int, h *humanizer) error {
	label, value := 0, 0
	texts := make([][]byte, len(totals))
	for i := range totals {
		texts[i] = appendTotal(nil, &totals[i], h)
		label = max(label, labelWidth(totals[i].Label))
		value = max(value, displayWidth(texts[i]))
	}
	b := fmt.Appendf(nil, "==> total of %d %s\n", files, plural(files, "file", "files"))
	if _, err := w.Write(b); err != nil {
		return err
	}
	for i := range totals {
		tot := &totals[i]
		b = append(b[:0], "  "...)
		b = appendLabel(b, tot.Label)
		b = appendSpaces(b, label-labelWidth(tot.Label)+1)
		b = append(b, texts[i]...)
		b = appendSpaces(b, value-displayWidth(texts[i])+2)
		b = append(b, tot.Policy.String()...)
		if from := fromFile(tot); from != "" {
			b = appendSpaces(b, len("quantile")-len(tot.Policy.String())+2)
			b = appendLabel(b, from)
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return w.WriteByte('\n')
}

// printTotalTable prints the totals as a table: label, value, policy and
// the file the value came from (its base name when every file is in one
// directory).
func printTotalTable(w *bufio.Writer, totals []aggregate.Total, s *cli.Streams, h *humanizer) error {
	var froms []string
	for i := range totals {
		if from := fromFile(&totals[i]); from != "" {
			froms = append(froms, from)
		}
	}
	short := map[string]string{}
	if len(froms) > 0 {
		for i, name := range columnNames(froms) {
			short[froms[i]] = name
		}
	}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{
			Global:    tw.AlignLeft,
			PerColumn: []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignLeft, tw.AlignLeft},
		}),
	}
	if s.Color {
		opts = append(opts, tablewriter.WithHeaderFilter(tw.CellFilter{Global: bold}))
	}
	table := tablewriter.NewTable(w, opts...)
	table.Header([]string{"label", "value", "policy", "from"})
	for i := range totals {
		tot := &totals[i]
		from := ""
		if f := fromFile(tot); f != "" {
			from = cli.Quote(short[f])
		}
		row := []string{cli.Quote(tot.Label), string(appendTotal(nil, tot, h)), tot.Policy.String(), from}
		if err := table.Append(row); err != nil {
			return err
		}
	}
	return table.Render()
}

// printTotalJSON prints the totals as one JSON object:
//
//	{"files": 4, "stats": [
//	  {"label": "requests", "policy": "sum", "files": 4, "value": 728},
//	  {"label": "peak", "policy": "max", "files": 4, "value": 12, "from": "/tmp/b.mmstats"},
//	  {"label": "lat.p99", "policy": "quantile", "files": 4, "value": 0.0123}
//	 ],
//	 "errors": [{"path": "/tmp/c.mmstats", "error": "/tmp/c.mmstats: empty file"}]}
func printTotalJSON(w *bufio.Writer, totals []aggregate.Total, files int, errs []fileError) error {
	b := fmt.Appendf(nil, "{\"files\": %d, \"stats\": [", files)
	for i := range totals {
		tot := &totals[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  {\"label\": "...)
		b = textfmt.AppendJSONString(b, tot.Label)
		b = append(b, `, "policy": `...)
		b = textfmt.AppendJSONString(b, tot.Policy.String())
		b = fmt.Appendf(b, `, "files": %d, "value": `, tot.Files)
		switch {
		case tot.Value.Kind() == reader.Invalid:
			b = append(b, "null"...)
		case tot.Policy == aggregate.Sum && tot.From == "" && !tot.Sum.IsFloat():
			b = tot.Sum.AppendText(b) // exact, past 64 bits too
		default:
			b = tot.Value.AppendJSON(b)
		}
		if tot.From != "" {
			b = append(b, `, "from": `...)
			b = textfmt.AppendJSONString(b, tot.From)
			if tot.Policy == aggregate.None {
				b = fmt.Appendf(b, `, "same": %t`, tot.Same)
			}
		}
		if tot.Missing > 0 {
			b = fmt.Appendf(b, `, "missing": %d`, tot.Missing)
		}
		b = append(b, '}')
		if _, err := w.Write(b); err != nil {
			return err
		}
		b = b[:0]
	}
	if len(totals) > 0 {
		b = append(b, "\n "...)
	}
	b = append(b, ']')
	if len(errs) > 0 {
		b = append(b, ",\n \"errors\": ["...)
		for i, e := range errs {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, `{"path": `...)
			b = textfmt.AppendJSONString(b, e.path)
			b = append(b, `, "error": `...)
			b = textfmt.AppendJSONString(b, e.msg)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, "}\n"...)
	_, err := w.Write(b)
	return err
}

// displayWidth is the width of a value as printed: the code points.
func displayWidth(b []byte) int { return labelWidth(string(b)) }

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}
