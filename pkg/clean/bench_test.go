//go:build unix

package clean

import (
	"fmt"
	"os"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// BenchmarkClean judges 1000 files, half live and half stale, per
// iteration (a dry run, so that every iteration sees the same files).
func BenchmarkClean(b *testing.B) {
	dir := b.TempDir()
	live := v1file.Python(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now())
	stale := v1file.Python(testutil.ExitedPID(b), uint64(os.Getuid()), testutil.Now())
	var paths []string
	for i := range 1000 {
		data := live
		if i%2 == 1 {
			data = stale
		}
		paths = append(paths, testutil.WriteFile(b, dir, fmt.Sprintf("f%04d.mmstats", i), data))
	}
	c := &Cleaner{DryRun: true}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		c.Clean(paths, func(r *Result) error {
			if r.Decision == WouldRemove {
				n++
			}
			return nil
		})
		if n != 500 {
			b.Fatalf("%d stale, want 500", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/file")
}

func BenchmarkParseWriter(b *testing.B) {
	data := v1file.Python(4242, 1000, 1.7e9)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseWriter(data); err != nil {
			b.Fatal(err)
		}
	}
}
