package pollstats

import (
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

// checkBases checks that p's baselines are each file's own: every file
// bound has a row, which names it as its owner, no two files share one,
// and the free rows have none; when hot, file k of p.active has row k.
func checkBases(t *testing.T, p *poller) {
	t.Helper()
	s := &p.bases
	if len(s.words) != len(s.owner)*s.n || len(s.kinds) != len(s.words) {
		t.Fatalf("%d rows of %d columns: %d words, %d kinds", len(s.owner), s.n, len(s.words), len(s.kinds))
	}
	rows := 0
	for path, f := range p.files {
		if f.slot == 0 {
			if f.idx != nil {
				t.Errorf("%s: bound, without baselines", path)
			}
			continue
		}
		rows++
		if k := int(f.slot) - 1; k >= len(s.owner) || s.owner[k] != f || f.bases != s {
			t.Errorf("%s: row %d is not its own", path, k)
		}
	}
	free := map[int32]bool{}
	for _, k := range s.free {
		if s.owner[k] != nil || free[k] {
			t.Errorf("row %d: free, owned or twice in the list", k)
		}
		free[k] = true
	}
	if rows+len(free) != len(s.owner) {
		t.Errorf("%d rows: %d owned, %d free", len(s.owner), rows, len(free))
	}
	if p.hot == hotOn {
		for k, f := range p.active {
			if int(f.slot) != k+1 {
				t.Errorf("hot: file %d of the active ones (%s) has row %d", k, f.path, f.slot-1)
			}
		}
	}
}

// The rows of the baselines: made for a file once, the zero baselines
// when reused, kept with their files when ordered, freed for others.
func TestBaseStore(t *testing.T) {
	s := &baseStore{n: 2}
	s.reserve(3)
	files := make([]*tracked, 4)
	for k := range files {
		files[k] = newTracked(string(rune('a'+k)), fileID(k))
		s.alloc(files[k])
		files[k].prev().set(0, base{reader.Uint, uint64(10 * k)})
		files[k].prev().set(1, base{reader.Float, uint64(k)})
	}
	slot := files[2].slot
	s.alloc(files[2]) // has one
	if files[2].slot != slot {
		t.Errorf("a file's row made again: %d, then %d", slot, files[2].slot)
	}
	want := func(f *tracked, k int) {
		t.Helper()
		if got := f.prev().get(0); got != (base{reader.Uint, uint64(10 * k)}) {
			t.Errorf("file %d: column 0 %v", k, got)
		}
		if got := f.prev().get(1); got != (base{reader.Float, uint64(k)}) {
			t.Errorf("file %d: column 1 %v", k, got)
		}
	}
	s.release(files[1])
	if files[1].slot != 0 || files[1].prev().len() != 0 || files[1].prev().get(0) != (base{}) {
		t.Error("a file released has baselines still")
	}
	files[1].prev().set(0, base{reader.Uint, 1}) // nothing to set
	// The files in another order, one of them new (the free row reused,
	// zero), the released one out of them.
	nf := newTracked("e", 9)
	s.alloc(nf)
	if nf.prev().get(0) != (base{}) || nf.prev().get(1) != (base{}) {
		t.Errorf("a reused row: %v %v, want none", nf.prev().get(0), nf.prev().get(1))
	}
	order := []*tracked{files[3], nf, files[0]}
	if !s.order(order) {
		t.Fatal("order refused files with rows")
	}
	for k, f := range order {
		if int(f.slot) != k+1 || s.owner[k] != f {
			t.Errorf("file %s: row %d, want %d", f.path, f.slot-1, k)
		}
	}
	for k, f := range files {
		if k != 1 {
			want(f, k)
		}
	}
	if s.order([]*tracked{files[1]}) {
		t.Error("order took a file without a row")
	}
}
