package reader

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Signature is a parsed type signature: a Python struct format that yields
// exactly one value.
type Signature struct {
	// Text is the signature with whitespace removed, as tools print it.
	Text string
	// Code is the format character of the value ('Q', 'd', 's', ...).
	Code byte
	// Count is the repeat count of the value item: the byte length for 's'
	// and 'p', otherwise 1.
	Count int
	// Order is the byte-order character: '@' (native, the default), '=',
	// '<', '>' or '!'.
	Order byte
	// Size is calcsize(signature): the bytes one value occupies.
	Size int
	// Offset is where the value item starts inside those Size bytes (after
	// any pad bytes or native alignment).
	Offset int
	// ItemSize is the number of bytes of the value item itself.
	ItemSize int
}

// maxSignatureSize bounds calcsize so that offsets never overflow an int
// (its sixteenth where an int has 32 bits, so that the repeat count's
// digits cannot overflow it either); no field can be larger than this
// anyway (it would not fit any file).
const maxSignatureSize = min(1<<40, math.MaxInt>>4)

// isStructSpace reports whether Python's struct module skips c (C isspace).
func isStructSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// nativeLongSize is sizeof(long) on this platform: 8 on LP64 (Linux on
// amd64 and arm64), 4 on 32-bit platforms.
const nativeLongSize = bits.UintSize / 8

// itemSize returns the size and native alignment of one item of code, and
// whether the code produces values. ok is false for an unknown code or one
// that the byte-order mode does not allow.
func itemSize(code byte, native bool) (size, align int, ok bool) {
	switch code {
	case 'x', 'c', 'b', 'B', '?', 's', 'p':
		return 1, 1, true
	case 'h', 'H', 'e':
		return 2, 2, true
	case 'i', 'I', 'f':
		return 4, 4, true
	case 'l', 'L':
		if native {
			return nativeLongSize, nativeLongSize, true
		}
		return 4, 4, true
	case 'q', 'Q', 'd':
		return 8, 8, true
	case 'n', 'N', 'P':
		if native {
			return bits.UintSize / 8, bits.UintSize / 8, true
		}
	}
	return 0, 0, false
}

// ParseSignature parses a type signature the way Python's struct module
// does (calcsize and unpack) and checks that it yields exactly one value.
func ParseSignature(raw []byte) (Signature, error) { return parseSignature(raw, true) }

// parseSignature is ParseSignature; without withText it leaves Text empty
// and allocates nothing, for the walks over a file that only need sizes.
func parseSignature(raw []byte, withText bool) (Signature, error) {
	sig := Signature{Order: '@'}
	i := 0
	if len(raw) > 0 {
		switch raw[0] {
		case '@', '=', '<', '>', '!':
			sig.Order = raw[0]
			i = 1
		}
	}
	native := sig.Order == '@'
	values := 0
	size := 0
	for i < len(raw) {
		c := raw[i]
		if isStructSpace(c) {
			i++
			continue
		}
		count := 1
		if c >= '0' && c <= '9' {
			n := 0
			for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
				n = n*10 + int(raw[i]-'0')
				if n > maxSignatureSize {
					return sig, fmt.Errorf("%w: repeat count too large", ErrSignature)
				}
				i++
			}
			if i == len(raw) || isStructSpace(raw[i]) {
				return sig, fmt.Errorf("%w: repeat count given without format specifier", ErrSignature)
			}
			count = n
			c = raw[i]
		}
		isz, align, ok := itemSize(c, native)
		if !ok {
			return sig, fmt.Errorf("%w: bad char %s in struct format", ErrSignature, strconv.QuoteRune(rune(c)))
		}
		i++
		if native && align > 1 && size%align != 0 {
			size += align - size%align
		}
		switch c {
		case 'x':
			size += count
		case 's', 'p':
			values++
			sig.Code, sig.Count, sig.Offset, sig.ItemSize = c, count, size, count
			size += count
		default:
			if count > 0 {
				values += count
				sig.Code, sig.Count, sig.Offset, sig.ItemSize = c, 1, size, isz
			}
			size += count * isz
		}
		if size > maxSignatureSize {
			return sig, fmt.Errorf("%w: total struct size too long", ErrSignature)
		}
	}
	if values != 1 {
		return sig, fmt.Errorf("%w: %q yields %d values, want 1", ErrSignature, signatureText(raw), values)
	}
	sig.Size = size
	if withText {
		sig.Text = signatureText(raw)
	}
	return sig, nil
}

// signatureText returns raw without the whitespace that the struct module
// skips: what tools print as the type. The common one-character types
// come from a table, without allocating.
func signatureText(raw []byte) string {
	var small [8]byte
	text := small[:0]
	for _, c := range raw {
		if !isStructSpace(c) {
			text = append(text, c)
		}
	}
	if s, ok := commonTexts[string(text)]; ok { // no allocation for the lookup
		return s
	}
	return string(text)
}

// commonTexts holds the type texts of numeric fields, with and without a
// byte-order character: nearly every field of every file has one.
var commonTexts = func() map[string]string {
	m := map[string]string{}
	for _, c := range "xcbB?hHiIlLqQnNefdsp" {
		m[string(c)] = string(c)
		for _, o := range "@=<>!" {
			m[string(o)+string(c)] = string(o) + string(c)
		}
	}
	return m
}()
