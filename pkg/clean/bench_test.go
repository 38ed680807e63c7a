//go:build unix

package clean

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

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

// BenchmarkCleanLocks removes the stale half of 1000 files of the Go
// writer's kind (sys.flock), whose live half this process holds the
// locks of, as cleanstats DIR does: listed, read ahead, judged by their
// locks, the stale ones removed (written again between iterations,
// outside the timer).
func BenchmarkCleanLocks(b *testing.B) {
	dir := b.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "cleanbench-"); err == nil {
		dir = d
		b.Cleanup(func() { os.RemoveAll(d) })
	}
	data := goFile(uint32(os.Getpid()))
	var stale []string
	for i := range 1000 {
		p := testutil.WriteFile(b, dir, fmt.Sprintf("f%04d.mmstats", i), data)
		if i%2 == 1 {
			stale = append(stale, p)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
			b.Fatal(err)
		}
	}
	c := &Cleaner{}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, p := range stale {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		entries, err := MatchEntries(dir, DefaultPattern)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		c.CleanEntries(entries, func(r *Result) error {
			if r.Decision == Removed {
				n++
			}
			return nil
		})
		if n != len(stale) {
			b.Fatalf("%d removed, want %d", n, len(stale))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/file")
}
