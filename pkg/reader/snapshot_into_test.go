package reader_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

// TestReadFDInto reads files of one layout and of another, one after the
// other, into the same File: each read gives that file's stats, as
// reader.ReadFile does, and reading a file of a known layout again
// allocates nothing.
func TestReadFDInto(t *testing.T) {
	dir := t.TempDir()
	var a, b sameShape
	var o otherShape
	var paths []string
	for i, s := range []any{&a, &b, &o} {
		paths = append(paths, newWriterIn(t, dir, fmt.Sprintf("%d.mmstats", i), s).Path())
	}
	a.Hits.Add(3)
	b.Hits.Add(5)
	o.Hits.Add(7)
	var snap reader.Snapshot
	defer snap.Close()
	var f reader.File
	fds := map[string]*os.File{} // open while the File reads through them
	read := func(p string) error {
		fd := fds[p]
		if fd == nil {
			var err error
			if fd, err = os.Open(p); err != nil {
				t.Fatal(err)
			}
			fds[p] = fd
			t.Cleanup(func() { fd.Close() })
		}
		st, err := fd.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return snap.ReadFDInto(&f, int(fd.Fd()), p, st.Size())
	}
	for _, p := range []string{paths[0], paths[1], paths[2], paths[0], paths[2], paths[1]} {
		if err := read(p); err != nil {
			t.Fatal(err)
		}
		got, err := f.Stats()
		want, werr := reader.ReadFile(p)
		if err != nil || werr != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: read %v, %v; the file reads %v, %v", p, got, err, want, werr)
		}
		if f.Path() != p {
			t.Errorf("Path %q, want %q", f.Path(), p)
		}
	}
	fd, err := os.Open(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	st, _ := fd.Stat()
	allocs := testing.AllocsPerRun(100, func() {
		if err := snap.ReadFDInto(&f, int(fd.Fd()), paths[1], st.Size()); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per read of a file of a known layout, want 0", allocs)
	}
}
