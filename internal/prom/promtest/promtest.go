// Package promtest checks text in the Prometheus exposition format, for the
// tests of the packages that write it. Only tests import it.
package promtest

import (
	"bufio"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Parse parses text with the Prometheus text parser (legacy metric names)
// and checks what the parser lets through: every metric's lines form one
// group, # HELP and # TYPE come once each before its samples, and no
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
	current := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		var name string
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			name, _, _ = strings.Cut(line[len("# HELP "):], " ")
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
