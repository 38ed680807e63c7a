package slurpstats

import (
	"bufio"
	"unicode/utf8"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/reader"
)

// A printer writes the output of one format, one file at a time. Its
// methods return the error of the buffered writer, which is sticky, so
// that a broken pipe stops the run.
type printer interface {
	// file prints the stats of a file that was read: shown, the ones
	// that -f keeps, out of all of them.
	file(path string, all, shown []reader.Stat) error
	// fail records a file that could not be read (msg is "PATH: reason",
	// already printed on stderr).
	fail(path, msg string) error
	// end finishes the output.
	end() error
}

func newPrinter(f Format, w *bufio.Writer, s *cli.Streams, human *humanizer) printer {
	switch f {
	case FormatJSON:
		return &jsonPrinter{w: w}
	case FormatTable:
		return &tablePrinter{w: w, color: s.Color, index: map[string]int{}, human: human}
	case FormatPrometheus:
		return &promPrinter{w: w}
	}
	return &textPrinter{w: w, human: human}
}

// textPrinter prints the layout of the Python slurpstats:
//
//	==> PATH
//	  label      value
//	  longer.one value
//	(blank line)
//
// Labels are padded to the longest label of the file, counted in code
// points as Python's '%-Ns' does.
type textPrinter struct {
	w     *bufio.Writer
	buf   []byte     // reused for each file
	human *humanizer // nil: values as they are
}

func (p *textPrinter) file(path string, _, stats []reader.Stat) error {
	width := 0
	for i := range stats {
		if n := utf8.RuneCountInString(stats[i].Label); n > width {
			width = n
		}
	}
	b := append(p.buf[:0], "==> "...)
	b = append(b, path...)
	b = append(b, '\n')
	for i := range stats {
		s := &stats[i]
		b = append(b, "  "...)
		b = append(b, s.Label...)
		for n := utf8.RuneCountInString(s.Label); n < width; n++ {
			b = append(b, ' ')
		}
		b = append(b, ' ')
		b = p.human.appendValue(b, s)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

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
type jsonPrinter struct {
	w     *bufio.Writer
	buf   []byte
	count int
}

// begin starts an array element: "[\n " for the first, ",\n " after.
func (p *jsonPrinter) begin() []byte {
	b := p.buf[:0]
	if p.count == 0 {
		b = append(b, '[', '\n')
	} else {
		b = append(b, ',', '\n')
	}
	p.count++
	b = append(b, ` {"path": `...)
	return b
}

func (p *jsonPrinter) file(path string, _, stats []reader.Stat) error {
	b := reader.AppendJSONString(p.begin(), path)
	b = append(b, `, "stats": [`...)
	for i := range stats {
		s := &stats[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  {\"label\": "...)
		b = reader.AppendJSONString(b, s.Label)
		b = append(b, `, "type": `...)
		b = reader.AppendJSONString(b, s.Type)
		b = append(b, `, "value": `...)
		b = s.Value.AppendJSON(b)
		b = append(b, '}')
	}
	if len(stats) > 0 {
		b = append(b, "\n "...)
	}
	b = append(b, "]}"...)
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *jsonPrinter) fail(path, msg string) error {
	b := reader.AppendJSONString(p.begin(), path)
	b = append(b, `, "error": `...)
	b = reader.AppendJSONString(b, msg)
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
// for node_exporter's textfile collector. The format groups the series of
// a metric, so it prints everything at the end. Files that cannot be read
// are left out (they are reported on stderr).
type promPrinter struct {
	w   *bufio.Writer
	set prom.Set
}

func (p *promPrinter) file(path string, all, shown []reader.Stat) error {
	p.set.AddFile(path, prom.PID(all), shown) // the PID even if -f leaves sys.pid out
	return nil
}

func (p *promPrinter) fail(path, msg string) error { return nil }

func (p *promPrinter) end() error {
	_, err := p.set.WriteTo(p.w)
	return err
}
