package reader_test

import (
	"encoding/binary"
	"github.com/mmstats/mmstats/internal/v1"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// everyKind writes a file of the Go writer with every kind of field,
// groups (histograms, timers) and strings included.
func everyKind(t *testing.T) (path string, data []byte) {
	t.Helper()
	var s struct {
		Hits  mmstats.Counter   `mmstats:"hits"`
		Name  mmstats.String    `mmstats:"name"`
		Load  mmstats.Float64   `mmstats:"load"`
		Req   mmstats.Timer     `mmstats:"req"`
		Size  mmstats.Histogram `mmstats:"size,unit=bytes,windows=none"`
		Up    mmstats.Bool      `mmstats:"up"`
		After mmstats.Counter   `mmstats:"after"`
	}
	w := newWriter(t, &s)
	s.Hits.Add(3)
	s.Name.Set("worker")
	s.Load.Set(0.5)
	s.Req.Observe(12 * time.Millisecond)
	s.Size.Observe(1 << 20)
	s.Up.Set(true)
	w.Refresh()
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	return w.Path(), data
}

// TestFileMatchesParse: what a File builds from its index (Layout,
// Fields, Value, Stats, ScanFields, ScanStats) is what Parse and Stats
// give, for files of both writers.
func TestFileMatchesParse(t *testing.T) {
	paths, _ := filepath.Glob("testdata/python-v1/*.mmstats")
	goPath, _ := everyKind(t)
	for _, path := range append(paths, goPath) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := reader.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		wantStats, err := reader.Stats(data, want)
		if err != nil {
			t.Fatal(err)
		}
		f, err := reader.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Len() != len(want.Fields) {
			t.Errorf("%s: Len %d, want %d", path, f.Len(), len(want.Fields))
		}
		// Values come from the field cache before the layout is built.
		for i := range want.Fields {
			v, err := f.Value(i)
			if err != nil || !reflect.DeepEqual(v, wantStats[i].Value) {
				t.Errorf("%s: Value(%d) = %v, %v; want %v", path, i, v, err, wantStats[i].Value)
			}
		}
		var scanned []reader.Field
		if err := f.ScanFields(func(i int, fl *reader.Field) bool {
			if i != len(scanned) {
				t.Errorf("%s: ScanFields index %d, want %d", path, i, len(scanned))
			}
			scanned = append(scanned, *fl)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(scanned, want.Fields) {
			t.Errorf("%s: ScanFields\n%+v\nwant\n%+v", path, scanned, want.Fields)
		}
		var streamed, fromData []reader.Stat
		if err := f.ScanStats(func(s *reader.Stat) bool { streamed = append(streamed, *s); return true }); err != nil {
			t.Fatal(err)
		}
		if err := reader.ScanStats(data, func(s *reader.Stat) bool { fromData = append(fromData, *s); return true }); err != nil {
			t.Fatal(err)
		}
		stats, err := f.Stats()
		if err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string][]reader.Stat{"File.ScanStats": streamed, "ScanStats": fromData, "File.Stats": stats} {
			if !reflect.DeepEqual(got, wantStats) {
				t.Errorf("%s: %s\n%+v\nwant\n%+v", path, name, got, wantStats)
			}
		}
		if l := f.Layout(); !reflect.DeepEqual(l.Fields, want.Fields) || l.End != want.End {
			t.Errorf("%s: Layout\n%+v\nwant\n%+v", path, l, want)
		}
		f.Close()
		if f.Fields() != nil || f.Len() != 0 {
			t.Errorf("%s: fields after Close", path)
		}
		if err := f.ScanStats(func(*reader.Stat) bool { return true }); err != reader.ErrClosed {
			t.Errorf("%s: ScanStats after Close: %v", path, err)
		}
	}
}

// TestScanStopsEarly: ScanFields and ScanStats stop when fn says so.
func TestScanStopsEarly(t *testing.T) {
	path, _ := everyKind(t)
	f, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	f.ScanFields(func(int, *reader.Field) bool { n++; return n < 2 })
	m := 0
	f.ScanStats(func(*reader.Stat) bool { m++; return m < 5 }) // inside the timer's group
	if n != 2 || m != 5 {
		t.Errorf("ScanFields saw %d fields, ScanStats %d stats; want 2 and 5", n, m)
	}
}

// appendField appends a v1 field to b.
func appendField(b []byte, label, typ string, value ...byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(len(label)))
	b = append(b, label...)
	b = binary.NativeEndian.AppendUint16(b, uint16(len(typ)))
	b = append(b, typ...)
	b = append(b, v1.Unbuffered)
	return append(b, value...)
}

// TestHugeGroupReadsInChunks: a group far longer than any writer makes
// (a hostile file) is read whole, MaxGroup fields at a time, by every
// way of reading stats.
func TestHugeGroupReadsInChunks(t *testing.T) {
	head, _ := v1.EncodeMeta(v1.Meta{Role: int(reader.GroupHead)})
	member, _ := v1.EncodeMeta(v1.Meta{Role: int(reader.GroupMember)})
	n := 2*reader.MaxGroup + 5
	data := appendField([]byte{reader.Version1}, "head", string(head[:])+"               B", 1)
	for i := range n {
		data = appendField(data, "m", string(member[:])+"B", byte(i))
	}
	data = appendField(data, "after", "B", 9)
	l, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if l.Fields[0].Meta.Role != reader.GroupHead || l.Fields[n].Group != 0 {
		t.Fatalf("not one group: %+v %+v", l.Fields[0], l.Fields[n])
	}
	stats, err := reader.Stats(data, l)
	if err != nil || len(stats) != n+2 {
		t.Fatalf("Stats: %d stats, %v", len(stats), err)
	}
	for i := range n {
		if got := stats[1+i].Value.Uint(); got != uint64(byte(i)) {
			t.Fatalf("member %d = %d", i, got)
		}
	}
	if stats[n+1].Label != "after" || stats[n+1].Value.Uint() != 9 {
		t.Errorf("after the group: %+v", stats[n+1])
	}
	var streamed []reader.Stat
	if err := reader.ScanStats(data, func(s *reader.Stat) bool { streamed = append(streamed, *s); return true }); err != nil || !reflect.DeepEqual(streamed, stats) {
		t.Errorf("ScanStats: %d stats, %v", len(streamed), err)
	}
	for _, stop := range []int{1, reader.MaxGroup, reader.MaxGroup + 1, reader.MaxGroup + 3, n + 1} {
		calls := 0
		reader.ScanStats(data, func(*reader.Stat) bool { calls++; return calls < stop })
		if calls != stop {
			t.Errorf("ScanStats told to stop at %d: %d calls", stop, calls)
		}
	}
}

// TestFileHoldsFourBytesAField: an open File of a million tiny fields
// (8 bytes each in the file) holds about 4 bytes of heap for each, not
// a parsed Field (about 200 bytes): so a reader's memory stays a small
// multiple of the file's size.
func TestFileHoldsFourBytesAField(t *testing.T) {
	const fields = 1 << 20
	data := []byte{reader.Version1}
	for i := range fields {
		data = appendField(data, string(rune('a'+i%26)), "B", byte(i))
	}
	path := filepath.Join(t.TempDir(), "tiny.mmstats")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perField := float64(after.HeapAlloc-before.HeapAlloc) / fields
	if f.Len() != fields {
		t.Fatalf("%d fields", f.Len())
	}
	t.Logf("an open file holds %.1f bytes of heap a field", perField)
	if perField > 8 {
		t.Errorf("an open file holds %.1f bytes of heap a field, want about 4", perField)
	}
	n := 0
	if err := f.ScanStats(func(*reader.Stat) bool { n++; return true }); err != nil || n != fields {
		t.Errorf("ScanStats: %d stats, %v", n, err)
	}
	runtime.KeepAlive(f)
	f.Close()
}
