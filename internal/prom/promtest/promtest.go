// Package promtest checks text in the Prometheus exposition format, for the
// tests of the packages that write it. Only tests import it.
package promtest

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Parse parses text with the Prometheus text parser (legacy metric names)
// and checks what the parser lets through: every metric's lines form one
// group (a histogram's name_bucket, name_sum and name_count lines are
// its), # HELP and # TYPE come once each before its samples, and no
// series (name and label set) appears twice. It fails the test on any
// error and returns the families by name.
func Parse(t testing.TB, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, text)
	}
	done := map[string]bool{} // metrics whose group has ended
	seen := map[string]bool{} // "name{labels}" of every sample
	types := map[string]string{}
	current := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		var name string
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			var rest string
			name, rest, _ = strings.Cut(line[len("# HELP "):], " ")
			if strings.HasPrefix(line, "# TYPE ") {
				types[name] = rest
			}
			if name == current {
				break
			}
			if strings.HasPrefix(line, "# TYPE ") {
				t.Errorf("line %d: # TYPE %s does not follow its # HELP", n, name)
			}
		case line == "":
			t.Errorf("line %d is empty", n)
			continue
		default:
			series, _, _ := strings.Cut(line, " ")
			if strings.Contains(series, "{") {
				series = line[:strings.LastIndex(line, "}")+1]
			}
			if seen[series] {
				t.Errorf("line %d: series %s appears twice", n, series)
			}
			seen[series] = true
			name, _, _ = strings.Cut(series, "{")
			if types[current] == "histogram" {
				// The samples of a histogram: name_bucket, _sum, _count.
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if name == current+suffix {
						name = current
					}
				}
			}
			if name != current {
				t.Errorf("line %d: sample of %s without its # HELP and # TYPE", n, name)
			}
		}
		if name != current {
			if done[name] {
				t.Errorf("line %d: metric %s is split in two groups", n, name)
			}
			done[current] = true
			current = name
		}
	}
	return families
}

// Label returns the value of label name of m, or "" if it has none.
func Label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// ParseProto decodes the protobuf format (length-delimited
// MetricFamily messages) and returns the families by name, failing the
// test if it does not decode or a name comes twice.
func ParseProto(t testing.TB, data []byte) map[string]*dto.MetricFamily {
	t.Helper()
	families := map[string]*dto.MetricFamily{}
	dec := expfmt.NewDecoder(bytes.NewReader(data), expfmt.NewFormat(expfmt.TypeProtoDelim))
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if err == io.EOF {
			return families
		}
		if err != nil {
			t.Fatalf("protobuf exposition does not decode: %v", err)
		}
		if families[mf.GetName()] != nil {
			t.Errorf("metric %s comes twice", mf.GetName())
		}
		families[mf.GetName()] = mf
	}
}

// NativeBuckets returns the buckets of a native histogram by index
// (positive spans and deltas decoded), failing the test on an invalid
// encoding: a span that goes back, or a negative count.
func NativeBuckets(t testing.TB, h *dto.Histogram) map[int]uint64 {
	t.Helper()
	out := map[int]uint64{}
	deltas := h.GetPositiveDelta()
	idx, k, count := 0, 0, int64(0)
	for s, sp := range h.GetPositiveSpan() {
		if s > 0 && sp.GetOffset() < 0 {
			t.Errorf("span %d goes back: offset %d", s, sp.GetOffset())
		}
		idx += int(sp.GetOffset())
		for range sp.GetLength() {
			if k >= len(deltas) {
				t.Fatalf("the spans hold more buckets than the %d deltas", len(deltas))
			}
			count += deltas[k]
			if count < 0 {
				t.Fatalf("bucket %d has a negative count %d", idx, count)
			}
			if count > 0 {
				out[idx] = uint64(count)
			}
			idx++
			k++
		}
	}
	if k != len(deltas) {
		t.Errorf("%d deltas for %d buckets", len(deltas), k)
	}
	return out
}
