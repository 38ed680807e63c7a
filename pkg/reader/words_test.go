package reader_test

import (
	"errors"
	"os"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// LoadWords, Words.Load and LoadEach read what Value reads, for the
// fields that WordAt accepts (8-byte numbers), and a mapping that shrank
// under them gives an error, not a crash.
func TestLoadWords(t *testing.T) {
	var s struct {
		N mmstats.Counter `mmstats:"n"`
		G mmstats.Uint64  `mmstats:"g"`
		F mmstats.Float64 `mmstats:"f"`
		B mmstats.Bool    `mmstats:"b"`
		I mmstats.Int32   `mmstats:"i"`
	}
	w := newWriter(t, &s)
	s.N.Add(7)
	s.G.Set(3)
	s.F.Set(2.5)
	f, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var offs []int
	var want []reader.Value
	var sigs []reader.Signature
	for label, isWord := range map[string]bool{"n": true, "g": true, "f": true, "b": false, "i": false} {
		i, fl, ok := f.Lookup(label)
		if !ok {
			t.Fatalf("no field %s", label)
		}
		off, ok := fl.WordAt()
		if ok != isWord {
			t.Fatalf("%s: WordAt %v, want %v", label, ok, isWord)
		}
		if ok {
			v, _ := f.Value(i)
			offs, want, sigs = append(offs, off), append(want, v), append(sigs, fl.Sig)
		}
	}
	got := make([]uint64, len(offs))
	if err := f.LoadWords(offs, got); err != nil {
		t.Fatal(err)
	}
	ws, ok := f.Words()
	if !ok {
		t.Fatal("a mapped file has no Words")
	}
	each := make([]uint64, 2*len(offs))
	if k, err := reader.LoadEach([]reader.Words{ws, ws}, [][]int{offs, offs}, each, len(offs)); k != 2 || err != nil {
		t.Fatalf("LoadEach: %d, %v", k, err)
	}
	for k := range offs {
		for _, w := range []uint64{got[k], each[k], each[len(offs)+k]} {
			if v := sigs[k].DecodeWord(w); v != want[k] {
				t.Errorf("word %d: %v, want %v", k, v, want[k])
			}
		}
	}
	if err := f.LoadWords([]int{1 << 30}, got); err == nil {
		t.Error("an offset past the end is read")
	}
	// The file shrinks under the mapping: a fault, caught.
	if err := os.Truncate(w.Path(), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.LoadWords(offs, got); !errors.Is(err, reader.ErrFault) {
		t.Errorf("LoadWords on a truncated mapping: %v, want ErrFault", err)
	}
	if k, err := reader.LoadEach([]reader.Words{ws}, [][]int{offs}, each, len(offs)); k != 0 || !errors.Is(err, reader.ErrFault) {
		t.Errorf("LoadEach on a truncated mapping: %d, %v", k, err)
	}
}
