package reader_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

// TestReadFDHint reads files through one hint: two of one layout, one of
// another layout of the same size (a label a byte apart), a copy of the
// first whose version byte is broken, one of the first again: each read
// gives what reading that file alone gives (the file of the other
// layout is never read through the hint's), and a file of the hint's
// layout is read allocating nothing.
func TestReadFDHint(t *testing.T) {
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
	a.Name.Set("a")
	o.Name.Set("o")
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.mmstats")
	data[0] = 9 // not version 1
	if err := os.WriteFile(broken, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var snap reader.Snapshot
	defer snap.Close()
	var f reader.File
	var hint reader.ShapeHint
	open := func(p string) (*os.File, int64) {
		fd, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fd.Close() })
		st, err := fd.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return fd, st.Size()
	}
	order := []string{paths[0], paths[1], paths[2], paths[0], broken, paths[1], paths[2], paths[2]}
	for k, p := range order {
		fd, size := open(p)
		err := snap.ReadFDHint(&f, int(fd.Fd()), p, size, &hint)
		want, werr := reader.ReadFile(p)
		if werr != nil {
			if err == nil {
				t.Errorf("read %d, %s: no error; reading it alone says %v", k, filepath.Base(p), werr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("read %d, %s: %v", k, filepath.Base(p), err)
		}
		// The layout first, as a caller reading a field or two sees it
		// (Stats reads the whole file again, and checks it).
		for i, fl := range f.Fields() {
			if i >= len(want) || fl.Label != want[i].Label {
				t.Errorf("read %d, %s: field %d is %q; the file has %v", k, filepath.Base(p), i, fl.Label, want)
				break
			}
		}
		got, err := f.Stats()
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("read %d, %s: %v, %v; the file reads %v", k, filepath.Base(p), got, err, want)
		}
		if f.Path() != p {
			t.Errorf("Path %q, want %q", f.Path(), p)
		}
	}
	fd, size := open(paths[1])
	allocs := testing.AllocsPerRun(100, func() {
		if err := snap.ReadFDHint(&f, int(fd.Fd()), paths[1], size, &hint); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per read of a file of the hint's layout, want 0", allocs)
	}
}
