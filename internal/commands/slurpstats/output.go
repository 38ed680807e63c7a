package slurpstats

import (
	"bufio"
	"github.com/mmstats/mmstats/internal/textfmt"
	"unicode/utf8"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/reader"
)

// A printer writes the output of one format. It gets the stats of a file
// one at a time, so that no file's stats are ever held whole. Its methods
// return the error of the buffered writer, which is sticky, so that a
// broken pipe stops the run.
type printer interface {
	// begin starts the stats of the file at path.
	begin(path string) error
	// stat prints one stat of the file, if shown (it matches -f); all the
	// stats come, for printers that need the others too.
	stat(s *reader.Stat, shown bool) error
	// endFile ends the file. msg, if not empty, says why it broke while
	// it was read ("PATH: reason", already printed on stderr).
	endFile(msg string) error
	// fail records a file that could not be read (msg is "PATH: reason",
	// already printed on stderr).
	fail(path, msg string) error
	// end finishes the output.
	end() error
}

// A preparer is a printer that looks through a file before its stats are
// printed; match tells the labels that -f keeps. An error is the file's.
type preparer interface {
	prepare(f *reader.File, match func(label string) bool) error
}

// newPrinter returns the printer of format f; classic is the resolution
// of the classic buckets of -o prometheus.
func newPrinter(f Format, w *bufio.Writer, s *cli.Streams, human *humanizer, classic prom.ClassicSchema) printer {
	switch f {
	case FormatJSON:
		return &jsonPrinter{w: w}
	case FormatTable:
		return &tablePrinter{w: w, streams: s, index: map[string]int{}, human: human}
	case FormatPrometheus:
		return &promPrinter{w: w, set: prom.Set{Classic: classic}}
	}
	return &textPrinter{w: w, human: human}
}

// appendLabel appends a label for people: through cli.Quote, so that an
// escape sequence or a newline in it cannot reach the terminal.
func appendLabel(b []byte, label string) []byte {
	if cli.NeedsQuote(label) {
		return cli.AppendQuote(b, label)
	}
	return append(b, label...)
}

// labelWidth is the width of a label as appendLabel prints it, counted
// in code points as Python's '%-Ns' does.
func labelWidth(label string) int {
	if cli.NeedsQuote(label) {
		return utf8.RuneCountInString(cli.Quote(label))
	}
	return utf8.RuneCountInString(label)
}

// appendShown appends a value for people: strings through cli.Quote,
// numbers as --human says.
func appendShown(b []byte, s *reader.Stat, h *humanizer) []byte {
	if s.Value.Kind() == reader.String && cli.NeedsQuote(s.Value.Str()) {
		return cli.AppendQuote(b, s.Value.Str())
	}
	return h.appendValue(b, s)
}

// textPrinter prints the layout of the Python slurpstats:
//
//	==> PATH
//	  label      value
//	  longer.one value
//	(blank line)
//
// Labels are padded to the longest label of the file, counted in code
// points as Python's '%-Ns' does; prepare finds it, in a first pass over
// the labels. For a layout that files share (the workers of one
// program), the label of each field, padded, is made once: the lines of
// the next file of that layout only add their values.
type textPrinter struct {
	w     *bufio.Writer
	buf   []byte     // reused for each line
	human *humanizer // nil: values as they are
	width int        // of the labels of the current file

	// For a file of a shared layout: that layout, the start of each
	// field's line ("  label   ", padded), back to back in heads, with
	// where each ends, and the index of the next stat.
	shared *reader.Layout
	heads  []byte
	ends   []int
	k      int
}

func (p *textPrinter) prepare(f *reader.File, match func(string) bool) error {
	l := f.SharedLayout()
	if l != nil && l == p.shared {
		p.k = 0
		return nil
	}
	p.shared, p.width = nil, 0
	if l == nil {
		return f.ScanFields(func(_ int, fl *reader.Field) bool {
			if match(fl.Label) {
				p.width = max(p.width, labelWidth(fl.Label))
			}
			return true
		})
	}
	for i := range l.Fields {
		if match(l.Fields[i].Label) {
			p.width = max(p.width, labelWidth(l.Fields[i].Label))
		}
	}
	p.heads, p.ends = p.heads[:0], p.ends[:0]
	for i := range l.Fields {
		p.heads = p.appendHead(p.heads, l.Fields[i].Label)
		p.ends = append(p.ends, len(p.heads))
	}
	p.shared, p.k = l, 0
	return nil
}

// appendHead appends the start of a stat's line: "  label", padded to
// the width, and a space.
func (p *textPrinter) appendHead(b []byte, label string) []byte {
	b = append(b, "  "...)
	b = appendLabel(b, label)
	for n := labelWidth(label); n < p.width; n++ {
		b = append(b, ' ')
	}
	return append(b, ' ')
}

func (p *textPrinter) begin(path string) error {
	b := append(p.buf[:0], "==> "...)
	b = appendLabel(b, path)
	b = append(b, '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *textPrinter) stat(s *reader.Stat, shown bool) error {
	k := p.k
	p.k++
	if !shown {
		return nil
	}
	var b []byte
	if p.shared != nil && k < len(p.ends) {
		start := 0
		if k > 0 {
			start = p.ends[k-1]
		}
		b = append(p.buf[:0], p.heads[start:p.ends[k]]...)
	} else {
		b = p.appendHead(p.buf[:0], s.Label)
	}
	b = appendShown(b, s, p.human)
	b = append(b, '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *textPrinter) endFile(string) error { return p.w.WriteByte('\n') }

func (p *textPrinter) fail(path, msg string) error { return nil }

func (p *textPrinter) end() error { return nil }

// jsonPrinter streams the JSON array, one file per element, laid out like
// the reference expected.json:
//
//	[
//	 {"path": "a.mmstats", "stats": [
//	  {"label": "requests", "type": "Q", "value": 42}
//	 ]},
//	 {"path": "b.mmstats", "error": "b.mmstats: empty file"}
//	]
//
// A file that breaks while it is read (truncated under slurpstats) has
// the stats read before, then its error: {"path": ..., "stats": [...],
// "error": ...}.
type jsonPrinter struct {
	w     *bufio.Writer
	buf   []byte
	count int // files
	stats int // stats of the current file
}

// element starts an array element: "[\n " for the first, ",\n " after.
func (p *jsonPrinter) element(path string) []byte {
	b := p.buf[:0]
	if p.count == 0 {
		b = append(b, '[', '\n')
	} else {
		b = append(b, ',', '\n')
	}
	p.count++
	b = append(b, ` {"path": `...)
	return textfmt.AppendJSONString(b, path)
}

func (p *jsonPrinter) begin(path string) error {
	b := append(p.element(path), `, "stats": [`...)
	p.buf, p.stats = b, 0
	_, err := p.w.Write(b)
	return err
}

func (p *jsonPrinter) stat(s *reader.Stat, shown bool) error {
	if !shown {
		return nil
	}
	b := p.buf[:0]
	if p.stats > 0 {
		b = append(b, ',')
	}
	p.stats++
	b = append(b, "\n  {\"label\": "...)
	b = textfmt.AppendJSONString(b, s.Label)
	b = append(b, `, "type": `...)
	b = textfmt.AppendJSONString(b, s.Type)
	b = append(b, `, "value": `...)
	b = s.Value.AppendJSON(b)
	b = append(b, '}')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *jsonPrinter) endFile(msg string) error {
	b := p.buf[:0]
	if p.stats > 0 {
		b = append(b, "\n "...)
	}
	b = append(b, ']')
	if msg != "" {
		b = append(b, `, "error": `...)
		b = textfmt.AppendJSONString(b, msg)
	}
	b = append(b, '}')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *jsonPrinter) fail(path, msg string) error {
	b := append(p.element(path), `, "error": `...)
	b = textfmt.AppendJSONString(b, msg)
	b = append(b, '}')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *jsonPrinter) end() error {
	var err error
	if p.count == 0 {
		_, err = p.w.WriteString("[]\n")
	} else {
		_, err = p.w.WriteString("\n]\n")
	}
	return err
}

// promPrinter prints the numeric stats in the Prometheus text format, one
// series per file labelled with the file's base name and its writer's PID,
// and each histogram group as a Prometheus histogram, for node_exporter's
// textfile collector. The format groups the series of a metric, so it
// prints everything at the end. Files that cannot be read are left out
// (they are reported on stderr).
type promPrinter struct {
	w      *bufio.Writer
	set    prom.Set
	path   string
	pid    string        // of the current file, found by prepare
	groups []prom.Group  // its histograms, read by prepare
	batch  []reader.Stat // stats of the current file not yet in set
	one    [1]reader.Stat
}

// promBatch is how many stats of a file promPrinter adds to its set at
// once.
const promBatch = 256

// prepare finds the file's PID, in a first pass that stops at it: the PID
// labels every series of the file, even if -f leaves sys.pid out. It reads
// the file's histograms too; a group whose buckets cannot be read is left
// out, and its stats are series one by one, as in a file without buckets.
func (p *promPrinter) prepare(f *reader.File, _ func(string) bool) error {
	p.pid = ""
	p.groups, _ = prom.ReadGroups(f, p.groups)
	return f.ScanStats(func(s *reader.Stat) bool {
		p.one[0] = *s
		p.pid = prom.PID(p.one[:])
		return p.pid == ""
	})
}

func (p *promPrinter) begin(path string) error {
	p.path, p.batch = path, p.batch[:0]
	return nil
}

func (p *promPrinter) stat(s *reader.Stat, shown bool) error {
	if shown {
		if p.batch = append(p.batch, *s); len(p.batch) == promBatch {
			p.flush()
		}
	}
	return nil
}

func (p *promPrinter) flush() {
	if len(p.batch) > 0 {
		p.set.AddFileGroups(p.path, p.pid, p.batch, p.groups)
	}
	clear(p.batch)
	p.batch = p.batch[:0]
}

func (p *promPrinter) endFile(msg string) error {
	if msg == "" {
		p.flush()
	}
	clear(p.batch)
	p.batch = p.batch[:0]
	return nil
}

func (p *promPrinter) fail(path, msg string) error { return nil }

func (p *promPrinter) end() error {
	_, err := p.set.WriteTo(p.w)
	return err
}
