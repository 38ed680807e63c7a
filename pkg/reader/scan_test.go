package reader

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestScanSeesWhatParseSees(t *testing.T) {
	paths, _ := filepath.Glob("testdata/python-v1/*.mmstats")
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		l, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		var got []Field
		if err := Scan(data, func(f *Field) bool { got = append(got, *f); return true }); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(got) != len(l.Fields) {
			t.Fatalf("%s: Scan saw %d fields, Parse %d", p, len(got), len(l.Fields))
		}
		for i := range got {
			if got[i] != l.Fields[i] {
				t.Errorf("%s: field %d: Scan %+v, Parse %+v", p, i, got[i], l.Fields[i])
			}
		}
	}
}

func TestScanStopsAndFails(t *testing.T) {
	if err := Scan(nil, func(*Field) bool { return true }); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if err := Scan([]byte{2}, func(*Field) bool { return true }); !errors.Is(err, ErrVersion) {
		t.Errorf("version: %v", err)
	}
	data, err := os.ReadFile("testdata/python-v1/counters.mmstats")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := Scan(data, func(*Field) bool { n++; return false }); err != nil || n != 1 {
		t.Errorf("stop after one: n=%d err=%v", n, err)
	}
	if err := Scan(data[:20], func(*Field) bool { return true }); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated: %v", err)
	}
}
