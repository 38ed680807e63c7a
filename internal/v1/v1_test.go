package v1

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

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
				for a := 0; a <= MaxAggr; a++ {
					m := Meta{Kind: k, Unit: u, Role: r, Aggr: a}
					p, ok := EncodeMeta(m)
					if !ok || len(p) != MetaSize2 || p[0] != MetaMarker2 {
						t.Fatalf("EncodeMeta(%+v) = %q, %v", m, p, ok)
					}
					got, size, ok := DecodeMeta(append(p, "Q"...))
					if !ok || got != m || size != MetaSize2 {
						t.Errorf("DecodeMeta(EncodeMeta(%+v)) = %+v, %d, %v", m, got, size, ok)
					}
				}
				// Version 1, as earlier writers wrote it, reads the same
				// with the default policy.
				m := Meta{Kind: k, Unit: u, Role: r}
				p, ok := EncodeMetaV1(m)
				if r == RoleBuckets {
					if ok {
						t.Errorf("EncodeMetaV1 accepted role %d", r)
					}
					continue
				}
				got, size, ok := DecodeMeta(append(p, "Q"...))
				if !ok || got != m || size != MetaSize {
					t.Errorf("DecodeMeta(EncodeMetaV1(%+v)) = %+v, %d, %v", m, got, size, ok)
				}
			}
		}
	}
	if _, ok := EncodeMeta(Meta{Kind: MaxKind + 1}); ok {
		t.Error("EncodeMeta accepted a kind out of range")
	}
	if _, ok := EncodeMeta(Meta{Aggr: MaxAggr + 1}); ok {
		t.Error("EncodeMeta accepted a policy out of range")
	}
	for _, bad := range []string{"\r\r\r\r\rQ", "\r   \vQ", "\f   \v", "\f\r    Q", "\f", "\r", "x     Q"} {
		if m, _, ok := DecodeMeta([]byte(bad)); ok {
			t.Errorf("DecodeMeta(%q) = %+v, want no metadata", bad, m)
		}
	}
	// A policy digit pair this version does not know still decodes: the
	// kind, unit and role stay usable.
	if m, _, ok := DecodeMeta([]byte("\f\t  \n\r\rQ")); !ok || m.Aggr != 35 || m.Kind != 1 || m.Role != 2 {
		t.Errorf("unknown policy: %+v, %v", m, ok)
	}
}

func TestDescRoundTrip(t *testing.T) {
	for _, d := range []Desc{
		{Schema: 6, Lo: -1407, N: 1920}, {Schema: 6, Lo: 1, N: 1920}, {},
		{Schema: MaxDescSchema, Lo: MinDescLo, N: MaxDescN}, {Schema: 0, Lo: MaxDescLo, N: 1},
	} {
		b, ok := EncodeDesc(d)
		if !ok {
			t.Fatalf("EncodeDesc(%+v) refused", d)
		}
		for _, c := range b {
			if Digit(c) < 0 {
				t.Fatalf("EncodeDesc(%+v) = %q: not digits", d, b)
			}
		}
		if got, ok := DecodeDesc(b[:]); !ok || got != d {
			t.Errorf("DecodeDesc(EncodeDesc(%+v)) = %+v, %v", d, got, ok)
		}
	}
	for _, d := range []Desc{{Schema: -1}, {Schema: 36}, {Lo: MinDescLo - 1}, {Lo: MaxDescLo + 1}, {N: -1}, {N: MaxDescN + 1}} {
		if _, ok := EncodeDesc(d); ok {
			t.Errorf("EncodeDesc(%+v) accepted", d)
		}
	}
	if _, ok := DecodeDesc([]byte("              ")); ok {
		t.Error("DecodeDesc accepted 14 bytes")
	}
	if _, ok := DecodeDesc([]byte("       x       ")); ok {
		t.Error("DecodeDesc accepted a non-digit")
	}
	// The layout is frozen: schema 6, lo -1407, N 1920.
	b, _ := EncodeDesc(Desc{Schema: 6, Lo: -1407, N: 1920})
	if want := " \t\v\r\n\r\f\r\n \n\r\n\t "; string(b[:]) != want {
		t.Errorf("EncodeDesc = %q, want %q", b, want)
	}
}

// TestBucket6 checks the table-driven bucket against its definition,
// ceil(64·log2 v), on random values and on both sides of every bound of
// a few octaves.
func TestBucket6(t *testing.T) {
	exact := func(v float64) int {
		i := int(math.Ceil(64 * math.Log2(v)))
		// Log2 may be off by an ulp at a bound: settle it with the bound.
		if v <= BucketUpper(6, i-1) {
			i--
		} else if v > BucketUpper(6, i) {
			i++
		}
		return i
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1_000_000 {
		v := math.Exp2(rng.Float64()*120 - 60)
		if got, want := Bucket6(math.Float64bits(v)), exact(v); got != want {
			t.Fatalf("Bucket6(%v) = %d, want %d", v, got, want)
		}
	}
	for e := -30; e <= 30; e += 7 {
		for j := range 65 {
			b := BucketUpper(6, 64*e+j)
			i := 64*e + j
			if got := Bucket6(math.Float64bits(b)); got != i {
				t.Fatalf("bound %v of bucket %d lands in %d (upper bounds are inclusive)", b, i, got)
			}
			if got := Bucket6(math.Float64bits(math.Nextafter(b, math.Inf(1)))); got != i+1 {
				t.Fatalf("just above the bound of bucket %d: %d", i, got)
			}
		}
	}
	if i := Bucket6(0); i > -65400 {
		t.Errorf("Bucket6(0) = %d", i)
	}
	if i := Bucket6(math.Float64bits(5e-324)); i > -65400 {
		t.Errorf("Bucket6(smallest subnormal) = %d", i)
	}
	if i := Bucket6(math.Float64bits(math.Inf(1))); i != 65536 {
		t.Errorf("Bucket6(+Inf) = %d", i)
	}
	// Every midpoint is within 2^(1/128)-1 of both bounds of its bucket.
	limit := math.Exp2(1.0/128) - 1
	for i := -200; i < 200; i++ {
		lo, mid, hi := BucketUpper(6, i-1), BucketMid(6, i), BucketUpper(6, i)
		if (mid-lo)/lo > limit*(1+1e-12) || (hi-mid)/hi > limit {
			t.Fatalf("bucket %d: (%v, %v] midpoint %v", i, lo, hi, mid)
		}
	}
}

func TestQuantiles(t *testing.T) {
	qs := []float64{0.1, 0.5, 0.9, 1}
	out := make([]float64, 4)
	// 1 below the window, 2 in bucket 0 (0.989, 1], 1 in bucket 64 (1, 2], 6 over it.
	Quantiles(6, 0, 1, []uint64{2, 0, 0}, 6, 0.5, 100, qs, out)
	if out[0] != 0.5 || out[1] != 100 || out[3] != 100 {
		t.Errorf("Quantiles = %v", out)
	}
	Quantiles(6, 0, 0, []uint64{10}, 0, 0.5, 100, qs, out)
	if out[1] != BucketMid(6, 0) {
		t.Errorf("Quantiles = %v", out)
	}
	Quantiles(6, 0, 0, []uint64{0}, 0, 0.5, 100, qs, out)
	if out[1] != 0 {
		t.Errorf("empty: %v", out)
	}
	for _, c := range []struct {
		q    float64
		n, r uint64
	}{{0.5, 10, 5}, {0.99, 10, 10}, {0.001, 10, 1}, {0, 10, 1}, {1, 10, 10}, {2, 10, 10}, {math.NaN(), 10, 1}, {0.999, 1000, 999}} {
		if r := Rank(c.q, c.n); r != c.r {
			t.Errorf("Rank(%v, %d) = %d, want %d", c.q, c.n, r, c.r)
		}
	}
}

// FuzzMeta feeds arbitrary bytes to the decoders of the type signature's
// hidden numbers: they never panic, and what they accept encodes back to
// the same bytes.
func FuzzMeta(f *testing.F) {
	p, _ := EncodeMeta(Meta{Kind: 1, Unit: 2, Role: 3, Aggr: 8})
	d, _ := EncodeDesc(Desc{Schema: 6, Lo: -1407, N: 1920})
	f.Add(append(p, d[:]...))
	f.Add([]byte("\r\t\n\v\fQ"))
	f.Add([]byte("\f\r\r\r\r\r\r"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if m, size, ok := DecodeMeta(raw); ok {
			if size != MetaSize && size != MetaSize2 || size > len(raw) {
				t.Fatalf("size %d of %d bytes", size, len(raw))
			}
			enc, eok := EncodeMeta(m)
			if size == MetaSize {
				enc, eok = EncodeMetaV1(m)
			}
			if m.Aggr <= MaxAggr && (!eok || !bytes.Equal(enc, raw[:size])) {
				t.Fatalf("DecodeMeta(%q) = %+v; encodes as %q, %v", raw[:size], m, enc, eok)
			}
		}
		if d, ok := DecodeDesc(raw); ok {
			enc, eok := EncodeDesc(d)
			if !eok || !bytes.Equal(enc[:], raw[:DescSize]) {
				t.Fatalf("DecodeDesc(%q) = %+v; encodes as %q, %v", raw[:DescSize], d, enc, eok)
			}
		}
	})
}

// NativeOrder: '@', '=' and none are the machine's order; '<' is it on a
// little-endian machine, '>' and '!' on a big-endian one.
func TestNativeOrder(t *testing.T) {
	little := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	for order, want := range map[byte]bool{0: true, '@': true, '=': true, '<': little, '>': !little, '!': !little} {
		if got := NativeOrder(order); got != want {
			t.Errorf("NativeOrder(%q) = %v, want %v", order, got, want)
		}
	}
}
