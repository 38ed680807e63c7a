package prom

import (
	"path/filepath"
	"strings"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Namespace starts the name of every metric made from an mmstats label.
const Namespace = "mmstats_"

// InfoName is the metric that carries the info stats of each file (its
// writer's PID, thread, user and group IDs, static values) as labels,
// with the value 1: they are facts about a process, not measurements, so
// they are not series of their own.
const InfoName = Namespace + "file_info"

const infoHelp = "One per file: the writer's info stats (PIDs, IDs, static numbers) as labels."

// MetricName returns the metric name of an mmstats label: Namespace, then
// the label with every byte outside [a-zA-Z0-9_] replaced by '_'. So
// "web.stats.status.2XX" is "mmstats_web_stats_status_2XX". Different
// labels can give the same name ("a.b" and "a_b").
func MetricName(label string) string {
	return string(appendSanitized([]byte(Namespace), label))
}

// LabelName returns the Prometheus label name of an mmstats label: the
// label with every byte outside [a-zA-Z0-9_] replaced by '_', after
// "mmstats_" if it would start with a digit or with "__" (a name
// Prometheus reserves). So "web.sys.tid" is "web_sys_tid".
func LabelName(label string) string {
	b := appendSanitized(nil, label)
	if len(b) == 0 || '0' <= b[0] && b[0] <= '9' || len(b) > 1 && b[0] == '_' && b[1] == '_' {
		b = append([]byte(Namespace), b...)
	}
	return string(b)
}

func appendSanitized(b []byte, label string) []byte {
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// PID returns the value of the stat whose label ends in "sys.pid" (the
// writer's process ID, as cleanstats finds it), or "" if there is none.
func PID(stats []reader.Stat) string {
	for _, s := range stats {
		if isPID(s) {
			return s.Value.String()
		}
	}
	return ""
}

func isPID(s reader.Stat) bool {
	return convention.DefaultField(s.Label) == convention.PID && s.Value.Kind().Numeric()
}

// IsInfo reports whether a stat is a fact about its writer rather than a
// measurement: the Go writer's info kind (PIDs, versions, static values),
// or, in a file without metadata, one of the Python writer's sys.pid,
// sys.tid, sys.uid and sys.gid.
func IsInfo(st reader.Stat) bool {
	switch st.Meta.Kind {
	case reader.KindInfo:
		return true
	case reader.KindUnknown:
		return convention.IsProcessInfo(st.Label)
	}
	return false
}

// TypeOf maps a stat's metadata to a Prometheus type: counters are
// Counter, gauges and timestamps Gauge, and stats without metadata (the
// Python writer's) stay Untyped.
func TypeOf(m reader.Meta) Type {
	switch m.Kind {
	case reader.KindCounter:
		return Counter
	case reader.KindGauge, reader.KindTimestamp:
		return Gauge
	}
	return Untyped
}

// NameOf returns the metric name of a stat: MetricName of its label, then
// its unit as a suffix ("_seconds", "_bytes"), as Prometheus's naming
// conventions ask, unless the name already ends with it, then "_total"
// for a counter. So a timer's web.req.count is mmstats_web_req_count_total
// and its web.req.sum mmstats_web_req_sum_seconds_total. Stats without
// metadata keep the bare MetricName.
func NameOf(st reader.Stat) string {
	name := MetricName(st.Label)
	if u := st.Meta.Unit; u != "" && !strings.HasSuffix(name, "_"+u) {
		name += "_" + u
	}
	if st.Meta.Kind == reader.KindCounter && !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	return name
}

// typeFor returns typ, or Untyped for a gauge that promtool check
// metrics would refuse under its name: one named like a counter
// (…_total) or like the parts of a histogram or summary (…_count, …_sum,
// …_bucket). Prometheus queries untyped metrics as it queries gauges, so
// the value and its name stay as they are. (A label that names a type,
// such as "x.counter", still gives a name promtool finds fault with: that
// is the label's choice.)
func typeFor(name string, typ Type) Type {
	if typ != Gauge {
		return typ
	}
	for _, suffix := range []string{"_total", "_count", "_sum", "_bucket"} {
		if strings.HasSuffix(name, suffix) {
			return Untyped
		}
	}
	return typ
}

// AddFile adds the stats of the file at path: one series per numeric
// stat that is a measurement, named by NameOf with the original label as
// help text and the type of TypeOf, labelled with the file's base name
// (file) and, when the file has one, the writer's PID (pid). Booleans are
// 0 and 1; strings are skipped. The numeric info stats (IsInfo) are not
// series: they become the labels of one InfoName series of the file,
// named by LabelName (the PID is the pid label already). pid is the PID
// to use, or "" to find it in stats with PID.
func (s *Set) AddFile(path, pid string, stats []reader.Stat) {
	s.AddFileGroups(path, pid, stats, nil)
}

// AddFileGroups is AddFile for a file whose histogram groups carry
// buckets (groups, from ReadGroups): each group is one series of a
// histogram metric, named by NameOf its head (the head's label and unit:
// mmstats_web_stats_timers_request_seconds, with _bucket, _sum and
// _count), and the stats it stands for are not series of their own: the
// head (a moving average), label.count, label.sum and the percentiles
// label.pDIGITS, which Prometheus computes from the buckets
// (histogram_quantile). The group's .min, .max and time windows stay
// gauges. A group whose histogram could not be read this time (its Err)
// is left out, with the stats it stands for. A histogram is added when one of the stats it stands for is in
// stats, so that a caller that adds a file's stats in batches, or only
// some of them, gets it once, with the stats it chose.
func (s *Set) AddFileGroups(path, pid string, stats []reader.Stat, groups []Group) {
	if pid == "" {
		pid = PID(stats)
	}
	// The series of the file share one label slice, which is never
	// changed after: the info labels go to a copy.
	labels := []Label{{Name: "file", Value: filepath.Base(path)}}
	if pid != "" {
		labels = append(labels, Label{Name: "pid", Value: pid})
	}
	s.addStats(labels, pid, stats, groups, true)
}

// addStats adds stats and groups as series labelled labels; the info
// stats as the labels of an InfoName series if withInfo, else not at
// all.
func (s *Set) addStats(labels []Label, pid string, stats []reader.Stat, groups []Group, withInfo bool) {
	var info []Label
	for i := range stats {
		st := &stats[i]
		if !st.Value.Kind().Numeric() {
			continue
		}
		if g := replacedBy(st, groups); g >= 0 {
			if groups[g].Err == nil {
				s.at.stat, s.at.group = -1, int32(g)
				head := reader.Stat{Label: groups[g].Label, Meta: groups[g].Meta}
				s.addSeries(NameOf(head), groups[g].Label, Histogram, series{labels: labels}, &groups[g].H, true)
			}
			continue
		}
		if IsInfo(*st) {
			if !withInfo {
				continue
			}
			if info == nil {
				info = labels[:len(labels):len(labels)]
			}
			info = addInfo(info, *st, pid)
			continue
		}
		name := NameOf(*st)
		s.at.stat, s.at.group = int32(i), -1
		s.add(name, st.Label, typeFor(name, TypeOf(st.Meta)), labels, st.Value, true)
	}
	if info != nil {
		s.at.stat, s.at.group = -1, -1 // the value 1
		s.add(InfoName, infoHelp, Gauge, info, reader.UintValue(1), true)
	}
}

// addInfo appends the label of an info stat to labels, unless it is the
// PID of the pid label or its name is taken.
func addInfo(labels []Label, st reader.Stat, pid string) []Label {
	value := string(AppendValue(nil, st.Value))
	if isPID(st) && value == pid {
		return labels
	}
	name := LabelName(st.Label)
	for _, l := range labels {
		if l.Name == name {
			return labels
		}
	}
	return append(labels, Label{Name: name, Value: value})
}
