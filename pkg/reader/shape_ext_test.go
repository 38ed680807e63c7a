package reader_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// sameShape is the model of the workers of one program: their files
// have the same layout, and readers share it.
type sameShape struct {
	Hits mmstats.Counter `mmstats:"hits"`
	Name mmstats.String  `mmstats:"name"`
}

// otherShape has a layout of the same size as sameShape's, one label
// differing by a byte: only the layout's bytes tell them apart.
type otherShape struct {
	Hits mmstats.Counter `mmstats:"hitz"`
	Name mmstats.String  `mmstats:"name"`
}

// checkOwnFields checks that r reads exactly the fields labels, through
// every way of reading them, and that values read are r's own.
func checkOwnFields(t *testing.T, what string, r *reader.File, labels []string) {
	t.Helper()
	if r.Len() != len(labels) || len(r.Fields()) != len(labels) {
		t.Fatalf("%s: Len %d, %d Fields; want %d", what, r.Len(), len(r.Fields()), len(labels))
	}
	if l := r.SharedLayout(); l != nil && len(l.Fields) != len(labels) {
		t.Fatalf("%s: shares a layout of %d fields, has %d", what, len(l.Fields), len(labels))
	}
	var scanned, stats []string
	if err := r.ScanFields(func(i int, f *reader.Field) bool { scanned = append(scanned, f.Label); return true }); err != nil {
		t.Fatalf("%s: ScanFields: %v", what, err)
	}
	if err := r.ScanStats(func(s *reader.Stat) bool { stats = append(stats, s.Label); return true }); err != nil {
		t.Fatalf("%s: ScanStats: %v", what, err)
	}
	want := strings.Join(labels, ",")
	for _, got := range [][]string{scanned, stats, labelsOf(r.Fields())} {
		if g := strings.Join(got, ","); g != want {
			t.Fatalf("%s: fields %s\nwant %s", what, g, want)
		}
	}
	for i, l := range labels {
		if k, _, ok := r.Lookup(l); !ok || k != i {
			t.Fatalf("%s: Lookup(%q) = %d, %v; want %d", what, l, k, ok, i)
		}
		if _, err := r.Value(i); err != nil {
			t.Fatalf("%s: Value(%d) %s: %v", what, i, l, err)
		}
	}
}

func labelsOf(fields []reader.Field) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.Label)
	}
	return out
}

// TestChangedLayoutIsNeverShared: files of one layout share it, and a
// file whose layout changes (fields appended in place, the file grown
// into a larger copy, another file of the same size moved over its
// name) is read through its own layout from then on, by the File that
// follows it and by every File and Snapshot opened after, while the
// files that kept the layout still share it, unchanged.
func TestChangedLayoutIsNeverShared(t *testing.T) {
	dir := t.TempDir()
	var a, b sameShape
	wa, wb := newWriterIn(t, dir, "a.mmstats", &a), newWriterIn(t, dir, "b.mmstats", &b)
	a.Hits.Add(1)
	b.Hits.Add(2)
	ra, err := reader.Open(wa.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := reader.Open(wb.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	shared := ra.SharedLayout()
	if shared == nil || rb.SharedLayout() != shared {
		t.Fatalf("files of one layout do not share it: %p, %p", shared, rb.SharedLayout())
	}
	base := labelsOf(shared.Fields)
	checkOwnFields(t, "b", rb, base)

	// Fields appended in place: the page has room.
	var extra mmstats.Counter
	if err := wa.Add("appended", &extra); err != nil {
		t.Fatal(err)
	}
	extra.Add(7)
	grown := append(append([]string(nil), base...), "appended")
	if changed, err := ra.Update(); err != nil || !changed {
		t.Fatalf("Update after an append = %v, %v", changed, err)
	}
	if ra.SharedLayout() == shared {
		t.Fatal("a file with a field appended still reads through the shared layout")
	}
	checkOwnFields(t, "a after the append", ra, grown)
	if v, err := ra.Value(len(base)); err != nil || v.Uint() != 7 {
		t.Fatalf("appended = %v, %v; want 7", v, err)
	}
	// The others, and the shared layout itself, are as they were.
	if rb.SharedLayout() != shared || len(shared.Fields) != len(base) {
		t.Fatalf("the shared layout changed: %d fields", len(shared.Fields))
	}
	checkOwnFields(t, "b after a's append", rb, base)
	if k, _, _ := rb.Lookup("hits"); k < 0 {
		t.Fatal("no hits in b")
	} else if v, err := rb.Value(k); err != nil || v.Uint() != 2 {
		t.Fatalf("b's hits = %v, %v; want 2", v, err)
	}
	// Opened afresh, mapped or read once, each file has its own fields
	// (a's file is the size of b's: only its bytes tell).
	var snap reader.Snapshot
	defer snap.Close()
	for _, p := range []string{wa.Path(), wb.Path(), wa.Path()} {
		want := base
		if p == wa.Path() {
			want = grown
		}
		r, err := reader.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		checkOwnFields(t, "opened "+filepath.Base(p), r, want)
		r.Close()
		s, err := snap.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		checkOwnFields(t, "snapshot of "+filepath.Base(p), s, want)
	}

	// The file grown into a larger copy (long labels need more pages):
	// a follows it.
	more := make([]mmstats.Counter, 20)
	for i := range more {
		label := fmt.Sprintf("more.%02d.%s", i, strings.Repeat("x", 300))
		if err := wa.Add(label, &more[i]); err != nil {
			t.Fatal(err)
		}
		grown = append(grown, label)
	}
	if changed, err := ra.Update(); err != nil || !changed {
		t.Fatalf("Update after growth = %v, %v", changed, err)
	}
	checkOwnFields(t, "a after growth", ra, grown)
	checkOwnFields(t, "b after a's growth", rb, base)
	s, err := snap.Open(wa.Path())
	if err != nil {
		t.Fatal(err)
	}
	checkOwnFields(t, "snapshot of a after growth", s, grown)

	// Another file of the same size, one byte of a label apart, moved
	// over b's name.
	var o otherShape
	wo, err := mmstats.New(&o, mmstats.Options{Dir: t.TempDir(), Filename: "o.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	if wo.Size() != wb.Size() {
		t.Fatalf("sizes %d and %d: the test needs files of one size", wo.Size(), wb.Size())
	}
	if err := os.Rename(wo.Path(), wb.Path()); err != nil {
		t.Fatal(err)
	}
	other := strings.Split(strings.Replace(strings.Join(base, "\n"), "hits", "hitz", 1), "\n")
	r, err := reader.Open(wb.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkOwnFields(t, "another file under b's name", r, other)
	s, err = snap.Open(wb.Path())
	if err != nil {
		t.Fatal(err)
	}
	checkOwnFields(t, "snapshot of another file under b's name", s, other)
	checkOwnFields(t, "b's old file", rb, base)
}

type timedShape struct {
	Hits    mmstats.Counter `mmstats:"hits"`
	Request mmstats.Timer   `mmstats:"request"`
	Path    mmstats.String  `mmstats:"path"`
}

// TestSnapshotReadsEachFileOwnValues: a Snapshot reads the files of one
// layout into one buffer, checking their layouts rather than reading
// them whole; each file's values, strings and histogram buckets are its
// own, as reader.Open reads them, never the file's before.
func TestSnapshotReadsEachFileOwnValues(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 4 {
		var s timedShape
		w, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("t%d.mmstats", i)})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Remove()
		s.Hits.Add(uint64(10 * (i + 1)))
		for k := range 50 * (i + 1) {
			s.Request.Observe(time.Duration(k*(i+1)*(i+1)) * time.Millisecond)
		}
		s.Path.Set(fmt.Sprintf("/file/%d", i))
		w.Refresh()
		paths = append(paths, w.Path())
	}
	var snap reader.Snapshot
	defer snap.Close()
	for round := range 2 { // the second round: every layout known
		for _, p := range paths {
			want, err := reader.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := snap.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			if round == 1 && got.SharedLayout() == nil {
				t.Fatalf("%s: files of one layout read without sharing it", filepath.Base(p))
			}
			ws, err := want.Stats()
			if err != nil {
				t.Fatal(err)
			}
			gs, err := got.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(gs) != fmt.Sprint(ws) {
				t.Fatalf("round %d, %s: snapshot stats\n%v\nwant\n%v", round, filepath.Base(p), gs, ws)
			}
			k, _, ok := want.Lookup("request")
			if !ok {
				t.Fatal("no request")
			}
			var wh, gh reader.Histogram
			if err := want.ReadHistogram(k, &wh); err != nil {
				t.Fatal(err)
			}
			if err := got.ReadHistogram(k, &gh); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(gh) != fmt.Sprint(wh) || gh.Count == 0 {
				t.Fatalf("round %d, %s: snapshot histogram %+v, want %+v", round, filepath.Base(p), gh, wh)
			}
			want.Close()
		}
	}
}

// TestSnapshotOfAShrunkFile: a file that shrinks after its size was
// taken (ReadFD is given the size before) is an error, ErrFault as a
// mapping's fault, when bytes read are gone, whether its layout is one
// a file read before had (only its bytes read) or not (read whole); or,
// when all the bytes read are still there, the file's stats as they
// are; never a panic, nor the bytes of the file read before.
func TestSnapshotOfAShrunkFile(t *testing.T) {
	dir := t.TempDir()
	var a, b sameShape
	wa, wb := newWriterIn(t, dir, "a.mmstats", &a), newWriterIn(t, dir, "b.mmstats", &b)
	size := int64(wa.Size())
	var snap reader.Snapshot
	defer snap.Close()
	for _, known := range []bool{false, true} {
		if known { // a's layout is known: b is read by its ranges
			if _, err := snap.Open(wa.Path()); err != nil {
				t.Fatal(err)
			}
		}
		for _, keep := range []int64{0, 1, 64, size / 2, size - 1} {
			data, err := os.ReadFile(wb.Path())
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "shrunk.mmstats")
			if err := os.WriteFile(p, data[:keep], 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			r, err := snap.ReadFD(int(f.Fd()), p, size)
			var got []reader.Stat
			if err == nil {
				got, err = r.Stats()
			}
			f.Close()
			if err == nil {
				// What it read lies in the bytes left, as a mapping
				// reads a page that is still there: the file's stats
				// as they are now.
				want, werr := reader.ReadFile(p)
				if werr != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("known layout %v, %d of %d bytes left: read %v; the file reads %v, %v", known, keep, size, got, want, werr)
				}
				continue
			}
			if !errors.Is(err, reader.ErrFault) {
				t.Errorf("known layout %v, %d of %d bytes left: %v, want ErrFault", known, keep, size, err)
			}
		}
	}
}

// histShape is sameShape with a Timer: its group's parts are found once
// for the shape.
type histShape struct {
	Hits mmstats.Counter   `mmstats:"hits"`
	Lat  mmstats.Timer     `mmstats:"lat"`
	Size mmstats.Histogram `mmstats:"size,windows=none"`
}

// TestSharedHistogramParts: the files of one layout read their own
// histograms, whichever of them read its group first (the parts found
// are the shape's, the counts each file's), before and after one of
// them has a group appended that the others do not have.
func TestSharedHistogramParts(t *testing.T) {
	dir := t.TempDir()
	var a, b histShape
	wa, wb := newWriterIn(t, dir, "a.mmstats", &a), newWriterIn(t, dir, "b.mmstats", &b)
	for range 3 {
		a.Lat.Observe(time.Millisecond)
	}
	for range 5 {
		b.Lat.Observe(time.Second)
	}
	a.Size.Observe(4096)
	wa.Refresh()
	wb.Refresh()
	ra, err := reader.Open(wa.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := reader.Open(wb.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	shared := ra.SharedLayout()
	if shared == nil || rb.SharedLayout() != shared {
		t.Fatal("the two files do not share their layout")
	}
	check := func(what string, r *reader.File, label string, count uint64, max float64) {
		t.Helper()
		var h reader.Histogram
		i := indexOf(t, r, label)
		if err := r.ReadHistogram(i, &h); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if h.Count != count || h.Total() != count || h.Max != max {
			t.Fatalf("%s: count %d, total %d, max %v; want %d, %v", what, h.Count, h.Total(), h.Max, count, max)
		}
	}
	for range 2 {
		check("a", ra, "lat", 3, 0.001)
		check("b", rb, "lat", 5, 1)
		check("a's size", ra, "size", 1, 4096)
		check("b's size", rb, "size", 0, 0)
	}
	// A group appended to a: read through a's own layout, and b's as it was.
	var extra mmstats.Timer
	if err := wa.Add("later", &extra); err != nil {
		t.Fatal(err)
	}
	extra.Observe(2 * time.Second)
	wa.Refresh()
	if changed, err := ra.Update(); err != nil || !changed {
		t.Fatalf("Update after an append = %v, %v", changed, err)
	}
	if ra.SharedLayout() == shared {
		t.Fatal("a file with a group appended still reads through the layout it had")
	}
	check("a after the append", ra, "lat", 3, 0.001)
	check("a's appended group", ra, "later", 1, 2)
	check("b after a's append", rb, "lat", 5, 1)
}
