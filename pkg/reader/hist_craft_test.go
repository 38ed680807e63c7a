package reader

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/v1"
)

// craft describes a histogram group to build by hand, as the Go writer
// lays it out unless a field says otherwise: a head "h" with its
// sequence word, "h.count" carrying the buckets, "h.sum", "h.min" and
// "h.max".
type craft struct {
	desc     string // the descriptor's bytes; "" for the encoding of d
	d        v1.Desc
	code     string // the carrier's format; "" for "Q<pad>x"
	wb       byte   // the carrier's write_buffer (0xff unless set)
	misalign bool   // put the carrier's value one byte off 8-alignment
	under    uint64
	over     uint64
	counts   []uint64
	min, max float64
}

// appendTyped appends a field whose type is prefix, then spaces until
// the value lands at an offset that is 0 mod align (plus off), then code.
func appendTyped(b []byte, label, prefix, code string, wb byte, align, off int, value []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(len(label)))
	b = append(b, label...)
	typ := prefix
	for (len(b)+2+len(typ)+len(code)+1)%align != off%align {
		typ += " "
	}
	typ += code
	b = binary.NativeEndian.AppendUint16(b, uint16(len(typ)))
	b = append(b, typ...)
	b = append(b, wb)
	return append(b, value...)
}

func metaPrefix(role int) string {
	p, _ := v1.EncodeMeta(v1.Meta{Kind: 2, Role: role})
	return string(p)
}

func f64bytes(v float64) []byte { return binary.NativeEndian.AppendUint64(nil, math.Float64bits(v)) }

// bytes builds a file holding the group.
func (c craft) bytes() []byte {
	b := []byte{Version1}
	seq := v1.EncodeSeq(0)
	// The head: metadata, then room for an 8-aligned sequence word.
	b = appendTyped(b, "h", metaPrefix(v1.RoleHead)+"       "+string(seq[:]), "d", 0xff, 8, 0, f64bytes(1))
	desc := c.desc
	if desc == "" {
		d, _ := v1.EncodeDesc(c.d)
		desc = string(d[:])
	}
	code := c.code
	if code == "" {
		code = "Q" + strconv.Itoa(v1.PadSize(c.d.N)) + "x"
	}
	wb := c.wb
	if wb == 0 {
		wb = 0xff
	}
	var value []byte
	n := c.under + c.over
	for _, x := range c.counts {
		n += x
	}
	value = binary.NativeEndian.AppendUint64(value, n)
	value = binary.NativeEndian.AppendUint64(value, c.under)
	value = binary.NativeEndian.AppendUint64(value, c.over)
	for _, x := range c.counts {
		value = binary.NativeEndian.AppendUint64(value, x)
	}
	if sig, err := ParseSignature([]byte(code)); err == nil {
		size := sig.Size
		if wb <= 1 {
			size *= 2
		}
		for len(value) < size {
			value = append(value, 0)
		}
		value = value[:size]
	}
	off := 0
	if c.misalign {
		off = 1
	}
	b = appendTyped(b, "h.count", metaPrefix(v1.RoleBuckets)+desc, code, wb, 8, off, value)
	b = appendTyped(b, "h.sum", metaPrefix(v1.RoleMember), "d", 0xff, 8, 0, f64bytes(0))
	b = appendTyped(b, "h.min", metaPrefix(v1.RoleMember), "d", 0xff, 8, 0, f64bytes(c.min))
	b = appendTyped(b, "h.max", metaPrefix(v1.RoleMember), "d", 0xff, 8, 0, f64bytes(c.max))
	return append(b, make([]byte, 8)...)
}

// TestCraftedHistogram reads a hand-built group the way a third
// implementation would write it from the documentation.
func TestCraftedHistogram(t *testing.T) {
	c := craft{d: v1.Desc{Schema: 6, Lo: 1, N: 3}, under: 1, over: 1, counts: []uint64{0, 5, 3}, min: 0.5, max: 9}
	data := c.bytes()
	l, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Fields[1].HasBuckets() || l.Fields[1].Buckets.N != 3 || l.Fields[1].Buckets.Lo != 1 || l.Fields[1].Meta.Role != GroupMember {
		t.Fatalf("carrier %+v", l.Fields[1])
	}
	stats, err := Stats(data, l)
	if err != nil || stats[1].Value.Uint() != 10 || stats[1].Type != "Q40x" {
		t.Fatalf("stats %+v, %v", stats, err)
	}
	var h Histogram
	for i := range l.Fields {
		if err := ReadHistogram(data, l, i, &h); err != nil {
			t.Fatalf("field %d: %v", i, err)
		}
		if h.Count != 10 || h.Total() != 10 || h.Lo != 1 || h.Schema != 6 || h.Min != 0.5 || h.Max != 9 || h.Counts[1] != 5 {
			t.Fatalf("field %d: %+v", i, h)
		}
	}
	// Ranks 1 (underflow: the min), 2-6 (bucket 2), 7-9 (bucket 3), 10 (the max).
	for q, want := range map[float64]float64{0.1: 0.5, 0.5: v1.BucketMid(6, 2), 0.9: v1.BucketMid(6, 3), 1: 9} {
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

// TestHostileBuckets: descriptors and pad bytes that no writer makes give
// ErrBuckets from ReadHistogram, never a panic, and the group's stats
// still read (the file is a valid v1 file, as Python sees it).
func TestHostileBuckets(t *testing.T) {
	ok := v1.Desc{Schema: 6, Lo: 1, N: 3}
	for _, c := range []struct {
		name string
		c    craft
		err  error
	}{
		// Any other byte would be a struct code: a short descriptor runs
		// into the format.
		{"descriptor cut short", craft{d: ok, desc: " "}, ErrBuckets},
		{"schema 9", craft{d: v1.Desc{Schema: 9, Lo: 1, N: 3}}, ErrBuckets},
		{"schema 35", craft{d: v1.Desc{Schema: 35, Lo: 1, N: 3}}, ErrBuckets},
		{"huge N, pad too short", craft{d: v1.Desc{Schema: 6, N: v1.MaxDescN}, code: "Q40x"}, ErrBuckets},
		{"pad region too short", craft{d: ok, code: "Q16x"}, ErrBuckets},
		{"pad region too long", craft{d: ok, code: "Q48x"}, ErrBuckets},
		{"not Q", craft{d: ok, code: "d40x"}, ErrBuckets},
		{"pad before the value", craft{d: ok, code: "40xQ"}, ErrBuckets},
		{"buffered", craft{d: ok, wb: 1}, ErrBuckets},
		{"misaligned", craft{d: ok, misalign: true}, ErrBuckets},
		{"lowest lo", craft{d: v1.Desc{Schema: 6, Lo: v1.MinDescLo, N: 2}, counts: []uint64{1, 1}}, nil},
		{"highest lo", craft{d: v1.Desc{Schema: 8, Lo: v1.MaxDescLo, N: 2}, counts: []uint64{1, 1}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := c.c.bytes()
			l, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := Stats(data, l)
			if err != nil || len(stats) != 5 || stats[1].Label != "h.count" {
				t.Fatalf("stats %+v, %v", stats, err)
			}
			var h Histogram
			err = ReadHistogram(data, l, 1, &h)
			if !errors.Is(err, c.err) || c.err != nil && !strings.Contains(err.Error(), "h.count") {
				t.Fatalf("ReadHistogram = %v, want %v", err, c.err)
			}
			if err == nil {
				for _, q := range []float64{0.01, 0.5, 1} {
					if v := h.Quantile(q); math.IsNaN(v) {
						t.Errorf("Quantile(%v) = NaN", q)
					}
				}
				var m Histogram
				if err := m.Merge(&h); err != nil || m.Total() != h.Total() {
					t.Errorf("Merge into empty: %v", err)
				}
			}
		})
	}
}

func TestNoHistogram(t *testing.T) {
	data := append([]byte{Version1}, field("a", "Q", 0xff, u64(1)...)...)
	l, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var h Histogram
	if err := ReadHistogram(data, l, 0, &h); !errors.Is(err, ErrNoHistogram) {
		t.Errorf("standalone field: %v", err)
	}
	if err := ReadHistogram(data, l, 1, &h); err == nil {
		t.Error("index out of range accepted")
	}
	// A group without a carrier.
	c := craft{d: v1.Desc{Schema: 6, Lo: 1, N: 3}}
	data = c.bytes()
	l, _ = Parse(data)
	l.Fields[1].Buckets = Buckets{}
	if err := ReadHistogram(data, l, 0, &h); !errors.Is(err, ErrNoHistogram) {
		t.Errorf("group without buckets: %v", err)
	}
}

// TestMetadataV1StillReads: files of earlier Go writers ('\r' metadata,
// 5 bytes) keep their kinds, units and groups, with the default policy.
func TestMetadataV1StillReads(t *testing.T) {
	head, _ := v1.EncodeMetaV1(v1.Meta{Kind: 2, Unit: 1, Role: v1.RoleHead})
	member, _ := v1.EncodeMetaV1(v1.Meta{Kind: 1, Role: v1.RoleMember})
	seq := v1.EncodeSeq(4)
	b := appendTyped([]byte{Version1}, "t", string(head)+"       "+string(seq[:]), "d", 0xff, 8, 0, f64bytes(1.5))
	b = appendTyped(b, "t.count", string(member), "Q", 0xff, 8, 0, u64(3))
	l, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := Stats(b, l)
	if err != nil || len(stats) != 2 || stats[1].Value.Uint() != 3 {
		t.Fatalf("%+v, %v", stats, err)
	}
	if m := stats[0].Meta; m != (Meta{Kind: KindGauge, Unit: "seconds", Role: GroupHead}) || l.Fields[0].Seq < 0 {
		t.Errorf("head: %+v, seq at %d", m, l.Fields[0].Seq)
	}
	if m := stats[1].Meta; m != (Meta{Kind: KindCounter, Role: GroupMember}) || l.Fields[1].Group != 0 || l.Fields[1].HasBuckets() {
		t.Errorf("member: %+v", m)
	}
}

// TestReadHistogramBetweenExtremes: the counts of a group whose values
// lie between its .min and .max are loaded there alone, and read as all
// of them loaded would; a count outside them (a value the count does
// not tell apart from the buckets loaded), or extremes that do not make
// a range, have all of them loaded.
func TestReadHistogramBetweenExtremes(t *testing.T) {
	d := v1.Desc{Schema: 6, Lo: -1407, N: 1920}
	base := craft{d: d, counts: make([]uint64, d.N), min: v1.BucketUpper(6, 199) * (1 + 1e-9), max: v1.BucketUpper(6, 250), under: 3, over: 4}
	for i := 200; i <= 250; i++ {
		base.counts[i+1407] = uint64(i)
	}
	for _, c := range []struct {
		name   string
		change func(c *craft)
		all    bool // every count loaded
	}{
		{"between", func(*craft) {}, false},
		{"outlier below", func(c *craft) { c.counts[100]++ }, true},
		{"outlier above", func(c *craft) { c.counts[1900] += 7 }, true},
		{"min NaN", func(c *craft) { c.min = math.NaN() }, true},
		{"min above max", func(c *craft) { c.min, c.max = c.max, c.min }, true},
		{"no values", func(c *craft) { clear(c.counts); c.under, c.over, c.min, c.max = 0, 0, 0, 0 }, true},
		{"max past the window", func(c *craft) { c.max = math.Inf(1) }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cr := base
			cr.counts = append([]uint64(nil), base.counts...)
			c.change(&cr)
			data := cr.bytes()
			l, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			// h already holds other counts: those not loaded must be cleared.
			h := Histogram{Counts: make([]uint64, d.N)}
			for i := range h.Counts {
				h.Counts[i] = 99
			}
			if err := ReadHistogram(data, l, 1, &h); err != nil {
				t.Fatal(err)
			}
			var total uint64
			for i, want := range cr.counts {
				if h.Counts[i] != want {
					t.Fatalf("count %d = %d, want %d", i, h.Counts[i], want)
				}
				total += want
			}
			if h.Count != total+cr.under+cr.over || h.Total() != h.Count {
				t.Errorf("count %d, total %d, want %d", h.Count, h.Total(), total+cr.under+cr.over)
			}
			if c.all && h.loaded != d.N || !c.all && h.loaded > 60 {
				t.Errorf("%d counts loaded (all: %v)", h.loaded, c.all)
			}
		})
	}
}
