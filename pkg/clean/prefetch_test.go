//go:build linux

package clean

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestPrefetchOrderAndStop: files read ahead are judged and reported in
// the order given, across directories, with the same results as one at
// a time; a Clean stopped by its report, at any point, leaves no
// descriptor of the files read ahead open, and removes nothing after.
func TestPrefetchOrderAndStop(t *testing.T) {
	uid := uint64(os.Getuid())
	child := testutil.StartSleep(t, nil)
	live := v1file.Python(uint32(child.Process.Pid), uid, testutil.Now())
	stale := v1file.Python(testutil.ExitedPID(t), uid, testutil.Now())
	var dirs [2]string
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	write := func() []string {
		var paths []string
		for d, dir := range dirs {
			for i := range 3 * prefetchAhead {
				data, name := live, fmt.Sprintf("%d-%03d-live.mmstats", d, i)
				if i%2 == 1 {
					data, name = stale, fmt.Sprintf("%d-%03d-stale.mmstats", d, i)
				}
				paths = append(paths, testutil.WriteFile(t, dir, name, data))
			}
			// Neither read ahead nor stats files: handled by the run.
			paths = append(paths, testutil.WriteFile(t, dir, ".mmstats.0123456789abcdef.tmp", stale))
		}
		return paths
	}
	paths := write()
	before := openFDs(t)
	var got []string
	err := (&Cleaner{DryRun: true}).Clean(paths, func(r *Result) error {
		want := Alive
		switch {
		case r.Kind == Temporary:
			want = r.Decision // judged by its own rules
		case len(r.Path) > len("-stale.mmstats") && r.Path[len(r.Path)-len("-stale.mmstats"):] == "-stale.mmstats":
			want = WouldRemove
		}
		if r.Decision != want {
			t.Errorf("%s: %v (%v, %v), want %v", r.Path, r.Decision, r.Reason, r.Err, want)
		}
		got = append(got, r.Path)
		return nil
	})
	if err != nil || fmt.Sprint(got) != fmt.Sprint(paths) {
		t.Fatalf("Clean = %v; reported in another order:\n%v\nwant\n%v", err, got, paths)
	}
	if n := openFDs(t); n != before {
		t.Fatalf("%d descriptors open after Clean, %d before", n, before)
	}
	stop := errors.New("stop")
	for _, after := range []int{1, prefetchBatch, prefetchAhead + 3, len(paths) - 1} {
		n := 0
		err := (&Cleaner{}).Clean(paths, func(r *Result) error {
			if n++; n == after {
				return stop
			}
			return nil
		})
		if err != stop || n != after {
			t.Fatalf("stopped after %d: err %v, %d reports", after, err, n)
		}
		if n := openFDs(t); n != before {
			t.Fatalf("stopped after %d: %d descriptors open, %d before", after, n, before)
		}
		for _, p := range paths[after:] {
			if !testutil.Exists(t, p) {
				t.Fatalf("stopped after %d: %s removed", after, p)
			}
		}
		for _, p := range paths[:after] { // put back what went
			if !testutil.Exists(t, p) {
				data := live
				if p[len(p)-len("-stale.mmstats"):] == "-stale.mmstats" {
					data = stale
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
