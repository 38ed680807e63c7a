package mmash

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// TestListingKept: once the directory's times are older than a listing
// (dirTrustAge before it), the next requests give its names without
// listing it again, and answer the same; a name that comes, goes or is
// renamed has the directory listed again, and the answer follows it.
// (On a file system whose directories' times cannot be trusted the
// listing is made at every request.)
func TestListingKept(t *testing.T) {
	defer func(age time.Duration) { dirTrustAge = age }(dirTrustAge)
	dirTrustAge = 100 * time.Millisecond
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.mmstats"), filepath.Join(dir, "b.mmstats")
	v1file.Write(t, a, v1file.Unbuffered("hits", "Q", v1file.U64(1)))
	v1file.Write(t, b, v1file.Unbuffered("hits", "Q", v1file.U64(2)))
	s := newTestServer(t, dir)
	want := func(what string, files map[string]float64) {
		t.Helper()
		r := get(t, s, "/metrics")
		for _, name := range []string{"a.mmstats", "b.mmstats", "c.mmstats", "d.mmstats"} {
			v, there := files[name]
			got, ok := metricValue(t, r.body, "mmstats_hits", name)
			if ok != there || ok && got != v {
				t.Fatalf("%s: %s: %v, %v; want %v, %v\n%s", what, name, got, ok, v, there, r.body)
			}
		}
	}
	want("at first", map[string]float64{"a.mmstats": 1, "b.mmstats": 2})
	l := s.cache.lister
	if l == nil {
		t.Fatal("no lister")
	}
	if !l.local {
		t.Logf("%s: not a file system whose directories' times are trusted: listed at every request", dir)
	}
	time.Sleep(2 * dirTrustAge)
	want("listed when old", map[string]float64{"a.mmstats": 1, "b.mmstats": 2})
	reads := l.reads
	for range 3 {
		want("kept", map[string]float64{"a.mmstats": 1, "b.mmstats": 2})
	}
	if l.local && l.reads != reads {
		t.Errorf("%d listings for 3 requests of an unchanged directory", l.reads-reads)
	}

	// Every change of names is seen at once, whatever the age.
	v1file.Write(t, filepath.Join(dir, "c.mmstats"), v1file.Unbuffered("hits", "Q", v1file.U64(3)))
	want("a file came", map[string]float64{"a.mmstats": 1, "b.mmstats": 2, "c.mmstats": 3})
	time.Sleep(2 * dirTrustAge)
	want("listed", map[string]float64{"a.mmstats": 1, "b.mmstats": 2, "c.mmstats": 3})
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	want("a file went", map[string]float64{"b.mmstats": 2, "c.mmstats": 3})
	time.Sleep(2 * dirTrustAge)
	want("listed", map[string]float64{"b.mmstats": 2, "c.mmstats": 3})
	if err := os.Rename(b, filepath.Join(dir, "d.mmstats")); err != nil {
		t.Fatal(err)
	}
	want("renamed", map[string]float64{"c.mmstats": 3, "d.mmstats": 2})
	time.Sleep(2 * dirTrustAge)
	want("listed", map[string]float64{"c.mmstats": 3, "d.mmstats": 2})
	// Replaced under its name (a restarted writer's file).
	tmp := filepath.Join(dir, "new.tmp")
	v1file.Write(t, tmp, v1file.Unbuffered("hits", "Q", v1file.U64(7)))
	if err := os.Rename(tmp, filepath.Join(dir, "c.mmstats")); err != nil {
		t.Fatal(err)
	}
	want("replaced", map[string]float64{"c.mmstats": 7, "d.mmstats": 2})
	if l.local && l.reads == reads {
		t.Error("never listed again")
	}
}
