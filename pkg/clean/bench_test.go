//go:build unix

package clean

import (
	"fmt"
	"os"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
)

// BenchmarkClean judges 1000 files, half live and half stale, per
// iteration (a dry run, so that every iteration sees the same files).
func BenchmarkClean(b *testing.B) {
	dir := b.TempDir()
	live := pythonFile(uint32(os.Getpid()), uint64(os.Getuid()), now())
	stale := pythonFile(testutil.ExitedPID(b), uint64(os.Getuid()), now())
	var paths []string
	for i := range 1000 {
		data := live
		if i%2 == 1 {
			data = stale
		}
		paths = append(paths, write(b, dir, fmt.Sprintf("f%04d.mmstats", i), data))
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
	data := pythonFile(4242, 1000, 1.7e9)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseWriter(data); err != nil {
			b.Fatal(err)
		}
	}
}
