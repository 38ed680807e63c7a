package cli

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Quote makes s safe to print on a terminal, as git quotes paths: a
// string with no control character (C0, DEL, C1), no invalid UTF-8 and no
// line or paragraph separator comes back unchanged; any other is put in
// double quotes with C escapes (\n, \t, \033, \"...), so that an escape
// sequence in a label, a value or a file name cannot drive the terminal
// and a newline cannot forge an output line. Every human-readable output
// of the tools passes labels, string values and paths through it; JSON,
// Prometheus and HTML have escapes of their own.
func Quote(s string) string {
	if !NeedsQuote(s) {
		return s
	}
	return string(AppendQuote(make([]byte, 0, len(s)+8), s))
}

// NeedsQuote reports whether Quote would change s.
func NeedsQuote(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}

// AppendQuote appends s to b in the quoted form of Quote (always quoted).
func AppendQuote(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\a':
				b = append(b, `\a`...)
			case '\b':
				b = append(b, `\b`...)
			case '\t':
				b = append(b, `\t`...)
			case '\n':
				b = append(b, `\n`...)
			case '\v':
				b = append(b, `\v`...)
			case '\f':
				b = append(b, `\f`...)
			case '\r':
				b = append(b, `\r`...)
			default:
				if c < 0x20 || c == 0x7f {
					b = appendOctal(b, c)
				} else {
					b = append(b, c)
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			for _, c := range []byte(s[i : i+n]) {
				b = appendOctal(b, c)
			}
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// unsafeRune reports whether a non-ASCII rune must not reach a terminal
// raw: C1 controls (0x9b is CSI on some terminals) and the line and
// paragraph separators.
func unsafeRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cc, r)
}

func appendOctal(b []byte, c byte) []byte {
	b = append(b, '\\')
	o := strconv.FormatUint(uint64(c), 8)
	for len(o) < 3 {
		o = "0" + o
	}
	return append(b, o...)
}
