package prom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/reader"
)

// craftGroup returns a file holding one histogram group as the Go
// writer lays it out ("h", "h.count" carrying the buckets of d, "h.sum",
// "h.p99"), with the given bucket counts, from a descriptor that the
// writer would never make.
func craftGroup(d v1.Desc, counts []uint64) []byte {
	field := func(b []byte, label, prefix, code string, value []byte) []byte {
		b = binary.NativeEndian.AppendUint16(b, uint16(len(label)))
		b = append(b, label...)
		typ := prefix
		for (len(b)+2+len(typ)+len(code)+1)%8 != 0 {
			typ += " "
		}
		typ += code
		b = binary.NativeEndian.AppendUint16(b, uint16(len(typ)))
		b = append(append(b, typ...), 0xff)
		return append(b, value...)
	}
	meta := func(role int, aggr int) string {
		p, _ := v1.EncodeMeta(v1.Meta{Kind: 2, Role: role, Aggr: aggr})
		return string(p)
	}
	f64 := func(v float64) []byte { return binary.NativeEndian.AppendUint64(nil, math.Float64bits(v)) }
	seq := v1.EncodeSeq(0)
	b := field([]byte{reader.Version1}, "h", meta(v1.RoleHead, 0)+"       "+string(seq[:]), "d", f64(1))
	desc, _ := v1.EncodeDesc(d)
	var n uint64
	for _, c := range counts {
		n += c
	}
	value := binary.NativeEndian.AppendUint64(nil, n)
	value = append(value, make([]byte, 16)...) // no underflow, no overflow
	for _, c := range counts {
		value = binary.NativeEndian.AppendUint64(value, c)
	}
	b = field(b, "h.count", meta(v1.RoleBuckets, 0)+string(desc[:]), "Q"+strconv.Itoa(v1.PadSize(d.N))+"x", value)
	b = field(b, "h.sum", meta(v1.RoleMember, 0), "d", f64(2))
	b = field(b, "h.p99", meta(v1.RoleMember, int(reader.AggrQuantile)), "d", f64(3))
	return append(b, make([]byte, 8)...)
}

// TestHostileWindow: a group whose window lies beyond float64's range
// (bounds of 0 or +Inf) is not exported as a histogram, whose +Inf bound
// would come twice and break the exposition: ReadGroups says why, and
// its stats are series one by one; the file's other groups are not
// affected.
func TestHostileWindow(t *testing.T) {
	for _, c := range []struct {
		d  v1.Desc
		ok bool
	}{
		{v1.Desc{Schema: 6, Lo: 1, N: 3}, true},
		{v1.Desc{Schema: 0, Lo: 1100, N: 3}, false},  // 2^1100: +Inf
		{v1.Desc{Schema: 0, Lo: -1100, N: 3}, false}, // 2^-1100: 0
		{v1.Desc{Schema: 0, Lo: 1023, N: 1}, false},  // the bucket above the window ends at +Inf
		{v1.Desc{Schema: 0, Lo: 1022, N: 1}, true},
		{v1.Desc{Schema: 8, Lo: v1.MaxDescLo, N: 2}, true},
	} {
		path := filepath.Join(t.TempDir(), "h.mmstats")
		if err := os.WriteFile(path, craftGroup(c.d, make([]uint64, c.d.N)), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := reader.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		groups, err := ReadGroups(f, nil)
		stats, serr := f.Stats()
		f.Close()
		if serr != nil || (len(groups) == 1) != c.ok || (err == nil) != c.ok || !c.ok && !errors.Is(err, reader.ErrBuckets) {
			t.Errorf("%+v: %d groups, %v (stats: %v)", c.d, len(groups), err, serr)
			continue
		}
		var s Set
		s.AddFileGroups(path, "1", stats, groups)
		var text, pb bytes.Buffer
		s.WriteTo(&text)
		s.WriteProto(&pb)
		fams := promtest.Parse(t, text.String())
		promtest.ParseProto(t, pb.Bytes())
		if hist := fams["mmstats_h"].GetType().String() == "HISTOGRAM"; hist != c.ok || (fams["mmstats_h_p99"] != nil) == c.ok {
			t.Errorf("%+v:\n%s", c.d, text.String())
		}
	}
}
