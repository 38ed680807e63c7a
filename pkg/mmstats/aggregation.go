package mmstats

import "github.com/mmstats/mmstats/pkg/reader"

// Aggregation says how the tools combine a field's values of several
// files (the processes of a prefork server, say) into one: pollstats'
// columns, mmash's /graph/, slurpstats --total and the Prometheus output
// all apply it, through package aggregate. It is kept in the field's
// metadata, which Python mmstats 0.8.0 skips.
//
// Every field type has a default: a Counter sums; integer and float
// gauges sum (requests in flight, bytes in use); Average and
// MovingAverage take the mean; a field of kind timestamp (sys.created)
// takes the latest; info fields (sys.pid, strings, static values) are
// not aggregated. The stats of a Histogram or Timer have fixed policies
// (count and sum add up, min and max take the extremes, percentiles are
// recomputed from the buckets of every file). WithAggregation and the
// struct tag aggr=sum|max|min|avg|latest|none choose another.
type Aggregation = reader.Aggregation

// The policies a field can choose.
const (
	Sum    = reader.AggrSum    // the sum (requests in flight)
	Max    = reader.AggrMax    // the largest value (a high-water mark)
	Min    = reader.AggrMin    // the smallest value
	Avg    = reader.AggrAvg    // the mean over the files
	Latest = reader.AggrLatest // the most recent: the largest timestamp, else the value of the newest file
	None   = reader.AggrNone   // not aggregated: a tool shows one file's value, named, or none
)

// WithAggregation sets how the tools combine the field's values across
// files: Sum, Max, Min, Avg, Latest or None. On a Counter with Windows it
// sets the counter's, not its rates'; a Histogram or Timer, whose stats
// have fixed policies, refuses it with an error.
func WithAggregation(a Aggregation) AddOption {
	return func(o *fieldOptions) error {
		switch a {
		case Sum, Max, Min, Avg, Latest, None:
			o.aggr = a
			return nil
		}
		return modelError("aggregation %d (%q): want Sum, Max, Min, Avg, Latest or None", a, a.String())
	}
}

// defaultAggregation is the policy of a field of kind k whose type's
// default is typ (AggrDefault: sum): timestamps take the latest and info
// is not aggregated, whatever the type.
func defaultAggregation(k reader.Kind, typ Aggregation) Aggregation {
	switch k {
	case reader.KindTimestamp:
		return Latest
	case reader.KindInfo:
		return None
	case reader.KindCounter:
		return Sum
	}
	if typ == reader.AggrDefault {
		return Sum
	}
	return typ
}
