package convention

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

func TestTotalsTemplate(t *testing.T) {
	for tmpl, want := range map[string]string{
		"{CMD}-{PID}-{TID}.mmstats": "{CMD}-totals.mmstats",
		"{CMD}-{PID}.mmstats":       "{CMD}-totals.mmstats",
		"{CMD}_{TID}_{PID}.mmstats": "{CMD}_totals.mmstats",
		"{TID}-{PID}.mmstats":       "totals.mmstats",
		"{PID}{TID}":                "totals",
		"{PID}.{TID}.x":             "totals.x",
		"a{PID}b{PID}":              "atotalsbtotals",
		"{CMD}-{TID}-{TID}-{PID}":   "{CMD}-totals",
	} {
		got, ok := TotalsTemplate(tmpl)
		if !ok || got != want {
			t.Errorf("TotalsTemplate(%q) = %q, %v; want %q", tmpl, got, ok, want)
		}
	}
	for _, tmpl := range []string{"{CMD}.mmstats", "{CMD}-{TID}.mmstats", "fixed.mmstats", "{pid}"} {
		if got, ok := TotalsTemplate(tmpl); ok {
			t.Errorf("TotalsTemplate(%q) = %q: a template without {PID} has no totals file", tmpl, got)
		}
	}
	// The users' globs match the totals file as they match the files
	// it folds.
	name, _ := TotalsTemplate(DefaultFilenameForTest)
	for _, glob := range []string{"mmstats-demo-*", "mmstats-*", Pattern} {
		if ok, _ := filepath.Match(glob, "mmstats-demo-"+name[len("{CMD}-"):]); !ok {
			t.Errorf("%s does not match the totals file of %s", glob, DefaultFilenameForTest)
		}
	}
}

// DefaultFilenameForTest is pkg/mmstats.DefaultFilename.
const DefaultFilenameForTest = "{CMD}-{PID}-{TID}.mmstats"

func TestValidTotalsName(t *testing.T) {
	for name, want := range map[string]bool{
		"mmstats-demo-totals.mmstats": true,
		"totals":                      true,
		"":                            false,
		".x-totals.mmstats":           false, // hidden: cleanstats' and temporary names
		"../x-totals.mmstats":         false,
		"d/x-totals.mmstats":          false,
		"x.mmstats":                   false, // a stats file, not a totals file
		"x-totals\x00.mmstats":        false,
		string(make([]byte, 256)):     false,
	} {
		if ValidTotalsName(name) != want {
			t.Errorf("ValidTotalsName(%q) = %v", name, !want)
		}
	}
}

func TestFoldedRoundTrip(t *testing.T) {
	entries := []FoldedEntry{
		{ID: 1, Name: "mmstats-demo-12-12.mmstats"},
		{ID: math.MaxUint64, Name: ".mmstats-demo-12-12.mmstats.cleanstats-0123456789abcdef"},
		{ID: 0x0123456789abcdef, Name: "with space\nnewline\t%25 :colon é\x7f\xff"},
	}
	enc := string(AppendFolded(nil, entries))
	want := "0000000000000001:mmstats-demo-12-12.mmstats ffffffffffffffff:.mmstats-demo-12-12.mmstats.cleanstats-0123456789abcdef " +
		"0123456789abcdef:with%20space%0Anewline%09%2525%20:colon%20%C3%A9%7F%FF"
	if enc != want {
		t.Fatalf("AppendFolded = %q\nwant           %q", enc, want)
	}
	got, err := ParseFolded(enc)
	if err != nil || !slices.Equal(got, entries) {
		t.Fatalf("ParseFolded = %+v, %v", got, err)
	}
	if got, err := ParseFolded(""); err != nil || len(got) != 0 {
		t.Errorf("ParseFolded(\"\") = %v, %v", got, err)
	}
	n := 0
	ScanFolded(enc, func(FoldedEntry) bool { n++; return false })
	if n != 1 {
		t.Errorf("ScanFolded went on after fn returned false: %d calls", n)
	}
}

func TestParseFoldedRejects(t *testing.T) {
	for _, s := range []string{
		"0000000000000001",                       // no name
		"0000000000000001:",                      // empty name
		"000000000000001:x",                      // 15 digits
		"00000000000000010:x",                    // 17 digits
		"000000000000000G:x",                     // not hex
		"000000000000000A:x",                     // upper case
		"0000000000000001:x  0000000000000002:y", // two spaces
		"0000000000000001:x ",                    // trailing space
		"0000000000000001:a%2",                   // short escape
		"0000000000000001:a%zz",                  // bad escape
		"0000000000000001;x",                     // no colon
	} {
		calls := 0
		err := ScanFolded(s, func(FoldedEntry) bool { calls++; return true })
		if !errors.Is(err, ErrFolded) || calls != 0 {
			t.Errorf("ScanFolded(%q) = %v after %d calls, want ErrFolded and none", s, err, calls)
		}
	}
}
