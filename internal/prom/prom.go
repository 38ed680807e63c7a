// Package prom writes the Prometheus text exposition format, version 0.0.4,
// which mmash serves on /metrics and slurpstats prints with -o prometheus
// (for node_exporter's textfile collector), and the protobuf format that
// mmash offers a scraper that asks for it, with native histograms.
//
// The format requires every series of a metric to follow its # HELP and
// # TYPE lines in one group, so a Set collects the series first and writes
// them grouped by name, in sorted order, so that the output is
// deterministic.
//
// A histogram group of a file (a Timer's or a Histogram's stats, with the
// bucket counts the writer publishes) is one series of a Prometheus
// histogram: classic buckets at the Set's ClassicSchema (the powers of
// two by default), _sum and _count, and in the protobuf format the native
// histogram as well, at the writer's resolution (see ClassicSchema for the
// error of histogram_quantile at each).
package prom

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// ContentType is the HTTP Content-Type of the text format 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a metric type, as written in the # TYPE line.
type Type string

// The metric types a Set writes.
const (
	Untyped   Type = "untyped"
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
)

// Label is one label of a series. Its name must be a valid Prometheus
// label name; the value is any text (it is escaped on output).
type Label struct {
	Name, Value string
}

// Set collects the series of metrics and writes them in the text format.
// The zero Set is empty and ready to use. A Set is not safe for concurrent
// use.
type Set struct {
	// Classic is the resolution of the classic buckets of the histograms
	// added after it is set; the zero value is DefaultClassicSchema.
	Classic ClassicSchema

	families map[string]*family
	len      int    // the number of series
	bytes    int    // what the histograms' series keep
	at       source // where the series being added comes from, for a Plan
}

type family struct {
	help   string
	typ    Type
	series []series
	keys   map[string]struct{} // labelKey of each series
}

type series struct {
	labels []Label
	value  reader.Value
	hist   *histValue // the value of a histogram's series
	src    source     // where its value comes from, for a Plan
}

// Add adds the series name{labels} with value v and reports whether it was
// added. name must be a valid metric name (see SanitizeName). The first
// Add of a name sets its help text and type; later ones keep them. A
// series whose name and labels equal those of a series already added is
// dropped, as is a value that is not numeric (a string): the format has no
// room for either.
func (s *Set) Add(name, help string, typ Type, labels []Label, v reader.Value) bool {
	return s.add(name, help, typ, labels, v, false)
}

// AddHistogram adds the series name{labels} of a histogram metric with
// the buckets, sum and count of h (classic buckets at s.Classic, see
// ClassicSchema), and reports whether
// it was added: not when name is a metric of another type, nor when the
// series is there already. The first Add of a name sets its help text.
func (s *Set) AddHistogram(name, help string, labels []Label, h *reader.Histogram) bool {
	return s.addSeries(name, help, Histogram, series{labels: labels}, h, false)
}

// add is Add; shared says that the caller never changes labels after, so
// that series can share them rather than each keep a copy.
func (s *Set) add(name, help string, typ Type, labels []Label, v reader.Value, shared bool) bool {
	if !v.Kind().Numeric() {
		return false
	}
	return s.addSeries(name, help, typ, series{labels: labels, value: v}, nil, shared)
}

// addSeries adds sr to the metric name, with the value of h for a
// histogram.
func (s *Set) addSeries(name, help string, typ Type, sr series, h *reader.Histogram, shared bool) bool {
	if s.families == nil {
		s.families = map[string]*family{}
	}
	f := s.families[name]
	if f == nil {
		f = &family{help: help, typ: typ, keys: map[string]struct{}{}}
		s.families[name] = f
	} else if (f.typ == Histogram) != (typ == Histogram) {
		return false // a histogram and a number cannot share a name
	}
	key := labelKey(sr.labels)
	if _, dup := f.keys[key]; dup {
		return false
	}
	f.keys[key] = struct{}{}
	sr.src = s.at
	if !shared {
		sr.labels = slices.Clone(sr.labels)
	}
	if h != nil {
		sr.hist = newHistValue(h, s.Classic)
		s.bytes += sr.hist.bytes()
	}
	f.series = append(f.series, sr)
	s.len++
	return true
}

// Len returns the number of series in the set.
func (s *Set) Len() int { return s.len }

// Families returns the number of metrics (names) in the set.
func (s *Set) Families() int { return len(s.families) }

// HistogramBytes returns about what the series of histograms keep, in
// bytes (beyond their labels): a caller that bounds its memory counts it.
func (s *Set) HistogramBytes() int { return s.bytes }

// WriteTo writes the set: metrics sorted by name, each as its # HELP and
// # TYPE lines followed by its series sorted by label values.
func (s *Set) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(s.families)) {
		f := s.families[name]
		slices.SortFunc(f.series, func(x, y series) int { return compareLabels(x.labels, y.labels) })
		b = appendFamilyHeader(b[:0], name, f)
		for i := range f.series {
			sr := &f.series[i]
			if sr.hist != nil {
				b = appendHistogram(b, name, sr)
			} else {
				b = appendSample(b, name, "", sr.labels, nil, AppendValue(nil, sr.value))
			}
			if len(b) >= 4096 { // what is held stays small, however large the metric
				if _, err := bw.Write(b); err != nil {
					return cw.n, err
				}
				b = b[:0]
			}
		}
		if _, err := bw.Write(b); err != nil {
			return cw.n, err
		}
	}
	err := bw.Flush()
	return cw.n, err
}

// appendSample appends the line name+suffix{labels,le="le"} value.
func appendSample(b []byte, name, suffix string, labels []Label, le, value []byte) []byte {
	b = appendPrefix(b, name, suffix, labels, le)
	b = append(b, value...)
	return append(b, '\n')
}

// appendPrefix appends what a sample's line holds before its value:
// name+suffix{labels,le="le"} and the space.
func appendPrefix(b []byte, name, suffix string, labels []Label, le []byte) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(labels) > 0 || le != nil {
		b = append(b, '{')
		b = appendLabels(b, labels)
		if le != nil {
			if len(labels) > 0 {
				b = append(b, ',')
			}
			b = append(b, `le="`...)
			b = append(b, le...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, ' ')
}

// appendHistogram appends the lines of a histogram's series: its
// cumulative buckets, the +Inf one, _sum and _count.
func appendHistogram(b []byte, name string, sr *series) []byte {
	h := sr.hist
	var le, val []byte
	for j, c := range h.cum {
		le = strconv.AppendFloat(le[:0], h.bound(j), 'g', -1, 64)
		val = strconv.AppendUint(val[:0], c, 10)
		b = appendSample(b, name, "_bucket", sr.labels, le, val)
	}
	val = strconv.AppendUint(val[:0], h.count, 10)
	b = appendSample(b, name, "_bucket", sr.labels, []byte("+Inf"), val)
	b = appendSample(b, name, "_sum", sr.labels, nil, AppendValue(nil, reader.FloatValue(h.sum)))
	return appendSample(b, name, "_count", sr.labels, nil, val)
}

// labelKey encodes labels as a map key, each string prefixed with its
// length so that no two label lists share a key.
func labelKey(labels []Label) string {
	var b []byte
	for _, l := range labels {
		b = binary.AppendUvarint(b, uint64(len(l.Name)))
		b = append(b, l.Name...)
		b = binary.AppendUvarint(b, uint64(len(l.Value)))
		b = append(b, l.Value...)
	}
	return string(b)
}

// compareLabels orders label lists by their names and values in turn.
func compareLabels(x, y []Label) int {
	for i := 0; i < len(x) && i < len(y); i++ {
		if c := cmp.Or(strings.Compare(x[i].Name, y[i].Name), strings.Compare(x[i].Value, y[i].Value)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(x), len(y))
}

// AppendValue appends a sample value: integers exactly, floats in the
// shortest form that parses back, NaN and the infinities as NaN, +Inf and
// -Inf, booleans as 0 and 1.
func AppendValue(b []byte, v reader.Value) []byte {
	switch v.Kind() {
	case reader.Int:
		return strconv.AppendInt(b, v.Int(), 10)
	case reader.Uint, reader.Bool:
		return strconv.AppendUint(b, v.Uint(), 10)
	}
	f := v.Float()
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendEscaped appends s, made valid UTF-8, with the escapes of the
// format: backslash and newline (in help texts), and double quotes as
// well in label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// countWriter counts the bytes written through it, for WriteTo's result.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// appendFamilyHeader appends the # HELP and # TYPE lines of the family
// named name.
func appendFamilyHeader(b []byte, name string, f *family) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, f.typ...)
	return append(b, '\n')
}
