package reader

import (
	"errors"
	"github.com/mmstats/mmstats/internal/v1"
	"testing"
)

func TestParseSignature(t *testing.T) {
	tests := []struct {
		raw                 string
		text                string
		code                byte
		size, offset, count int
	}{
		{"Q", "Q", 'Q', 8, 0, 1},
		{"   Q", "Q", 'Q', 8, 0, 1},
		{" \t\n\v\f\r d", "d", 'd', 8, 0, 1},
		{"Q  ", "Q", 'Q', 8, 0, 1},
		{"255s", "255s", 's', 255, 0, 255},
		{"  \t 16s", "16s", 's', 16, 0, 16},
		{"0s", "0s", 's', 0, 0, 0},
		{"s", "s", 's', 1, 0, 1},
		{"?", "?", '?', 1, 0, 1},
		{"b", "b", 'b', 1, 0, 1},
		{"h", "h", 'h', 2, 0, 1},
		{"H", "H", 'H', 2, 0, 1},
		{"i", "i", 'i', 4, 0, 1},
		{"I", "I", 'I', 4, 0, 1},
		{"l", "l", 'l', 8, 0, 1},
		{"=l", "=l", 'l', 4, 0, 1},
		{"q", "q", 'q', 8, 0, 1},
		{"n", "n", 'n', 8, 0, 1},
		{"N", "N", 'N', 8, 0, 1},
		{"P", "P", 'P', 8, 0, 1},
		{"e", "e", 'e', 2, 0, 1},
		{"f", "f", 'f', 4, 0, 1},
		{"c", "c", 'c', 1, 0, 1},
		{"5p", "5p", 'p', 5, 0, 5},
		{"xQ", "xQ", 'Q', 16, 8, 1},  // native alignment pads to 8
		{"=xQ", "=xQ", 'Q', 9, 1, 1}, // standard mode: no alignment
		{"3x?", "3x?", '?', 4, 3, 1}, // pad bytes, then the value
		{"<I", "<I", 'I', 4, 0, 1},   // explicit byte order
		{"!H", "!H", 'H', 2, 0, 1},   // network order
		{"1Q", "1Q", 'Q', 8, 0, 1},   // explicit count of one
		{"Q0d", "Q0d", 'Q', 8, 0, 1}, // a zero count yields nothing
		{"?2x", "?2x", '?', 3, 0, 1}, // trailing pad bytes
		{"0dQ", "0dQ", 'Q', 8, 0, 1}, // zero count first
		{"@ Q", "@Q", 'Q', 8, 0, 1},  // whitespace after the order char
		{"xxxxI", "xxxxI", 'I', 8, 4, 1},
	}
	for _, tt := range tests {
		sig, err := ParseSignature([]byte(tt.raw))
		if err != nil {
			t.Errorf("ParseSignature(%q): %v", tt.raw, err)
			continue
		}
		if sig.Text != tt.text || sig.Code != tt.code || sig.Size != tt.size || sig.Offset != tt.offset || sig.Count != tt.count {
			t.Errorf("ParseSignature(%q) = %+v, want text %q code %c size %d offset %d count %d",
				tt.raw, sig, tt.text, tt.code, tt.size, tt.offset, tt.count)
		}
	}
}

func TestParseSignatureErrors(t *testing.T) {
	for _, raw := range []string{
		"",                      // no value
		"   ",                   // no value
		"x",                     // pad only
		"0Q",                    // zero values
		"2Q",                    // two values
		"Qd",                    // two values
		"25 s",                  // count with whitespace inside
		"25",                    // count without a code
		" <Q",                   // byte order not first
		"Q<",                    // byte order not first
		"=n",                    // native-only code in standard mode
		"<P",                    // native-only code in standard mode
		"z",                     // unknown code
		"\x00Q",                 // NUL is not whitespace
		"Q\xff",                 // garbage
		"99999999999999999999s", // absurd count
	} {
		if _, err := ParseSignature([]byte(raw)); !errors.Is(err, ErrSignature) {
			t.Errorf("ParseSignature(%q) = %v, want ErrSignature", raw, err)
		}
	}
}

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		sig  string
		item []byte
		want string
	}{
		{"b", []byte{0xfb}, "-5"},
		{"B", []byte{0xfb}, "251"},
		{"h", []byte{0x2e, 0xfb}, "-1234"},
		{">h", []byte{0xfb, 0x2e}, "-1234"},
		{"i", []byte{0x60, 0x79, 0xfe, 0xff}, "-100000"},
		{"q", []byte{0xd6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "-42"},
		{"Q", []byte{0, 0, 0, 0, 0, 0, 0, 0x80}, "9223372036854775808"},
		{"?", []byte{2}, "True"},
		{"?", []byte{0}, "False"},
		{"e", []byte{0x00, 0x3c}, "1.0"},
		{"e", []byte{0x00, 0xc0}, "-2.0"},
		{"e", []byte{0x00, 0x7c}, "inf"},
		{"e", []byte{0x01, 0x00}, "5.960464477539063e-08"},
		{"f", []byte{0xcd, 0xcc, 0xcc, 0x3d}, "0.10000000149011612"},
		{"d", []byte{0, 0, 0, 0, 0, 0, 0x3e, 0x40}, "30.0"},
		{"4s", []byte("ab\x00c"), "ab"},
		{"4s", []byte("abcd"), "abcd"},
		{"3s", []byte("a\xffb"), "ab"}, // invalid UTF-8 dropped
		{"4p", []byte("\x02abc"), "ab"},
		{"4p", []byte("\x09abc"), "abc"}, // length capped at count-1
		{"c", []byte("z"), "z"},
	}
	for _, tt := range tests {
		sig, err := ParseSignature([]byte(tt.sig))
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(&sig, tt.item).String(); got != tt.want {
			t.Errorf("decode(%q, % x) = %s, want %s", tt.sig, tt.item, got, tt.want)
		}
	}
}

func TestSeqWord(t *testing.T) {
	for _, n := range []uint32{0, 1, 2, 5, 6, 35, 36, 1000, v1.SeqModulus - 1} {
		w := v1.EncodeSeq(n)
		for _, c := range w {
			if !isStructSpace(c) {
				t.Fatalf("v1.EncodeSeq(%d) has non-whitespace byte %q", n, c)
			}
		}
		got, ok := v1.DecodeSeq(w)
		if !ok || got != n {
			t.Errorf("v1.DecodeSeq(v1.EncodeSeq(%d)) = %d, %v", n, got, ok)
		}
	}
	if got, _ := v1.DecodeSeq(v1.EncodeSeq(v1.SeqModulus + 3)); got != 3 {
		t.Errorf("sequence does not wrap modulo v1.SeqModulus: %d", got)
	}
	if _, ok := v1.DecodeSeq([8]byte{' ', ' ', 'x'}); ok {
		t.Error("v1.DecodeSeq accepted a non-whitespace byte")
	}
}

func TestConsistent(t *testing.T) {
	tests := []struct {
		s1, s2 uint32
		want   bool
	}{
		{0, 0, true}, {0, 1, true}, {0, 2, true}, {0, 3, false}, {0, 4, false},
		{1, 1, true}, {1, 2, true}, {1, 3, false},
		{v1.SeqModulus - 2, 0, true}, // wrapped: two steps
		{v1.SeqModulus - 1, 1, false},
	}
	for _, tt := range tests {
		if got := consistent(tt.s1, tt.s2); got != tt.want {
			t.Errorf("consistent(%d, %d) = %v, want %v", tt.s1, tt.s2, got, tt.want)
		}
	}
}
