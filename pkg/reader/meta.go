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

// The roles. Their digits in the metadata are frozen.
const (
	Standalone  Role = iota // not in a group
	GroupHead               // the first field of a group; its signature holds the group's sequence word
	GroupMember             // a later field of the group that the nearest head before it starts
)

// Meta is the metadata of one field.
type Meta struct {
	Kind Kind
	Unit string
	Role Role
}

// parseMeta reads the metadata prefix of a raw type signature, and says
// how many bytes of the signature it takes.
func parseMeta(raw []byte) (m Meta, size int, ok bool) {
	d, size, ok := v1.DecodeMeta(raw)
	if !ok {
		return m, 0, false
	}
	unit, _ := v1.UnitName(d.Unit)
	return Meta{Kind: Kind(d.Kind), Unit: unit, Role: Role(d.Role)}, size, true
}
