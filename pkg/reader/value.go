package reader

import (
	"encoding/binary"
	"github.com/mmstats/mmstats/internal/textfmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValueKind is the kind of a Value.
type ValueKind uint8

// The kinds of value a v1 field can hold.
const (
	Invalid ValueKind = iota // the zero Value
	Int                      // signed integers: b h i l q n
	Uint                     // unsigned integers: B H I L Q N P
	Float                    // e f d
	Bool                     // ?
	String                   // s p c (cut at the first NUL, UTF-8)
)

var kindNames = [...]string{"invalid", "int", "uint", "float", "bool", "string"}

// String returns the kind's name: int, uint, float, bool, string, or
// invalid.
func (k ValueKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Numeric reports whether values of this kind are numbers (booleans
// count as 0 and 1).
func (k ValueKind) Numeric() bool { return k == Int || k == Uint || k == Float || k == Bool }

// KindOf returns the kind of value a format character produces.
func KindOf(code byte) ValueKind {
	switch code {
	case 'b', 'h', 'i', 'l', 'q', 'n':
		return Int
	case 'B', 'H', 'I', 'L', 'Q', 'N', 'P':
		return Uint
	case 'e', 'f', 'd':
		return Float
	case '?':
		return Bool
	case 's', 'p', 'c':
		return String
	}
	return Invalid
}

// Value is one decoded field value. Numeric values do not allocate.
type Value struct {
	kind ValueKind
	bits uint64 // int64, uint64, float64 bits, or 0/1 for Bool
	str  string
}

// IntValue returns a Value of kind Int.
func IntValue(v int64) Value { return Value{kind: Int, bits: uint64(v)} }

// UintValue returns a Value of kind Uint.
func UintValue(v uint64) Value { return Value{kind: Uint, bits: v} }

// FloatValue returns a Value of kind Float.
func FloatValue(v float64) Value { return Value{kind: Float, bits: math.Float64bits(v)} }

// BoolValue returns a Value of kind Bool.
func BoolValue(v bool) Value {
	if v {
		return Value{kind: Bool, bits: 1}
	}
	return Value{kind: Bool}
}

// StringValue returns a Value of kind String.
func StringValue(v string) Value { return Value{kind: String, str: v} }

// Kind returns the value's kind.
func (v Value) Kind() ValueKind { return v.kind }

// Int returns the value as an int64 (unsigned values wrap, floats
// truncate, booleans are 0 or 1, strings are 0).
func (v Value) Int() int64 {
	if v.kind == Float {
		return int64(math.Float64frombits(v.bits))
	}
	return int64(v.bits)
}

// Uint returns the value as a uint64 (signed values wrap, floats truncate).
func (v Value) Uint() uint64 {
	if v.kind == Float {
		return uint64(math.Float64frombits(v.bits))
	}
	return v.bits
}

// Float returns the value as a float64.
func (v Value) Float() float64 {
	switch v.kind {
	case Float:
		return math.Float64frombits(v.bits)
	case Int:
		return float64(int64(v.bits))
	}
	return float64(v.bits)
}

// Bool returns whether the value is non-zero (or a non-empty string).
func (v Value) Bool() bool {
	if v.kind == String {
		return v.str != ""
	}
	if v.kind == Float {
		return math.Float64frombits(v.bits) != 0
	}
	return v.bits != 0
}

// Str returns a String value's text, or "" for other kinds.
func (v Value) Str() string { return v.str }

// String formats the value as the Python tools print it: integers in
// decimal, floats as Python's repr (3.0, 1e+16), booleans as True/False.
func (v Value) String() string { return string(v.AppendText(nil)) }

// AppendText appends the value as String formats it.
func (v Value) AppendText(b []byte) []byte {
	switch v.kind {
	case Int:
		return strconv.AppendInt(b, int64(v.bits), 10)
	case Uint:
		return strconv.AppendUint(b, v.bits, 10)
	case Float:
		return textfmt.AppendPythonFloat(b, math.Float64frombits(v.bits))
	case Bool:
		if v.bits != 0 {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case String:
		return append(b, v.str...)
	}
	return append(b, "<invalid>"...)
}

// AppendJSON appends the value as JSON: exact integers, floats in Python's
// repr (so 30.0 stays a float), NaN and infinities as the strings "NaN",
// "+Inf" and "-Inf", booleans, and strings.
func (v Value) AppendJSON(b []byte) []byte {
	switch v.kind {
	case Int, Uint:
		return v.AppendText(b)
	case Float:
		f := math.Float64frombits(v.bits)
		switch {
		case math.IsNaN(f):
			return append(b, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(b, `"+Inf"`...)
		case math.IsInf(f, -1):
			return append(b, `"-Inf"`...)
		}
		return textfmt.AppendPythonFloat(b, f)
	case Bool:
		if v.bits != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case String:
		return textfmt.AppendJSONString(b, v.str)
	}
	return append(b, "null"...)
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// decode turns the bytes of one value item into a Value. item holds exactly
// sig.ItemSize bytes.
func decode(sig *Signature, item []byte) Value {
	switch sig.Code {
	case 's':
		return StringValue(cString(item))
	case 'p':
		if len(item) == 0 {
			return StringValue("")
		}
		n := int(item[0])
		if n > len(item)-1 {
			n = len(item) - 1
		}
		return StringValue(cString(item[1 : 1+n]))
	case 'c':
		return StringValue(cString(item))
	case '?':
		return BoolValue(item[0] != 0)
	case 'e':
		return FloatValue(halfToFloat(uint16(uintOf(item, sig.Order))))
	case 'f':
		return FloatValue(float64(math.Float32frombits(uint32(uintOf(item, sig.Order)))))
	case 'd':
		return FloatValue(math.Float64frombits(uintOf(item, sig.Order)))
	}
	u := uintOf(item, sig.Order)
	if KindOf(sig.Code) == Int {
		shift := 64 - 8*uint(len(item))
		return IntValue(int64(u<<shift) >> shift)
	}
	return UintValue(u)
}

// uintOf decodes an unsigned integer of 1, 2, 4 or 8 bytes in the byte
// order of a signature's order character. The orders are spelled out,
// not held in a binary.ByteOrder: a call through that interface would
// make item escape, and every numeric read allocate.
func uintOf(item []byte, order byte) uint64 {
	switch order {
	case '<':
		switch len(item) {
		case 2:
			return uint64(binary.LittleEndian.Uint16(item))
		case 4:
			return uint64(binary.LittleEndian.Uint32(item))
		case 8:
			return binary.LittleEndian.Uint64(item)
		}
	case '>', '!':
		switch len(item) {
		case 2:
			return uint64(binary.BigEndian.Uint16(item))
		case 4:
			return uint64(binary.BigEndian.Uint32(item))
		case 8:
			return binary.BigEndian.Uint64(item)
		}
	default:
		switch len(item) {
		case 2:
			return uint64(binary.NativeEndian.Uint16(item))
		case 4:
			return uint64(binary.NativeEndian.Uint32(item))
		case 8:
			return binary.NativeEndian.Uint64(item)
		}
	}
	if len(item) == 1 {
		return uint64(item[0])
	}
	return 0
}

// cString cuts b at its first NUL and decodes it as UTF-8, dropping invalid
// bytes (Python's decode('utf8', 'ignore')).
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return utf8Ignore(b)
}

// utf8Ignore decodes b as UTF-8, dropping invalid bytes.
func utf8Ignore(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "")
}

// halfToFloat converts an IEEE 754 binary16 value to float64.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
