// Package textfmt holds the formatting that the readers' outputs share:
// JSON strings as Python's json module writes them, and floats as Python's
// repr prints them, so that the tools print what the original tools printed.
package textfmt

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// AppendJSONString appends s as a JSON string, escaping only what JSON
// requires (as Python's json.dumps does, not HTML characters). Plain ASCII
// strings take a path that does not allocate.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendPythonFloat appends f the way Python's repr prints a float: the
// shortest digits that round-trip, in positional notation with a ".0" for
// whole numbers when the exponent is in [-4, 16), otherwise as 1.5e+16.
func AppendPythonFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		b = append(b, s...)
		if !strings.ContainsAny(s, ".") {
			b = append(b, ".0"...)
		}
		return b
	}
	b = append(b, mant...)
	b = append(b, 'e')
	if exp < 0 {
		b = append(b, '-')
		exp = -exp
	} else {
		b = append(b, '+')
	}
	if exp < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(exp), 10)
}
