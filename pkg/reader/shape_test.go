package reader

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/mmstats/mmstats/internal/v1"
)

// shapeSeeds are files with every kind of field a shape has checks for:
// the Python writer's files, the Go writer's, buffered and unbuffered values, strings
// under a sequence word, histogram groups.
func shapeSeeds(t testing.TB) [][]byte {
	paths, _ := filepath.Glob(filepath.Join("testdata", "python-v1", "*.mmstats"))
	gos, _ := filepath.Glob(filepath.Join("testdata", "go-v1", "*.mmstats"))
	if len(gos) == 0 {
		t.Fatal("no testdata/go-v1 files")
	}
	paths = append(paths, gos...)
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	out = append(out,
		file(64, field("b", "Q", 0, make([]byte, 16)...), field("a", "Q", 0xff, u64(3)...)),
		file(96, field("s", "\t \n\v\f\r  8s", 0, make([]byte, 16)...)),
	)
	ok := v1.Desc{Schema: 6, Lo: 1, N: 3}
	for _, c := range []craft{
		{d: ok, under: 1, over: 2, counts: []uint64{3, 4, 5}, min: 0.5, max: 9},
		{d: ok, wb: 1}, {d: ok, misalign: true},
	} {
		out = append(out, c.bytes())
	}
	return out
}

// TestShapeIsParse: a shape's layout and index are those Parse and an
// index give for the file it was made from, and the file matches it.
func TestShapeIsParse(t *testing.T) {
	for k, data := range shapeSeeds(t) {
		sh := newShape(data, len(data))
		if sh == nil {
			t.Fatalf("seed %d: no shape", k)
		}
		checkShapeIsParse(t, sh, data)
	}
}

// checkShapeIsParse fails unless data matches sh and parses to its
// layout and index.
func checkShapeIsParse(t *testing.T, sh *shape, data []byte) {
	t.Helper()
	if !sh.matches(data, len(data)) {
		t.Fatalf("the file does not match its shape")
	}
	l, err := Parse(data)
	if err != nil {
		t.Fatalf("matches the shape but Parse = %v", err)
	}
	if l.End != sh.layout.End || len(l.Fields)+len(sh.layout.Fields) > 0 && !reflect.DeepEqual(l.Fields, sh.layout.Fields) {
		t.Fatalf("matches the shape but parses to another layout:\n%+v\nshape:\n%+v", l.Fields, sh.layout.Fields)
	}
	x := newIndex()
	if err := x.extend(data); err != nil || !slices.Equal(x.offs, sh.idx.offs) || !slices.Equal(x.groups, sh.idx.groups) || x.end != sh.idx.end || x.head != sh.idx.head {
		t.Fatalf("matches the shape but indexes to another: %v %+v, shape %+v", err, x, sh.idx)
	}
}

// FuzzShapeMatchesParse checks what sharing layouts rests on: a file
// that matches a shape (shape.matches) parses, byte for byte, to the
// shape's layout and index. It makes a shape of a file, changes bytes
// of a copy of it (or its size), and whenever the copy still matches,
// parses it.
func FuzzShapeMatchesParse(f *testing.F) {
	for _, s := range shapeSeeds(f) {
		f.Add(s, uint32(0), []byte{})
		f.Add(s, uint32(3), []byte{' '})
		f.Add(s, uint32(1), []byte{0})
		f.Add(s, uint32(len(s)-1), []byte{1})
	}
	f.Fuzz(func(t *testing.T, data []byte, off uint32, patch []byte) {
		sh := newShape(data, len(data))
		if sh == nil {
			return // not a valid file, or too large to share
		}
		checkShapeIsParse(t, sh, data)
		// The copy: patch written at off (the top bit of off appends it
		// instead, another size).
		other := slices.Clone(data)
		if off&(1<<31) != 0 {
			other = append(other, patch...)
		} else if len(other) > 0 {
			o := int(off) % len(other)
			copy(other[o:], patch)
		}
		if sh.matches(other, len(other)) {
			checkShapeIsParse(t, sh, other)
		}
	})
}
