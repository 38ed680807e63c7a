package v1

import "testing"

func TestSeqRoundTrip(t *testing.T) {
	for _, s := range []uint32{0, 1, 5, 6, 35, 12345, SeqModulus - 1} {
		w := EncodeSeq(s)
		for _, c := range w {
			if Digit(c) < 0 {
				t.Fatalf("EncodeSeq(%d) = %q: not whitespace digits", s, w)
			}
		}
		if got, ok := DecodeSeq(w); !ok || got != s {
			t.Errorf("DecodeSeq(EncodeSeq(%d)) = %d, %v", s, got, ok)
		}
	}
	if _, ok := DecodeSeq([8]byte{'x'}); ok {
		t.Error("DecodeSeq accepted a non-digit")
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for k := 0; k <= MaxKind; k++ {
		for u := range len(units) {
			for r := 0; r <= MaxRole; r++ {
				m := Meta{Kind: k, Unit: u, Role: r}
				p, ok := EncodeMeta(m)
				if !ok {
					t.Fatalf("EncodeMeta(%+v) refused", m)
				}
				got, size, ok := DecodeMeta(append(p, "Q"...))
				if !ok || got != m || size != MetaSize {
					t.Errorf("DecodeMeta(EncodeMeta(%+v)) = %+v, %d, %v", m, got, size, ok)
				}
			}
		}
	}
	if _, ok := EncodeMeta(Meta{Kind: MaxKind + 1}); ok {
		t.Error("EncodeMeta accepted a kind out of range")
	}
	if _, _, ok := DecodeMeta([]byte("\r\r\r\r\rQ")); ok {
		t.Error("DecodeMeta accepted unit 35 and role 5")
	}
}
