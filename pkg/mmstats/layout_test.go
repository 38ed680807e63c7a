package mmstats

import (
	"github.com/mmstats/mmstats/internal/v1"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

var allSpecs = []spec{
	{code: "Q", size: 8}, (*Float64)(nil).spec(), (*Int32)(nil).spec(), (*Float32)(nil).spec(),
	(*Int16)(nil).spec(), (*Uint16)(nil).spec(), (*Int8)(nil).spec(), (*Bool)(nil).spec(),
	(*StaticText)(nil).spec(), (&String{}).spec(), (&String{Size: 16}).spec(), (&String{Size: 1}).spec(),
	bucketSpec(),
}

// bucketSpec is the spec of a histogram's .count, which carries the
// buckets in its pad bytes.
func bucketSpec() spec {
	ps, err := histParts("", nil, newHistState(0, -639, 1920))
	if err != nil {
		panic(err)
	}
	return ps[1].spec
}

// TestPlaceAlignsEveryValue checks the layout rules for every field type at
// every offset and label length: values aligned for atomic access, small
// values inside one aligned word, fields ending at a multiple of 4, and a
// padded signature that reads back as the plain code with the right size.
func TestPlaceAlignsEveryValue(t *testing.T) {
	for _, s := range allSpecs {
		for o := 1; o < 40; o++ {
			for n := 1; n < 20; n++ {
				label := strings.Repeat("x", n)
				meta := reader.Meta{Kind: reader.KindGauge, Unit: "seconds", Aggregation: reader.AggrMax}
				if o%3 == 0 {
					meta.Role = reader.GroupHead
				}
				if len(s.desc) > 0 {
					meta.Role = reader.GroupMember
				}
				p, err := place(o, label, s, meta)
				if err != nil {
					t.Fatal(err)
				}
				align := v1.AlignOf(s.size)
				if s.align != 0 {
					align = s.align
				}
				if p.value%align != 0 {
					t.Fatalf("%s at %d, label %d: value at %d not %d-aligned", s.code, o, n, p.value, align)
				}
				if s.size <= 4 && p.value/4 != (p.value+s.size-1)/4 {
					t.Fatalf("%s at %d: value at %d crosses a 4-byte word", s.code, o, p.value)
				}
				if p.end%4 != 0 {
					t.Fatalf("%s at %d, label %d: field ends at %d", s.code, o, n, p.end)
				}
				sig, err := reader.ParseSignature(p.typ)
				if err != nil || sig.Text != s.code || sig.Size != s.size {
					t.Fatalf("signature %q parses as %+v, %v", p.typ, sig, err)
				}
				if p.wb != o+2+n+2+len(p.typ) || p.value != p.wb+1 {
					t.Fatalf("%s: header offsets wrong: %+v", s.code, p)
				}
				m, size, ok := v1.DecodeMeta(p.typ)
				if !ok || size != v1.MetaSize2 || m.Aggr != int(reader.AggrMax) || m.Unit != 1 {
					t.Fatalf("%s: metadata %q reads %+v, %v", s.code, p.typ, m, ok)
				}
				if len(s.desc) > 0 {
					d, ok := v1.DecodeDesc(p.typ[size:])
					if !ok || m.Role != v1.RoleBuckets || d != (v1.Desc{Schema: 6, Lo: -639, N: 1920}) || sig.Size != 8+v1.PadSize(1920) {
						t.Fatalf("bucket carrier %q: role %d, descriptor %+v, %v", p.typ, m.Role, d, ok)
					}
				}
				hasSeq := s.seq || meta.Role == reader.GroupHead
				if hasSeq && (p.seq%8 != 0 || p.seq < o+2+n+2+v1.MetaSize2 || p.seq+8 > p.wb) {
					t.Fatalf("%s: sequence word at %d outside the signature", s.code, p.seq)
				}
				if !hasSeq && p.seq != -1 {
					t.Fatalf("%s: unexpected sequence word", s.code)
				}
			}
		}
	}
}

func TestPlaceRejectsBadLabels(t *testing.T) {
	if _, err := place(1, "", allSpecs[0], reader.Meta{}); err != ErrEmptyLabel {
		t.Errorf("empty label: %v", err)
	}
	if _, err := place(1, strings.Repeat("x", 1<<16), allSpecs[0], reader.Meta{}); err == nil {
		t.Error("label of 65536 bytes accepted")
	}
	if _, err := place(1, "x", allSpecs[0], reader.Meta{Unit: "furlongs"}); err == nil {
		t.Error("unknown unit accepted")
	}
}
