package reader

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mmstats/mmstats/internal/v1"
)

// field builds the bytes of one field: label, type, write_buffer, values.
func field(label, typ string, wb byte, values ...byte) []byte {
	var b []byte
	b = binary.NativeEndian.AppendUint16(b, uint16(len(label)))
	b = append(b, label...)
	b = binary.NativeEndian.AppendUint16(b, uint16(len(typ)))
	b = append(b, typ...)
	b = append(b, wb)
	return append(b, values...)
}

// file builds a v1 file of the given fields, zero-padded to size (if larger).
func file(size int, fields ...[]byte) []byte {
	b := []byte{Version1}
	for _, f := range fields {
		b = append(b, f...)
	}
	for len(b) < size {
		b = append(b, 0)
	}
	return b
}

func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func TestParseLayouts(t *testing.T) {
	buffered := append(u64(7), u64(9)...) // buffers[0]=7, buffers[1]=9
	tests := []struct {
		name   string
		data   []byte
		labels []string
		values []string
	}{
		{"no fields", file(4096), nil, nil},
		{"version only", []byte{1}, nil, nil},
		{"one zero byte after the version", []byte{1, 0}, nil, nil},
		{"unbuffered", file(64, field("a", "Q", 0xff, u64(42)...)), []string{"a"}, []string{"42"}},
		{"buffered wb=0 reads buffers[1]", file(64, field("b", "Q", 0, buffered...)), []string{"b"}, []string{"9"}},
		{"buffered wb=1 reads buffers[0]", file(64, field("b", "Q", 1, buffered...)), []string{"b"}, []string{"7"}},
		{"fields fill the file exactly", file(0, field("a", "?", 0xff, 1), field("c", "h", 0xff, 0xff, 0xff)),
			[]string{"a", "c"}, []string{"True", "-1"}},
		{"padded type signature", file(64, field("p", "   Q", 0xff, u64(5)...)), []string{"p"}, []string{"5"}},
		{"utf-8 label", file(64, field("ünï", "b", 0xff, 3)), []string{"ünï"}, []string{"3"}},
		{"string cut at NUL", file(64, field("s", "8s", 0xff, []byte("hi\x00stale")[:8]...)), []string{"s"}, []string{"hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := Stats(tt.data, l)
			if err != nil {
				t.Fatal(err)
			}
			if len(stats) != len(tt.labels) {
				t.Fatalf("got %d stats, want %d", len(stats), len(tt.labels))
			}
			for i, s := range stats {
				if s.Label != tt.labels[i] || s.Value.String() != tt.values[i] {
					t.Errorf("stat %d = %s %s, want %s %s", i, s.Label, s.Value, tt.labels[i], tt.values[i])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	good := field("ok", "Q", 0xff, u64(1)...)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"wrong version", append([]byte{2}, good...), ErrVersion},
		{"text file", []byte("root:x:0:0:root:/root:/bin/bash\n"), ErrVersion},
		{"label size past the end", []byte{1, 0xff, 0x00, 'a'}, ErrTruncated},
		{"lone label size byte", []byte{1, 5}, ErrTruncated},
		{"truncated type size", file(0, good, []byte{1, 0, 'x', 1})[:len(good)+5], ErrTruncated},
		{"truncated type", file(0, good, field("t", "Q", 0xff)[:6]), ErrTruncated},
		{"missing write buffer", file(0, field("t", "Q", 0xff)[:6]), ErrTruncated},
		{"truncated mid-value", file(0, good, field("t", "Q", 0xff, 1, 2, 3)), ErrTruncated},
		{"truncated second buffer", file(0, field("t", "Q", 0, u64(1)...)), ErrTruncated},
		{"unknown type", file(64, field("t", "z", 0xff, 0)), ErrSignature},
		{"two values", file(64, field("t", "2Q", 0xff, make([]byte, 16)...)), ErrSignature},
		{"empty type", file(64, field("t", "", 0xff)), ErrSignature},
		{"bad write buffer", file(64, field("t", "Q", 7, make([]byte, 16)...)), ErrWriteBuffer},
		{"huge string past the end", file(64, field("t", "999999s", 0xff)), ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
			if err.Error() == "" {
				t.Error("empty message")
			}
		})
	}
}

// histogramSeeds are the fuzz targets' histogram groups, good and bad:
// buckets of the writer's schema and of a coarser one, a window at the
// lowest bound, a crafted descriptor, schema, type code or write buffer,
// and counts not aligned in memory.
func histogramSeeds() []craft {
	ok := v1.Desc{Schema: 6, Lo: 1, N: 3}
	return []craft{
		{d: ok, under: 1, over: 2, counts: []uint64{3, 4, 5}, min: 0.5, max: 9},
		{d: v1.Desc{Schema: 6, Lo: -1407, N: 40}, counts: make([]uint64, 40)},
		{d: v1.Desc{Schema: 3, Lo: 5, N: 17}, counts: make([]uint64, 17)},
		{d: ok, desc: " "}, {d: v1.Desc{Schema: 9, N: 3}}, {d: ok, code: "Q16x"}, {d: ok, wb: 1},
		{d: ok, misalign: true}, {d: v1.Desc{Schema: 6, Lo: v1.MinDescLo, N: 2}, counts: []uint64{1, 1}},
	}
}

// FuzzParse checks that no input makes Parse or reading values panic, and
// that a parsed layout stays inside the data.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "python-v1", "*.mmstats"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(file(64, field("s", "\t \n\v\f\r  8s", 0, make([]byte, 16)...)))
	f.Add(file(64, field("b", "Q", 0, make([]byte, 16)...)))
	f.Add([]byte{1, 0xff, 0xff})
	// Histogram groups (metadata v2, bucket descriptors), good and bad.
	for _, c := range histogramSeeds() {
		f.Add(c.bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		if l.End > len(data) {
			t.Fatalf("layout end %d past %d bytes", l.End, len(data))
		}
		for i := range l.Fields {
			if f := &l.Fields[i]; f.End() > len(data) {
				t.Fatalf("field %q ends at %d past %d bytes", f.Label, f.End(), len(data))
			}
			ReadValue(data, &l.Fields[i])
		}
		// Streaming reads the same stats, and so does the index a File
		// keeps.
		want, werr := Stats(data, l)
		var got []Stat
		gerr := ScanStats(data, func(s *Stat) bool { got = append(got, *s); return true })
		if (werr == nil) != (gerr == nil) || (werr == nil && len(want) > 0 && !reflect.DeepEqual(got, want)) || len(got) != len(want) {
			t.Fatalf("ScanStats = %v, %v; Stats = %v, %v", got, gerr, want, werr)
		}
		x := newIndex()
		if err := x.extend(data); err != nil || x.len() != len(l.Fields) || x.end != l.End {
			t.Fatalf("index: %v, %d fields, end %d; layout %d, %d", err, x.len(), x.end, len(l.Fields), l.End)
		}
		for i := range l.Fields {
			if f, err := x.field(data, i, true); err != nil || !reflect.DeepEqual(f, l.Fields[i]) {
				t.Fatalf("index field %d = %+v, %v; want %+v", i, f, err, l.Fields[i])
			}
		}
		// Histograms: read, merged and asked for quantiles, whatever the
		// descriptor says.
		var h, m Histogram
		for i := range l.Fields {
			if l.Fields[i].HasBuckets() {
				if err := ReadHistogram(data, l, i, &h); err == nil {
					h.Quantile(0.99)
					m.Merge(&h)
					m.Quantile(0.5)
				}
			}
		}
	})
}
