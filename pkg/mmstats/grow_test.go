//go:build linux || darwin || freebsd

package mmstats_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestAttachLosesNoUpdate races updates with File.Add attaching the field,
// many times: every increment reaches the file. (The old bind copied the
// in-memory value to the file before switching the pointer, and lost an
// increment in 73 of 3,000 attaches.)
func TestAttachLosesNoUpdate(t *testing.T) {
	rounds := 3000
	if testing.Short() {
		rounds = 500
	}
	// One updater per other CPU: more would take turns with the attaching
	// goroutine by whole time slices.
	goroutines := max(1, runtime.GOMAXPROCS(0)-1)
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	type fields struct {
		c    mmstats.Counter
		i    mmstats.Int32
		u    mmstats.Uint64
		done atomic.Uint64 // increments made, of each
	}
	all := make([]*fields, rounds)
	for r := range all {
		fs := &fields{}
		all[r] = fs
		var wg, running sync.WaitGroup
		var stop atomic.Bool
		for range goroutines {
			wg.Add(1)
			running.Add(1)
			go func() {
				defer wg.Done()
				n := uint64(0)
				for ; n < 10 || !stop.Load(); n++ {
					fs.c.Inc()
					fs.i.Add(1)
					fs.u.Add(2)
					if n == 0 {
						running.Done()
					}
				}
				fs.done.Add(n)
			}()
		}
		running.Wait() // updating in memory: the attach races with them
		for k, fl := range []mmstats.Field{&fs.c, &fs.i, &fs.u} {
			if err := f.Add(fmt.Sprintf("r%d.%d", r, k), fl); err != nil {
				t.Fatal(err)
			}
		}
		stop.Store(true)
		wg.Wait()
	}
	f.Refresh() // carries updates that straggled into memory after the switch
	got := readAll(t, f.Path())
	lost := 0
	for r, fs := range all {
		want := fs.done.Load()
		c, i, u := got[fmt.Sprintf("r%d.0", r)].Value.Uint(), got[fmt.Sprintf("r%d.1", r)].Value.Int(), got[fmt.Sprintf("r%d.2", r)].Value.Uint()
		if c != want || i != int64(int32(want)) || u != 2*want {
			lost++
			if lost <= 5 {
				t.Errorf("round %d: counter %d, int %d, uint64 %d in the file; want %d, %d, %d", r, c, i, u, want, int32(want), 2*want)
			}
		}
		if fs.c.Value() != c {
			t.Errorf("round %d: Value %d, file %d", r, fs.c.Value(), c)
		}
	}
	if lost > 0 {
		t.Errorf("updates lost in %d of %d attaches", lost, rounds)
	}
}

// TestGrowthLosesNoUpdate hammers fields from many goroutines while
// fields are added until the file has grown several times: the counts in
// the file, as pkg/reader reads them, are exact, and every growth left a
// new file at the path.
func TestGrowthLosesNoUpdate(t *testing.T) {
	for range 3 { // each growth has a short window for the race: try a few files
		growHammered(t)
	}
}

func growHammered(t *testing.T) {
	var s struct {
		C mmstats.Counter `mmstats:"c"`
		I mmstats.Int32   `mmstats:"i"`
		U mmstats.Uint64  `mmstats:"u"`
		D mmstats.Float64 `mmstats:"d"`
		B mmstats.Int8    `mmstats:"b"`
		S mmstats.String  `mmstats:"s,size=16"`
		A mmstats.Average `mmstats:"a"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	const goroutines = 8
	var stop atomic.Bool
	var wg sync.WaitGroup
	counts := make([]uint64, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := uint64(0); ; n++ {
				if stop.Load() {
					counts[g] = n
					return
				}
				s.C.Inc()
				s.I.Add(1)
				s.U.Add(3)
				s.D.Add(1)
				s.B.Set(7)
				s.S.Set("constant")
				s.A.Observe(2)
			}
		}()
	}
	var growths int
	size := f.Size()
	id := inode(t, f.Path())
	for i := 0; growths < 8; i++ {
		var c mmstats.Counter
		if err := f.Add(fmt.Sprintf("added%04d.%s", i, strings.Repeat("g", 40)), &c); err != nil {
			t.Fatal(err)
		}
		c.Add(uint64(i))
		if f.Size() != size {
			growths++
			size = f.Size()
			if now := inode(t, f.Path()); now == id {
				t.Errorf("growth to %d bytes extended the file in place", size)
			} else {
				id = now
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	var total uint64
	for _, n := range counts {
		total += n
	}
	got := readAll(t, f.Path())
	if c, i, u, d := got["c"].Value.Uint(), got["i"].Value.Int(), got["u"].Value.Uint(), got["d"].Value.Float(); c != total || i != int64(int32(total)) || u != 3*total || d != float64(total) {
		t.Errorf("after %d growths: c=%d i=%d u=%d d=%v; want %d, %d, %d, %d", growths, c, i, u, d, total, int32(total), 3*total, total)
	}
	if got["b"].Value.Int() != 7 || got["s"].Value.Str() != "constant" || got["a"].Value.Float() != 2 {
		t.Errorf("b=%v s=%v a=%v; want 7, constant, 2", got["b"].Value, got["s"].Value, got["a"].Value)
	}
	for i := 0; ; i++ {
		st, ok := got[fmt.Sprintf("added%04d.%s", i, strings.Repeat("g", 40))]
		if !ok {
			if i < 100 {
				t.Errorf("only %d added fields", i)
			}
			break
		}
		if st.Value.Uint() != uint64(i) {
			t.Errorf("added field %d = %v", i, st.Value)
		}
	}
	t.Logf("%d updates of each field from %d goroutines over %d growths (to %d bytes)", total, goroutines, growths, size)
}

// TestGrowthLeavesMappedReadersAFrozenFile: a reader that mapped the file
// before it grew keeps a complete, parseable file whose field list ends
// inside its mapping (a zero word after the last field), with the values
// of the moment of growth; the path names the new, larger file.
func TestGrowthLeavesMappedReadersAFrozenFile(t *testing.T) {
	var s struct {
		C mmstats.Counter `mmstats:"c"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	old, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	rf, err := reader.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	size := f.Size()
	var atGrowth uint64
	for i := 0; f.Size() == size; i++ {
		atGrowth = s.C.Value()
		var c mmstats.Counter
		if err := f.Add(fmt.Sprintf("x%03d.%s", i, strings.Repeat("y", 50)), &c); err != nil {
			t.Fatal(err)
		}
		s.C.Inc()
		// Every state of the file keeps a zero word after its last field.
		data, err := os.ReadFile(f.Path())
		if err != nil {
			t.Fatal(err)
		}
		l, err := reader.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if l.End+4 > len(data) || string(data[l.End:l.End+4]) != "\x00\x00\x00\x00" {
			t.Fatalf("after field %d the list ends at %d of %d bytes without a zero word", i, l.End, len(data))
		}
	}
	s.C.Inc()
	stats, err := rf.Stats()
	if err != nil {
		t.Fatalf("reading the old mapping after growth: %v", err)
	}
	frozen := map[string]uint64{}
	for _, st := range stats {
		frozen[st.Label] = st.Value.Uint()
	}
	if want := atGrowth; frozen["c"] != want {
		t.Errorf("old mapping: c=%d, want %d (its value at the growth)", frozen["c"], want)
	}
	if got := readAll(t, f.Path()); got["c"].Value.Uint() != s.C.Value() {
		t.Errorf("new file: c=%d, want %d", got["c"].Value.Uint(), s.C.Value())
	}
	if len(old) != size || f.Size() <= size {
		t.Errorf("sizes: old file %d, File said %d, now %d", len(old), size, f.Size())
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}
