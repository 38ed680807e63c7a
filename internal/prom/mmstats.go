package prom

import (
	"path/filepath"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Namespace starts the name of every metric made from an mmstats label.
const Namespace = "mmstats_"

// MetricName returns the metric name of an mmstats label: Namespace, then
// the label with every byte outside [a-zA-Z0-9_] replaced by '_'. So
// "web.stats.status.2XX" is "mmstats_web_stats_status_2XX". Different
// labels can give the same name ("a.b" and "a_b").
func MetricName(label string) string {
	b := make([]byte, 0, len(Namespace)+len(label))
	b = append(b, Namespace...)
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			c = '_'
		}
		b = append(b, c)
	}
	return string(b)
}

// PID returns the value of the stat whose label ends in "sys.pid" (the
// writer's process ID, as cleanstats finds it), or "" if there is none.
func PID(stats []reader.Stat) string {
	for _, s := range stats {
		if strings.HasSuffix(s.Label, "sys.pid") && s.Value.Kind().Numeric() {
			return s.Value.String()
		}
	}
	return ""
}

// TypeOf maps a stat's metadata to a Prometheus type: counters are
// Counter, gauges and timestamps Gauge, and stats without metadata (the
// Python writer's) or info stats (PIDs, versions) stay Untyped.
func TypeOf(m reader.Meta) Type {
	switch m.Kind {
	case reader.MetricCounter:
		return Counter
	case reader.MetricGauge, reader.MetricTimestamp:
		return Gauge
	}
	return Untyped
}

// NameOf returns the metric name of a stat: MetricName of its label, then
// its unit as a suffix ("_seconds", "_bytes"), as Prometheus's naming
// conventions ask, unless the name already ends with it. Stats without
// metadata keep the bare MetricName.
func NameOf(st reader.Stat) string {
	name := MetricName(st.Label)
	if u := st.Meta.Unit; u != "" && !strings.HasSuffix(name, "_"+u) {
		name += "_" + u
	}
	return name
}

// AddFile adds one series per numeric stat of the file at path, named by
// NameOf with the original label as help text and the type of TypeOf,
// labelled with the file's base name (file) and, when the file has one,
// the writer's PID (pid). Booleans are 0 and 1; strings are skipped. pid
// is the PID to use, or "" to find it in stats with PID.
func (s *Set) AddFile(path, pid string, stats []reader.Stat) {
	if pid == "" {
		pid = PID(stats)
	}
	labels := []Label{{Name: "file", Value: filepath.Base(path)}}
	if pid != "" {
		labels = append(labels, Label{Name: "pid", Value: pid})
	}
	for _, st := range stats {
		s.Add(NameOf(st), st.Label, TypeOf(st.Meta), labels, st.Value)
	}
}
