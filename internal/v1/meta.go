package v1

// Units are the units a field's metadata can name, by their frozen index.
// They are Prometheus's base units and a few common ones.
var units = [...]string{
	"", "seconds", "bytes", "ratio", "percent", "meters", "grams", "celsius",
	"volts", "amperes", "joules", "hertz", "bits", "watts", "kelvin",
}

// Units returns the units a field's metadata can name, in index order
// (index 0, "", is no unit). The slice is a copy.
func Units() []string { return append([]string(nil), units[:]...) }

// UnitIndex returns the index of unit.
func UnitIndex(unit string) (int, bool) {
	for i, u := range units {
		if u == unit {
			return i, true
		}
	}
	return 0, false
}

// UnitName returns the unit of index i, or false.
func UnitName(i int) (string, bool) {
	if i < 0 || i >= len(units) {
		return "", false
	}
	return units[i], true
}

// MetaMarker starts the version-1 metadata prefix of a type signature:
//
//	'\r'  kind digit  unit digit (high)  unit digit (low)  role digit
//
// where a digit is one of Alphabet (0-5), so that the whole prefix is
// whitespace that Python's struct module skips. Readers keep reading it;
// the writer now writes version 2 (MetaMarker2).
const MetaMarker = '\r'

// MetaSize is the length of the version-1 metadata prefix.
const MetaSize = 5

// MetaMarker2 starts the version-2 metadata prefix:
//
//	'\f'  kind  unit (high)  unit (low)  role  aggregation (high)  aggregation (low)
//
// The first five bytes mean what they mean in version 1 (but the marker);
// the last two digits are the field's aggregation policy (0-35).
const MetaMarker2 = '\f'

// MetaSize2 is the length of the version-2 metadata prefix.
const MetaSize2 = 7

// The largest digit of each metadata number that this version knows.
const (
	MaxKind   = 4 // info
	MaxRole   = 3 // group member carrying histogram buckets (version 2 only)
	maxRoleV1 = 2 // group member
	MaxAggr   = 8 // quantile
)

// The group roles.
const (
	RoleStandalone = 0 // not in a group
	RoleHead       = 1 // the group's first field, with its sequence word
	RoleMember     = 2 // a later field of the group
	RoleBuckets    = 3 // a member whose pad bytes hold the group's histogram buckets
)

// Meta is a field's metadata as numbers.
type Meta struct {
	Kind, Unit, Role int
	// Aggr is the aggregation policy digit pair (0 in version-1 metadata).
	// Values above MaxAggr decode (a later writer may know more
	// policies); readers treat them as 0, the default.
	Aggr int
}

// DecodeMeta reads the metadata prefix of a raw type signature, version 1
// or 2: its numbers and its size in bytes (the number of signature bytes
// it takes). ok is false when there is no valid prefix.
func DecodeMeta(raw []byte) (m Meta, size int, ok bool) {
	if len(raw) == 0 {
		return m, 0, false
	}
	var d [MetaSize2 - 1]int
	switch raw[0] {
	case MetaMarker:
		size = MetaSize
	case MetaMarker2:
		size = MetaSize2
	default:
		return m, 0, false
	}
	if len(raw) < size {
		return m, 0, false
	}
	for i := range size - 1 {
		if d[i] = Digit(raw[1+i]); d[i] < 0 {
			return m, 0, false
		}
	}
	m = Meta{Kind: d[0], Unit: d[1]*6 + d[2], Role: d[3], Aggr: d[4]*6 + d[5]}
	maxRole := MaxRole
	if size == MetaSize {
		maxRole = maxRoleV1
	}
	if m.Kind > MaxKind || m.Unit >= len(units) || m.Role > maxRole {
		return Meta{}, 0, false
	}
	return m, size, true
}

// EncodeMeta returns the version-2 metadata prefix for m, or false if a
// number is out of range.
func EncodeMeta(m Meta) (prefix []byte, ok bool) {
	if m.Kind < 0 || m.Kind > MaxKind || m.Unit < 0 || m.Unit >= len(units) || m.Role < 0 || m.Role > MaxRole ||
		m.Aggr < 0 || m.Aggr > MaxAggr {
		return nil, false
	}
	return []byte{MetaMarker2, Alphabet[m.Kind], Alphabet[m.Unit/6], Alphabet[m.Unit%6], Alphabet[m.Role],
		Alphabet[m.Aggr/6], Alphabet[m.Aggr%6]}, true
}

// EncodeMetaV1 returns the version-1 metadata prefix for m (whose Aggr
// must be 0 and Role at most RoleMember), as writers before version 2
// wrote it: for tests of what readers still read.
func EncodeMetaV1(m Meta) (prefix []byte, ok bool) {
	if m.Kind < 0 || m.Kind > MaxKind || m.Unit < 0 || m.Unit >= len(units) || m.Role < 0 || m.Role > maxRoleV1 || m.Aggr != 0 {
		return nil, false
	}
	return []byte{MetaMarker, Alphabet[m.Kind], Alphabet[m.Unit/6], Alphabet[m.Unit%6], Alphabet[m.Role]}, true
}
