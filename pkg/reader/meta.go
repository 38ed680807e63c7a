package reader

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

// Units are the units a field's metadata can name, by their frozen index.
// They are Prometheus's base units and a few common ones.
var Units = [...]string{
	"", "seconds", "bytes", "ratio", "percent", "meters", "grams", "celsius",
	"volts", "amperes", "joules", "hertz", "bits", "watts", "kelvin",
}

// UnitIndex returns the index of unit in Units.
func UnitIndex(unit string) (int, bool) {
	for i, u := range Units {
		if u == unit {
			return i, true
		}
	}
	return 0, false
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

// MetaMarker starts the metadata prefix of a type signature.
const MetaMarker = '\r'

// MetaSize is the length of the metadata prefix:
//
//	'\r'  kind digit  unit digit (high)  unit digit (low)  role digit
//
// where a digit is one of SeqAlphabet (0-5), so that the whole prefix is
// whitespace that Python's struct module skips.
const MetaSize = 5

// Meta is the metadata of one field.
type Meta struct {
	Kind Kind
	Unit string
	Role Role
}

// parseMeta reads the metadata prefix of a raw type signature.
func parseMeta(raw []byte) (m Meta, ok bool) {
	if len(raw) < MetaSize || raw[0] != MetaMarker {
		return m, false
	}
	var d [MetaSize - 1]int
	for i := range d {
		if d[i] = seqDigit(raw[1+i]); d[i] < 0 {
			return m, false
		}
	}
	unit := d[1]*6 + d[2]
	if d[0] >= len(metricNames) || unit >= len(Units) || d[3] > int(GroupMember) {
		return m, false
	}
	return Meta{Kind: Kind(d[0]), Unit: Units[unit], Role: Role(d[3])}, true
}

// EncodeMeta returns the metadata prefix for m. It returns false for an
// unknown unit.
func EncodeMeta(m Meta) (prefix [MetaSize]byte, ok bool) {
	unit, ok := UnitIndex(m.Unit)
	if !ok || int(m.Kind) >= len(metricNames) || m.Role > GroupMember {
		return prefix, false
	}
	prefix[0] = MetaMarker
	prefix[1] = SeqAlphabet[m.Kind]
	prefix[2] = SeqAlphabet[unit/6]
	prefix[3] = SeqAlphabet[unit%6]
	prefix[4] = SeqAlphabet[m.Role]
	return prefix, true
}
