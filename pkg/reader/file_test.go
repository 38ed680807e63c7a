package reader_test

import (
	"errors"
	"fmt"
	"github.com/mmstats/mmstats/internal/v1"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// newWriter creates a stats file in a temporary directory.
func newWriter(t *testing.T, model any) *mmstats.File {
	t.Helper()
	return newWriterIn(t, t.TempDir(), "w.mmstats", model)
}

// newWriterIn creates the stats file dir/name of model, removed when the
// test ends.
func newWriterIn(t *testing.T, dir, name string, model any) *mmstats.File {
	t.Helper()
	f, err := mmstats.New(model, mmstats.Options{Dir: dir, Filename: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Remove() })
	return f
}

func TestFileSeesLiveUpdates(t *testing.T) {
	var s struct {
		Hits mmstats.Counter `mmstats:"hits"`
		Name mmstats.String  `mmstats:"name"`
	}
	w := newWriter(t, &s)
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Fields()[0].Label != "hits" || r.IsCopy() {
		t.Fatalf("unexpected layout %+v", r.Fields()[0])
	}
	for i := uint64(1); i <= 3; i++ {
		s.Hits.Inc()
		s.Name.Set("round " + string(rune('0'+i)))
		v, err := r.Value(0)
		if err != nil || v.Uint() != i {
			t.Fatalf("hits = %v, %v; want %d", v, err, i)
		}
		n, err := r.Value(1)
		if err != nil || n.Str() != "round "+string(rune('0'+i)) {
			t.Fatalf("name = %q, %v", n.Str(), err)
		}
	}
}

func TestFileUpdateSeesAppendedFieldsAndGrowth(t *testing.T) {
	w := newWriter(t, nil)
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before := len(r.Fields())
	if changed, err := r.Update(); err != nil || changed {
		t.Fatalf("Update with nothing new = %v, %v", changed, err)
	}
	// Enough long labels to need several more pages.
	counters := make([]mmstats.Counter, 40)
	for i := range counters {
		label := fmt.Sprintf("appended.%02d.%s", i, strings.Repeat("x", 200))
		if err := w.Add(label, &counters[i]); err != nil {
			t.Fatal(err)
		}
		counters[i].Add(uint64(i))
	}
	if w.Size() <= 4096 {
		t.Fatalf("file did not grow: %d bytes", w.Size())
	}
	changed, err := r.Update()
	if err != nil || !changed {
		t.Fatalf("Update = %v, %v", changed, err)
	}
	if got := len(r.Fields()); got != before+40 {
		t.Fatalf("%d fields after Update, want %d", got, before+40)
	}
	v, err := r.Value(before + 39)
	if err != nil || v.Uint() != 39 {
		t.Fatalf("last appended counter = %v, %v", v, err)
	}
	// The writer grew the file by replacing it with a larger copy; the
	// reader followed it, so later updates show through it.
	counters[39].Inc()
	counters[0].Add(5)
	if v, err := r.Value(before + 39); err != nil || v.Uint() != 40 {
		t.Fatalf("last appended counter after an update = %v, %v; want 40", v, err)
	}
	if v, err := r.Value(before); err != nil || v.Uint() != 5 {
		t.Fatalf("first appended counter after an update = %v, %v; want 5", v, err)
	}
}

func TestFileUpdateTellsAReplacedFile(t *testing.T) {
	w := newWriter(t, nil)
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	old, err := os.OpenFile(w.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// Another file, with another layout, moved over the name, and the old
	// file marked superseded as a growth marks it: not a continuation.
	var other struct {
		A mmstats.Counter `mmstats:"a.completely.different.label"`
	}
	w2, err := mmstats.New(&other, mmstats.Options{Dir: t.TempDir(), Filename: "other.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if err := os.Rename(w2.Path(), w.Path()); err != nil {
		t.Fatal(err)
	}
	if _, err := old.WriteAt([]byte{v1.Superseded}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Update(); !errors.Is(err, reader.ErrReplaced) {
		t.Fatalf("Update after another file took the name = %v, want ErrReplaced", err)
	}
}

func TestFileTruncatedWhileMappedGivesErrFault(t *testing.T) {
	var s struct {
		Hits mmstats.Counter `mmstats:"hits"`
	}
	w := newWriter(t, &s)
	r, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Truncate(w.Path(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stats(); !errors.Is(err, reader.ErrFault) {
		t.Fatalf("Stats after truncation = %v, want ErrFault", err)
	}
	if _, err := r.Value(0); !errors.Is(err, reader.ErrFault) {
		t.Fatalf("Value after truncation = %v, want ErrFault", err)
	}
}

func TestOpenRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.mmstats")
	if err := mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Open(fifo); !errors.Is(err, reader.ErrNotRegular) {
		t.Errorf("Open(fifo) = %v, want ErrNotRegular", err)
	}
	if _, err := reader.Open(dir); !errors.Is(err, reader.ErrNotRegular) {
		t.Errorf("Open(dir) = %v, want ErrNotRegular", err)
	}
	if _, err := reader.Open("/dev/null"); !errors.Is(err, reader.ErrNotRegular) {
		t.Errorf("Open(/dev/null) = %v, want ErrNotRegular", err)
	}
	empty := filepath.Join(dir, "empty.mmstats")
	os.WriteFile(empty, nil, 0o644)
	if _, err := reader.Open(empty); !errors.Is(err, reader.ErrEmpty) {
		t.Errorf("Open(empty) = %v, want ErrEmpty", err)
	}
	var pe *reader.PathError
	if _, err := reader.Open(empty); !errors.As(err, &pe) || pe.Path != empty {
		t.Errorf("error %v does not name the file", err)
	}
}

func TestOpenNoFollowRefusesSymlinks(t *testing.T) {
	w := newWriter(t, nil)
	link := filepath.Join(t.TempDir(), "link.mmstats")
	if err := os.Symlink(w.Path(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.OpenNoFollow(link); !errors.Is(err, reader.ErrSymlink) {
		t.Errorf("OpenNoFollow(symlink) = %v, want ErrSymlink", err)
	}
	f, err := reader.Open(link)
	if err != nil {
		t.Fatalf("Open follows symlinks: %v", err)
	}
	f.Close()
	if _, err := f.Stats(); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Stats after Close = %v, want ErrClosed", err)
	}
}

func TestMetadata(t *testing.T) {
	var s struct {
		Hits  mmstats.Counter   `mmstats:"hits"`
		Stamp mmstats.Float64   `mmstats:"stamp,kind=timestamp,unit=seconds"`
		Size  mmstats.Histogram `mmstats:"size,unit=bytes,windows=none"`
		Name  mmstats.String    `mmstats:"name"`
	}
	w := newWriter(t, &s)
	stats, err := reader.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]reader.Meta{
		"hits":        {Kind: reader.KindCounter, Aggregation: reader.AggrSum},
		"stamp":       {Kind: reader.KindTimestamp, Unit: "seconds", Aggregation: reader.AggrLatest},
		"size":        {Kind: reader.KindGauge, Unit: "bytes", Role: reader.GroupHead, Aggregation: reader.AggrWeightedAvg},
		"size.count":  {Kind: reader.KindCounter, Role: reader.GroupMember, Aggregation: reader.AggrSum},
		"size.min":    {Kind: reader.KindGauge, Unit: "bytes", Role: reader.GroupMember, Aggregation: reader.AggrMin},
		"size.p99":    {Kind: reader.KindGauge, Unit: "bytes", Role: reader.GroupMember, Aggregation: reader.AggrQuantile},
		"name":        {Kind: reader.KindInfo, Aggregation: reader.AggrNone},
		"sys.pid":     {Kind: reader.KindInfo, Aggregation: reader.AggrNone},
		"sys.flock":   {Kind: reader.KindGauge, Aggregation: reader.AggrNone},
		"sys.created": {Kind: reader.KindTimestamp, Unit: "seconds", Aggregation: reader.AggrLatest},
	}
	seen := 0
	for _, st := range stats {
		if m, ok := want[st.Label]; ok {
			seen++
			if st.Meta != m {
				t.Errorf("%s: meta %+v, want %+v", st.Label, st.Meta, m)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of %d labels", seen, len(want))
	}
	// Python's files have none.
	py, err := reader.ReadFile(filepath.Join("testdata", "python-v1", "defaults.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range py {
		if st.Meta != (reader.Meta{}) {
			t.Errorf("python file: %s has meta %+v", st.Label, st.Meta)
		}
	}
}

func TestMetadataIsWhitespaceToStruct(t *testing.T) {
	for k := 0; k <= v1.MaxKind; k++ {
		for u := range v1.Units() {
			for r := 0; r <= v1.MaxRole; r++ {
				prefix, ok := v1.EncodeMeta(v1.Meta{Kind: k, Unit: u, Role: r})
				if !ok {
					t.Fatalf("EncodeMeta(%d, %d, %d) failed", k, u, r)
				}
				sig, err := reader.ParseSignature(append(prefix, 'Q'))
				if err != nil || sig.Text != "Q" {
					t.Fatalf("metadata %q is not whitespace to struct: %v", prefix, err)
				}
			}
		}
	}
}

// TestStuckGroupsCostOneWait: a file whose groups all look stuck in an
// update (sequence words left odd, as by a writer killed mid-update, or
// crafted) reads in one bounded wait, not one per group, and its values
// are returned.
func TestStuckGroupsCostOneWait(t *testing.T) {
	var s struct {
		A mmstats.Histogram `mmstats:"a,windows=none"`
		B mmstats.Histogram `mmstats:"b,windows=none"`
		C mmstats.Histogram `mmstats:"c,windows=none"`
		D mmstats.Histogram `mmstats:"d,windows=none"`
		E mmstats.Histogram `mmstats:"e,windows=none"`
	}
	w := newWriter(t, &s)
	w.Close()
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	l, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	heads := 0
	for _, f := range l.Fields {
		if f.Meta.Role == reader.GroupHead {
			word := v1.EncodeSeq(7) // odd: an update in flight
			copy(data[f.Seq:], word[:])
			heads++
		}
	}
	if heads != 5 {
		t.Fatalf("%d group heads, want 5", heads)
	}
	waits := reader.CountFullWaits(t)
	stats, err := reader.Stats(data, l)
	if err != nil || len(stats) != len(l.Fields) {
		t.Fatalf("Stats = %d stats, %v", len(stats), err)
	}
	// One wait in all, not one per stuck group.
	if n := waits(); n != 1 {
		t.Errorf("reading 5 stuck groups spent the whole wait %d times, want 1", n)
	}
}
