package aggregate

import (
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Policy is how a label's values of many files combine into one. It is
// the reader's Aggregation: the policy digits of the field metadata.
type Policy = reader.Aggregation

// The policies (see the package documentation).
const (
	Default     = reader.AggrDefault // by kind; PolicyOf resolves it
	Sum         = reader.AggrSum
	Max         = reader.AggrMax
	Min         = reader.AggrMin
	Avg         = reader.AggrAvg
	Latest      = reader.AggrLatest
	None        = reader.AggrNone
	WeightedAvg = reader.AggrWeightedAvg
	Quantile    = reader.AggrQuantile
)

// PolicyOf returns the policy of a field with metadata m: the one its
// metadata names, or for Default, the policy of its kind: counters and
// gauges sum, timestamps take the latest, info is not aggregated, and a
// field without metadata (Python's files) sums, as the tools always did.
func PolicyOf(m reader.Meta) Policy {
	if m.Aggregation != Default && m.Aggregation.String() != "" {
		return m.Aggregation
	}
	switch m.Kind {
	case reader.KindTimestamp:
		return Latest
	case reader.KindInfo:
		return None
	}
	return Sum
}

// Inputs says which other stats of the same file a tool that feeds only
// some stats must feed too, for a label of policy p to be computed:
// weight, the label of a WeightedAvg's weight (label.count, or
// label.rateW for label.avgW); created, whether Latest needs the file's
// sys.created (for a value that is not a timestamp); histogram, the head
// label whose histogram (AddHistogram) a Quantile is computed from.
func Inputs(label string, m reader.Meta) (weight string, created bool, histogram string) {
	switch PolicyOf(m) {
	case WeightedAvg:
		return weightOf(label), false, ""
	case Latest:
		return "", m.Kind != reader.KindTimestamp, ""
	case Quantile:
		head, _, _ := QuantileOf(label)
		return "", false, head
	}
	return "", false, ""
}

// weightOf returns the label of the weight of label, a weighted mean:
// label.rateW for label.avgW (the mean over the time window W weighs as
// its rate), else label.count.
func weightOf(label string) string { return string(appendWeight(nil, label)) }

// appendWeight appends weightOf(label) to b: a poller looks the weight
// up with it without allocating.
func appendWeight(b []byte, label string) []byte {
	if i := strings.LastIndex(label, ".avg"); i >= 0 {
		if w := label[i+len(".avg"):]; w != "" && !strings.Contains(w, ".") {
			return append(append(append(b, label[:i]...), ".rate"...), w...)
		}
	}
	return append(append(b, label...), ".count"...)
}

// QuantileOf splits the label of a percentile stat, head.pDIGITS, into
// its histogram's head label and q = 0.DIGITS: "lat.p99" is "lat", 0.99;
// "lat.p999" is "lat", 0.999; "lat.p50" is "lat", 0.5.
func QuantileOf(label string) (head string, q float64, ok bool) {
	i := strings.LastIndex(label, ".p")
	if i < 0 || i+2 == len(label) || len(label)-i-2 > 15 {
		return "", 0, false
	}
	n, scale := 0.0, 1.0
	for _, c := range label[i+2:] {
		if c < '0' || c > '9' {
			return "", 0, false
		}
		n, scale = n*10+float64(c-'0'), scale*10
	}
	return label[:i], n / scale, true // exact digits, one rounding: 999/1000 is 0.999
}
