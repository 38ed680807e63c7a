package reader_test

import (
	"errors"
	"os"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// LoadSame reads, from each of several mappings, the words that
// LoadWords reads from each, stops at a mapping that shrank (ErrFault)
// or is too short, and reports where.
func TestLoadSame(t *testing.T) {
	type stats struct {
		N mmstats.Counter `mmstats:"n"`
		G mmstats.Uint64  `mmstats:"g"`
		F mmstats.Float64 `mmstats:"f"`
	}
	var files []*reader.File
	var ws []reader.Words
	for i := range 3 {
		var s stats
		w := newWriter(t, &s)
		s.N.Add(uint64(7 + i))
		s.G.Set(uint64(3 * i))
		s.F.Set(2.5 + float64(i))
		f, err := reader.Open(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		wd, ok := f.Words()
		if !ok {
			t.Fatal("a mapped file has no Words")
		}
		files, ws = append(files, f), append(ws, wd)
	}
	var offs []int
	for _, l := range []string{"f", "n", "g"} { // not in order
		_, fl, ok := files[0].Lookup(l)
		off, isWord := fl.WordAt()
		if !ok || !isWord {
			t.Fatalf("%s: no word", l)
		}
		offs = append(offs, off)
	}
	const stride = 4
	got := make([]uint64, stride*len(ws))
	if k, err := reader.LoadSame(ws, offs, got, stride); k != len(ws) || err != nil {
		t.Fatalf("LoadSame: %d, %v", k, err)
	}
	want := make([]uint64, len(offs))
	for k, f := range files {
		if err := f.LoadWords(offs, want); err != nil {
			t.Fatal(err)
		}
		for j := range offs {
			if got[k*stride+j] != want[j] {
				t.Errorf("file %d word %d: %#x, want %#x", k, j, got[k*stride+j], want[j])
			}
		}
	}
	if k, err := reader.LoadSame(ws, []int{offs[0], 1 << 30}, got, stride); k != 0 || err == nil {
		t.Errorf("an offset past the end: %d, %v", k, err)
	}
	if k, err := reader.LoadSame(ws, []int{-8}, got, stride); err == nil {
		t.Errorf("a negative offset: %d, %v", k, err)
	}
	// The second file shrinks under its mapping: a fault, caught, there.
	if err := os.Truncate(files[1].Path(), 0); err != nil {
		t.Fatal(err)
	}
	if k, err := reader.LoadSame(ws, offs, got, stride); k != 1 || !errors.Is(err, reader.ErrFault) {
		t.Errorf("LoadSame over a truncated mapping: %d, %v; want 1, ErrFault", k, err)
	}
}

// Unchanged is true exactly when Update has nothing to do: not after
// the writer appended a field, again once Update has read it.
func TestUnchanged(t *testing.T) {
	var s struct {
		N mmstats.Counter `mmstats:"n"`
	}
	w := newWriter(t, &s)
	f, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Unchanged() {
		t.Fatal("a file just opened is not Unchanged")
	}
	s.N.Inc() // values are not the layout
	if !f.Unchanged() {
		t.Fatal("a value written made the file changed")
	}
	var extra mmstats.Counter
	if err := w.Add("appended", &extra); err != nil {
		t.Fatal(err)
	}
	if f.Unchanged() {
		t.Fatal("a field appended: still Unchanged")
	}
	if changed, err := f.Update(); !changed || err != nil {
		t.Fatalf("Update: %v, %v", changed, err)
	}
	if !f.Unchanged() {
		t.Error("after Update read the field: not Unchanged")
	}
	if err := os.Truncate(w.Path(), 0); err != nil {
		t.Fatal(err)
	}
	if f.Unchanged() {
		t.Error("a file truncated under its mapping is Unchanged")
	}
	f.Close()
	if f.Unchanged() {
		t.Error("a closed file is Unchanged")
	}
}

// UnchangedWords finds the first file that is not Unchanged: a field
// appended, a file truncated under its mapping (a fault, caught).
func TestUnchangedWords(t *testing.T) {
	type stats struct {
		N mmstats.Counter `mmstats:"n"`
	}
	var writers []*mmstats.File
	var wds []reader.Words
	for range 3 {
		var s stats
		w := newWriter(t, &s)
		f, err := reader.Open(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		wd, ok := f.Words()
		if !ok {
			t.Fatal("a mapped file has no Words")
		}
		writers, wds = append(writers, w), append(wds, wd)
	}
	each := func() int { return reader.UnchangedWords(wds) }
	if k := each(); k != 3 {
		t.Fatalf("UnchangedWords of files just opened: %d, want 3", k)
	}
	var extra mmstats.Counter
	if err := writers[2].Add("appended", &extra); err != nil {
		t.Fatal(err)
	}
	if k := each(); k != 2 {
		t.Errorf("a field appended to the third: %d, want 2", k)
	}
	if err := os.Truncate(writers[1].Path(), 0); err != nil {
		t.Fatal(err)
	}
	if k := each(); k != 1 {
		t.Errorf("the second truncated: %d, want 1", k)
	}
	if k := reader.UnchangedWords([]reader.Words{{}}); k != 0 {
		t.Errorf("the zero Words: %d, want 0", k)
	}
}
