package reader

import "github.com/mmstats/mmstats/internal/v1"

// Kind is what a field's number means, from the Go writer's field
// metadata (see the package documentation). Files without metadata, such
// as the Python writer's, have KindUnknown everywhere.
type Kind uint8

// The metric kinds. Their digits in the metadata are frozen.
const (
	KindUnknown   Kind = iota // no metadata: tools keep their defaults
	KindCounter               // only goes up; rates and deltas make sense
	KindGauge                 // a current value: show it as it is
	KindTimestamp             // seconds since the UNIX epoch
	KindInfo                  // a fact about the process (PID, version)
)

var metricNames = [...]string{"", "counter", "gauge", "timestamp", "info"}

// String returns the kind's name: counter, gauge, timestamp, info, or "".
func (k Kind) String() string {
	if int(k) < len(metricNames) {
		return metricNames[k]
	}
	return ""
}

// ParseKind returns the kind named s (as String returns it).
func ParseKind(s string) (Kind, bool) {
	for i, n := range metricNames {
		if n == s && s != "" {
			return Kind(i), true
		}
	}
	return KindUnknown, false
}

// Role says whether a field belongs to a group: fields that one writer
// field publishes together (a histogram's count, sum, percentiles...) and
// that a reader reads as one consistent snapshot.
type Role uint8

// The roles. Their digits in the metadata are frozen. Role digit 3 (a
// member that carries the group's histogram buckets) reads as
// GroupMember, with Field.HasBuckets true.
const (
	Standalone  Role = iota // not in a group
	GroupHead               // the first field of a group; its signature holds the group's sequence word
	GroupMember             // a later field of the group that the nearest head before it starts
)

// Aggregation is how a field's values of several files (processes)
// combine into one, from the Go writer's metadata version 2 (see the
// package documentation). The reader only decodes it; package aggregate
// applies it.
type Aggregation uint8

// The aggregation policies. Their digits in the metadata are frozen.
const (
	AggrDefault     Aggregation = iota // by kind: counter and gauge sum, timestamp latest, info none, no kind sum
	AggrSum                            // the sum
	AggrMax                            // the largest value
	AggrMin                            // the smallest value
	AggrAvg                            // the mean over the files
	AggrLatest                         // the most recent: the largest timestamp, else the newest file's value
	AggrNone                           // not aggregated (a PID): one file's value, named
	AggrWeightedAvg                    // the mean weighted by a count of the same group
	AggrQuantile                       // recomputed from the group's merged histogram buckets
)

var aggrNames = [...]string{"", "sum", "max", "min", "avg", "latest", "none", "wavg", "quantile"}

// String returns the policy's name: sum, max, min, avg, latest, none,
// wavg, quantile, or "" for the default (and for digits this version
// does not know).
func (a Aggregation) String() string {
	if int(a) < len(aggrNames) {
		return aggrNames[a]
	}
	return ""
}

// ParseAggregation returns the policy named s (as String returns it).
func ParseAggregation(s string) (Aggregation, bool) {
	for i, n := range aggrNames {
		if n == s && s != "" {
			return Aggregation(i), true
		}
	}
	return AggrDefault, false
}

// Meta is the metadata of one field.
type Meta struct {
	Kind Kind
	Unit string
	Role Role
	// Aggregation is the policy metadata version 2 gives, AggrDefault in
	// version 1 and in files without metadata. A digit pair this version
	// does not know reads as AggrDefault.
	Aggregation Aggregation
}

// parseMeta reads the metadata prefix of a raw type signature, says how
// many bytes of the signature it takes, and whether the field carries
// histogram buckets (role digit 3).
func parseMeta(raw []byte) (m Meta, size int, buckets, ok bool) {
	d, size, ok := v1.DecodeMeta(raw)
	if !ok {
		return m, 0, false, false
	}
	unit, _ := v1.UnitName(d.Unit)
	m = Meta{Kind: Kind(d.Kind), Unit: unit, Role: Role(d.Role)}
	if d.Role == v1.RoleBuckets {
		m.Role, buckets = GroupMember, true
	}
	if d.Aggr <= v1.MaxAggr {
		m.Aggregation = Aggregation(d.Aggr)
	}
	return m, size, buckets, true
}
