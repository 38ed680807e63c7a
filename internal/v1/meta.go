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

// MetaMarker starts the metadata prefix of a type signature.
const MetaMarker = '\r'

// MetaSize is the length of the metadata prefix:
//
//	'\r'  kind digit  unit digit (high)  unit digit (low)  role digit
//
// where a digit is one of Alphabet (0-5), so that the whole prefix is
// whitespace that Python's struct module skips.
const MetaSize = 5

// Kinds and roles the metadata can hold: the largest digit of each.
const (
	MaxKind = 4 // info
	MaxRole = 2 // group member
)

// Meta is a field's metadata as digits.
type Meta struct {
	Kind, Unit, Role int
}

// DecodeMeta reads the metadata prefix of a raw type signature: its
// digits and its size in bytes (the number of signature bytes it takes).
func DecodeMeta(raw []byte) (m Meta, size int, ok bool) {
	if len(raw) < MetaSize || raw[0] != MetaMarker {
		return m, 0, false
	}
	var d [MetaSize - 1]int
	for i := range d {
		if d[i] = Digit(raw[1+i]); d[i] < 0 {
			return m, 0, false
		}
	}
	m = Meta{Kind: d[0], Unit: d[1]*6 + d[2], Role: d[3]}
	if m.Kind > MaxKind || m.Unit >= len(units) || m.Role > MaxRole {
		return Meta{}, 0, false
	}
	return m, MetaSize, true
}

// EncodeMeta returns the metadata prefix for m, or false if a digit is out
// of range.
func EncodeMeta(m Meta) (prefix []byte, ok bool) {
	if m.Kind < 0 || m.Kind > MaxKind || m.Unit < 0 || m.Unit >= len(units) || m.Role < 0 || m.Role > MaxRole {
		return nil, false
	}
	return []byte{MetaMarker, Alphabet[m.Kind], Alphabet[m.Unit/6], Alphabet[m.Unit%6], Alphabet[m.Role]}, true
}
