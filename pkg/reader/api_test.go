package reader_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestOpenFileReadsTheFileGiven: OpenFile maps the very file an
// *os.File refers to (here opened through an os.Root, under a relative
// name), even after its path was replaced, and leaves the *os.File open.
func TestOpenFileReadsTheFileGiven(t *testing.T) {
	dir := t.TempDir()
	v1file.Write(t, filepath.Join(dir, "a.mmstats"), v1file.Unbuffered("a", "Q", v1file.U64(42)))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	file, err := root.Open("a.mmstats")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	// Another file takes the name: OpenFile still reads the one opened.
	v1file.Write(t, filepath.Join(dir, "b.mmstats"), v1file.Unbuffered("b", "Q", v1file.U64(7)))
	if err := os.Rename(filepath.Join(dir, "b.mmstats"), filepath.Join(dir, "a.mmstats")); err != nil {
		t.Fatal(err)
	}
	f, err := reader.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := f.Stats()
	if err != nil || len(stats) != 1 || stats[0].Label != "a" || stats[0].Value.Uint() != 42 {
		t.Fatalf("Stats = %v, %v; want a = 42", stats, err)
	}
	if f.Path() != file.Name() {
		t.Errorf("Path = %q, want the file's name %q", f.Path(), file.Name())
	}
	// Nothing new in the file: Update goes through the open file, not the
	// path, which names another file now.
	if changed, err := f.Update(); err != nil || changed {
		t.Errorf("Update = %v, %v", changed, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Stat(); err != nil {
		t.Errorf("Close closed the caller's file: %v", err)
	}
}

// TestOpenFileRefusesNonRegularFiles: a directory or a device opened by
// the caller is not mapped.
func TestOpenFileRefusesNonRegularFiles(t *testing.T) {
	for _, path := range []string{t.TempDir(), "/dev/null"} {
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = reader.OpenFile(file)
		file.Close()
		var pe *reader.PathError
		if !errors.Is(err, reader.ErrNotRegular) || !errors.As(err, &pe) || pe.Path != path {
			t.Errorf("OpenFile(%s) = %v, want ErrNotRegular naming the file", path, err)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty.mmstats")
	os.WriteFile(empty, nil, 0o644)
	file, _ := os.Open(empty)
	defer file.Close()
	if _, err := reader.OpenFile(file); !errors.Is(err, reader.ErrEmpty) {
		t.Errorf("OpenFile(empty) = %v, want ErrEmpty", err)
	}
}

// TestOpenFileUpdateAfterGrowth: a File from OpenFile has no path to
// follow when its writer grows the file: Update says ErrReplaced, and
// opening the path again reads the larger copy.
func TestOpenFileUpdateAfterGrowth(t *testing.T) {
	w := newWriter(t, nil)
	file, err := os.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, err := reader.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	grow(t, w, 40)
	if _, err := r.Update(); !errors.Is(err, reader.ErrReplaced) {
		t.Fatalf("Update after growth = %v, want ErrReplaced", err)
	}
	again, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, _, ok := again.Lookup(label(39)); !ok {
		t.Error("the grown file lacks the last field added")
	}
}

// label is the label of the i-th field that grow adds.
func label(i int) string { return fmt.Sprintf("appended.%02d.%s", i, strings.Repeat("x", 200)) }

// grow adds n counters with long labels to w, enough to make it grow
// past its first page; counter i holds i.
func grow(t *testing.T, w *mmstats.File, n int) []mmstats.Counter {
	t.Helper()
	counters := make([]mmstats.Counter, n)
	for i := range counters {
		if err := w.Add(label(i), &counters[i]); err != nil {
			t.Fatal(err)
		}
		counters[i].Add(uint64(i))
	}
	if w.Size() <= 4096 {
		t.Fatalf("file did not grow: %d bytes", w.Size())
	}
	return counters
}

func TestLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.mmstats")
	v1file.Write(t, path,
		v1file.Unbuffered("a", "Q", v1file.U64(1)),
		v1file.Unbuffered("web.stats.sys.pid", "I", v1file.U32(4242)),
		v1file.Unbuffered("b\xffc", "Q", v1file.U64(3)), // invalid UTF-8: reads as "bc"
		v1file.Unbuffered("a", "Q", v1file.U64(4)),      // a duplicate: the first one counts
		v1file.Unbuffered("s", "8s", v1file.Str("text", 8)),
	)
	f, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tt := range []struct {
		label string
		i     int
		value string
	}{
		{"a", 0, "1"},
		{"web.stats.sys.pid", 1, "4242"},
		{"bc", 2, "3"},
		{"s", 4, "text"},
		{"sys.pid", -1, ""}, // whole labels only
		{"", -1, ""},
		{"b\xffc", -1, ""}, // as Field.Label reads it
		{"nope", -1, ""},
	} {
		i, fl, ok := f.Lookup(tt.label)
		if i != tt.i || ok != (tt.i >= 0) {
			t.Errorf("Lookup(%q) = %d, %v; want %d", tt.label, i, ok, tt.i)
			continue
		}
		if !ok {
			continue
		}
		if fl.Label != f.Fields()[i].Label || fl.Offset != f.Fields()[i].Offset {
			t.Errorf("Lookup(%q) gave field %+v, want %+v", tt.label, fl, f.Fields()[i])
		}
		if v, err := f.Value(i); err != nil || v.String() != tt.value {
			t.Errorf("value of %q = %v, %v; want %s", tt.label, v, err, tt.value)
		}
	}
	f.Close()
	if i, _, ok := f.Lookup("a"); ok || i != -1 {
		t.Errorf("Lookup after Close = %d, %v", i, ok)
	}
}

// TestLookupAllocatesNothing: a poller looks fields up in thousands of
// files; a label that is not there costs no garbage.
func TestLookupAllocatesNothing(t *testing.T) {
	var fields []v1file.Field
	for i := range 100 {
		fields = append(fields, v1file.Unbuffered(fmt.Sprintf("field.%03d", i), "Q", v1file.U64(uint64(i))))
	}
	path := v1file.Write(t, filepath.Join(t.TempDir(), "many.mmstats"), fields...)
	f, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Lookup("field.099") // parses and caches the field
	if n := testing.AllocsPerRun(100, func() {
		if _, _, ok := f.Lookup("field.099"); !ok {
			t.Fatal("not found")
		}
		if _, _, ok := f.Lookup("missing"); ok {
			t.Fatal("found")
		}
	}); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

// TestLookupTruncated: a file truncated while mapped gives no field, not
// a crash; reading says why.
func TestLookupTruncated(t *testing.T) {
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
	if i, _, ok := r.Lookup("hits"); ok {
		t.Errorf("Lookup in a truncated file = %d", i)
	}
	if _, err := r.Value(0); !errors.Is(err, reader.ErrFault) {
		t.Errorf("Value = %v, want ErrFault", err)
	}
}

// BenchmarkUpdate is what a poller pays each interval for each file that
// did not change: Update of a mapped file with nothing new.
func BenchmarkUpdate(b *testing.B) {
	w, err := mmstats.New(nil, mmstats.Options{Dir: b.TempDir(), Filename: "b.mmstats"})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Remove()
	f, err := reader.Open(w.Path())
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		if changed, err := f.Update(); changed || err != nil {
			b.Fatal(changed, err)
		}
	}
}
